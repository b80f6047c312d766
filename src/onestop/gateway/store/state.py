"""The adapters' :class:`~onestop.sdk.StateStore`, kept in the gateway's database.

Each ``apply`` is one transaction: the reference row and every delta, or nothing. The reference's
primary key makes a replayed apply a no-op, so a retried settle never counts twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from onestop.gateway.store.repo import Store
from onestop.sdk import StateDelta, StateKey

__all__ = ["SqlStateStore"]


def _k(key: StateKey) -> tuple[str, str, str, int, str]:
    return (key.adapter, key.product, key.member, key.year, key.key)


class SqlStateStore:
    """A StateStore over the ``adapter_state`` tables.

    Args:
        store: The gateway's store.
    """

    def __init__(self, store: Store) -> None:
        """Keep the store."""
        self._store = store

    def get_sync(self, key: StateKey) -> int:
        """The counter's value, from a plain thread."""
        with self._store.read() as conn:
            return self._store.state_value(conn, _k(key))

    def apply_sync(self, reference: str, deltas: Sequence[StateDelta]) -> bool:
        """Apply ``deltas`` once under ``reference``, from a plain thread."""
        with self._store.write() as conn:
            return self._store.apply_state(conn, reference, [(_k(d.key), d.delta) for d in deltas])

    async def get(self, key: StateKey) -> int:
        """The counter's current value (0 when never touched)."""
        return await asyncio.to_thread(self.get_sync, key)

    async def apply(self, reference: str, deltas: Sequence[StateDelta]) -> bool:
        """Apply ``deltas`` atomically under ``reference``; False when already applied."""
        return await asyncio.to_thread(self.apply_sync, reference, deltas)
