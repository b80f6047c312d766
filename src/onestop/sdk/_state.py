"""State owned by stateful adapters, stored by the host: integer counters changed only by deltas, and records.

A 惠民保 product keeps member-year accumulators (deductible used, paid per liability). The adapter
never stores them itself: the host gives it a :class:`StateStore` (in memory in tests, the gateway's
database in production). Every change is a delta applied under the leg's reference, so a replayed
settle does not count twice, and a reversal applies the negated deltas — never a snapshot.

An adapter also keeps what it answered (its claim book: the legs it booked, to answer a query, a
cancel or a reconcile after a restart, from any process) as :class:`StateRecord` values, written in
the same atomic ``apply`` as the deltas they go with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["StateDelta", "StateKey", "StateRecord", "StateStore", "negate"]


@dataclass(frozen=True, slots=True, order=True)
class StateKey:
    """Where a counter lives: (adapter, product, member, year, key)."""

    adapter: str
    product: str
    member: str
    """The pseudonymous member reference from the offer, never a certificate number."""
    year: int
    key: str
    """e.g. ``deductible_used`` or ``paid:in_catalog``."""


@dataclass(frozen=True, slots=True)
class StateDelta:
    """A signed change to one counter (fen or a count)."""

    key: StateKey
    delta: int

    def __post_init__(self) -> None:
        if isinstance(self.delta, bool) or not isinstance(self.delta, int):
            raise TypeError(f"a state delta is an integer, got {type(self.delta).__name__}")


@dataclass(frozen=True, slots=True)
class StateRecord:
    """A document an adapter keeps under its own key (e.g. a booked leg under the leg's reference).

    Attributes:
        adapter: The adapter's name (records of different adapters never meet).
        key: The record's key within the adapter (at most 200 characters).
        day: The business day it belongs to (what :meth:`StateStore.records_on` selects by).
        body: The document, as text (JSON, typically).
    """

    adapter: str
    key: str
    day: dt.date
    body: str

    def __post_init__(self) -> None:
        if not self.adapter or not self.key or len(self.key) > 200 or len(self.adapter) > 64:
            raise ValueError("a state record needs an adapter (≤ 64 characters) and a key (≤ 200 characters)")


class StateStore(Protocol):
    """The storage interface a host provides to stateful adapters."""

    async def get(self, key: StateKey) -> int:
        """The counter's current value (0 when never touched)."""
        ...

    async def apply(self, reference: str, deltas: Sequence[StateDelta], records: Sequence[StateRecord] = ()) -> bool:
        """Apply ``deltas`` and write ``records`` atomically under ``reference``.

        Args:
            reference: The operation's own id (e.g. the leg reference, or ``<reference>:cancel``).
            deltas: The changes; all or none are applied.
            records: Records written (created or replaced, by adapter and key) with the deltas.

        Returns:
            True when applied now; False when ``reference`` was already applied (a replay: nothing
            changes, records included).
        """
        ...

    async def record(self, adapter: str, key: str) -> StateRecord | None:
        """The record of ``adapter`` under ``key``, or None."""
        ...

    async def records_on(self, adapter: str, day: dt.date) -> list[StateRecord]:
        """The records of ``adapter`` for ``day``, ordered by key."""
        ...


def negate(deltas: Iterable[StateDelta]) -> tuple[StateDelta, ...]:
    """The deltas that undo ``deltas`` (for cancel, refund and reversal)."""
    return tuple(StateDelta(d.key, -d.delta) for d in deltas)
