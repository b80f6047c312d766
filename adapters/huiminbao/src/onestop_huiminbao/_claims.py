"""The insurer's claim book: one record per leg reference (what query, cancel and reconcile read)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from onestop.sdk import SettleResult, StateDelta

__all__ = ["ClaimBook", "ClaimRecord", "InMemoryClaimBook"]


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """A settled leg as the insurer booked it.

    Attributes:
        result: The settle answer given (returned again on a replay).
        deltas: The accumulator deltas applied under the leg's reference (a cancel applies their negation).
        day: The day the leg was booked (reconcile's day, UTC).
        cancelled: Cancelled or refunded since.
    """

    result: SettleResult
    deltas: tuple[StateDelta, ...]
    day: dt.date
    cancelled: bool = False


class ClaimBook(Protocol):
    """Where the adapter keeps its legs; the counters themselves live in the host's state store."""

    def get(self, reference: str) -> ClaimRecord | None:
        """The leg booked under ``reference``, or None."""
        ...

    def put(self, reference: str, record: ClaimRecord) -> None:
        """Book or update the leg under ``reference``."""
        ...

    def on_day(self, day: dt.date) -> list[tuple[str, ClaimRecord]]:
        """Every leg booked on ``day``, by reference."""
        ...


class InMemoryClaimBook:
    """A claim book in a dict (the default; a host that needs it durable passes its own :class:`ClaimBook`)."""

    def __init__(self) -> None:
        """Start empty."""
        self._records: dict[str, ClaimRecord] = {}

    def get(self, reference: str) -> ClaimRecord | None:
        """The leg booked under ``reference``, or None."""
        return self._records.get(reference)

    def put(self, reference: str, record: ClaimRecord) -> None:
        """Book or update the leg under ``reference``."""
        self._records[reference] = record

    def on_day(self, day: dt.date) -> list[tuple[str, ClaimRecord]]:
        """Every leg booked on ``day``, in booking order."""
        return [(ref, rec) for ref, rec in self._records.items() if rec.day == day]
