"""State owned by stateful adapters, stored by the host: integer counters changed only by deltas.

A 惠民保 product keeps member-year accumulators (deductible used, paid per liability). The adapter
never stores them itself: the host gives it a :class:`StateStore` (in memory in tests, the gateway's
database in production). Every change is a delta applied under the leg's reference, so a replayed
settle does not count twice, and a reversal applies the negated deltas — never a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["StateDelta", "StateKey", "StateStore", "negate"]


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


class StateStore(Protocol):
    """The storage interface a host provides to stateful adapters."""

    async def get(self, key: StateKey) -> int:
        """The counter's current value (0 when never touched)."""
        ...

    async def apply(self, reference: str, deltas: Sequence[StateDelta]) -> bool:
        """Apply ``deltas`` atomically under ``reference``.

        Args:
            reference: The operation's own id (e.g. the leg reference, or ``<reference>:cancel``).
            deltas: The changes; all or none are applied.

        Returns:
            True when applied now; False when ``reference`` was already applied (a replay: nothing changes).
        """
        ...


def negate(deltas: Iterable[StateDelta]) -> tuple[StateDelta, ...]:
    """The deltas that undo ``deltas`` (for cancel, refund and reversal)."""
    return tuple(StateDelta(d.key, -d.delta) for d in deltas)
