"""An in-memory :class:`onestop.sdk.StateStore` that keeps a journal of every delta."""

from __future__ import annotations

from collections.abc import Sequence

from onestop.sdk import StateDelta, StateKey

__all__ = ["InMemoryStateStore"]


class InMemoryStateStore:
    """Counters in a dict, deltas in a journal, references applied once.

    ``journal`` lets tests prove the rule "reversals apply negative deltas, never snapshots": every
    change is a ``(reference, delta)`` entry, and the counters always equal the journal's sum.
    """

    def __init__(self) -> None:
        """Start empty."""
        self.values: dict[StateKey, int] = {}
        self.journal: list[tuple[str, StateDelta]] = []
        self._applied: set[str] = set()

    async def get(self, key: StateKey) -> int:
        """The counter's value (0 when never touched)."""
        return self.values.get(key, 0)

    async def apply(self, reference: str, deltas: Sequence[StateDelta]) -> bool:
        """Apply all ``deltas`` under ``reference`` unless that reference was applied before."""
        if reference in self._applied:
            return False
        for d in deltas:
            if not isinstance(d, StateDelta):
                raise TypeError(f"a state store applies StateDelta values, got {type(d).__name__}")
        self._applied.add(reference)
        for d in deltas:
            self.values[d.key] = self.values.get(d.key, 0) + d.delta
            self.journal.append((reference, d))
        return True

    def replayed_values(self) -> dict[StateKey, int]:
        """The counters recomputed from the journal alone (must equal :attr:`values`)."""
        out: dict[StateKey, int] = {}
        for _ref, d in self.journal:
            out[d.key] = out.get(d.key, 0) + d.delta
        return out
