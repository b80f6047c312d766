"""An in-memory :class:`onestop.sdk.StateStore` that keeps a journal of every delta."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from onestop.sdk import StateDelta, StateKey, StateRecord

__all__ = ["InMemoryStateStore"]


class InMemoryStateStore:
    """Counters in a dict, deltas in a journal, references applied once; records in a dict.

    ``journal`` lets tests prove the rule "reversals apply negative deltas, never snapshots": every
    change is a ``(reference, delta)`` entry, and the counters always equal the journal's sum.
    """

    def __init__(self) -> None:
        """Start empty."""
        self.values: dict[StateKey, int] = {}
        self.journal: list[tuple[str, StateDelta]] = []
        self.records: dict[tuple[str, str], StateRecord] = {}
        self._applied: set[str] = set()

    async def get(self, key: StateKey) -> int:
        """The counter's value (0 when never touched)."""
        return self.values.get(key, 0)

    async def apply(self, reference: str, deltas: Sequence[StateDelta], records: Sequence[StateRecord] = ()) -> bool:
        """Apply all ``deltas`` and write ``records`` under ``reference`` unless it was applied before."""
        if reference in self._applied:
            return False
        for d in deltas:
            if not isinstance(d, StateDelta):
                raise TypeError(f"a state store applies StateDelta values, got {type(d).__name__}")
        for r in records:
            if not isinstance(r, StateRecord):
                raise TypeError(f"a state store writes StateRecord values, got {type(r).__name__}")
        self._applied.add(reference)
        for d in deltas:
            self.values[d.key] = self.values.get(d.key, 0) + d.delta
            self.journal.append((reference, d))
        for r in records:
            self.records[(r.adapter, r.key)] = r
        return True

    async def record(self, adapter: str, key: str) -> StateRecord | None:
        """The record of ``adapter`` under ``key``, or None."""
        return self.records.get((adapter, key))

    async def records_on(self, adapter: str, day: dt.date) -> list[StateRecord]:
        """The records of ``adapter`` for ``day``, ordered by key."""
        return sorted((r for (a, _k), r in self.records.items() if a == adapter and r.day == day), key=lambda r: r.key)

    def replayed_values(self) -> dict[StateKey, int]:
        """The counters recomputed from the journal alone (must equal :attr:`values`)."""
        out: dict[StateKey, int] = {}
        for _ref, d in self.journal:
            out[d.key] = out.get(d.key, 0) + d.delta
        return out
