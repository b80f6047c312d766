"""The adapters' :class:`~onestop.sdk.StateStore`, kept in the gateway's database.

Each ``apply`` is one transaction: the reference row, every delta and every record, or nothing. The
reference's primary key makes a replayed apply a no-op, so a retried settle never counts twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

from onestop.gateway.store.repo import Store
from onestop.sdk import StateDelta, StateKey, StateRecord

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

    def apply_sync(self, reference: str, deltas: Sequence[StateDelta], records: Sequence[StateRecord] = ()) -> bool:
        """Apply ``deltas`` and write ``records`` once under ``reference``, from a plain thread."""
        with self._store.write() as conn:
            return self._store.apply_state(
                conn,
                reference,
                [(_k(d.key), d.delta) for d in deltas],
                [(r.adapter, r.key, r.day, r.body) for r in records],
            )

    def record_sync(self, adapter: str, key: str) -> StateRecord | None:
        """One record, from a plain thread."""
        with self._store.read() as conn:
            found = self._store.state_record(conn, adapter, key)
        return None if found is None else StateRecord(adapter, key, found[0], found[1])

    def records_on_sync(self, adapter: str, day: dt.date) -> list[StateRecord]:
        """A day's records, from a plain thread."""
        with self._store.read() as conn:
            rows = self._store.state_records_on(conn, adapter, day)
        return [StateRecord(adapter, key, day, body) for key, body in rows]

    async def get(self, key: StateKey) -> int:
        """The counter's current value (0 when never touched)."""
        return await asyncio.to_thread(self.get_sync, key)

    async def apply(self, reference: str, deltas: Sequence[StateDelta], records: Sequence[StateRecord] = ()) -> bool:
        """Apply ``deltas`` and write ``records`` atomically under ``reference``; False when already applied."""
        return await asyncio.to_thread(self.apply_sync, reference, deltas, records)

    async def record(self, adapter: str, key: str) -> StateRecord | None:
        """The record of ``adapter`` under ``key``, or None."""
        return await asyncio.to_thread(self.record_sync, adapter, key)

    async def records_on(self, adapter: str, day: dt.date) -> list[StateRecord]:
        """The records of ``adapter`` for ``day``, ordered by key."""
        return await asyncio.to_thread(self.records_on_sync, adapter, day)
