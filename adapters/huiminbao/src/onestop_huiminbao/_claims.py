"""The insurer's claim book: one record per leg reference (what query, cancel and reconcile read).

The book lives in the host's :class:`~onestop.sdk.StateStore` as records, each written in the same
atomic ``apply`` as the accumulator deltas of its leg (or of the leg's cancel): a leg is booked if
and only if its deltas were applied, and a gateway restarted, or another worker, reads the same book.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from onestop.sdk import SettleResult, StateDelta, StateKey, StateRecord, StateStore

__all__ = ["ClaimBook", "ClaimRecord"]


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

    def to_json(self) -> str:
        """The record as stored."""
        doc: dict[str, Any] = {
            # Kept as the answer's own JSON: the strict model reads its enums back only from JSON.
            "result": self.result.model_dump_json(),
            "deltas": [
                [d.key.adapter, d.key.product, d.key.member, d.key.year, d.key.key, d.delta] for d in self.deltas
            ],
            "cancelled": self.cancelled,
        }
        return json.dumps(doc, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, body: str, day: dt.date) -> ClaimRecord:
        """A record read back from the store."""
        doc = json.loads(body)
        return cls(
            result=SettleResult.model_validate_json(doc["result"]),
            deltas=tuple(StateDelta(StateKey(a, p, m, int(y), k), int(v)) for a, p, m, y, k, v in doc["deltas"]),
            day=day,
            cancelled=bool(doc["cancelled"]),
        )


class ClaimBook:
    """The legs an adapter booked, as records of the host's state store keyed by leg reference.

    Args:
        adapter: The adapter's name (the records' namespace).
        store: The host's state store.
    """

    def __init__(self, adapter: str, store: StateStore) -> None:
        """Keep the namespace and the store."""
        self.adapter = adapter
        self.store = store

    def record(self, reference: str, claim: ClaimRecord) -> StateRecord:
        """The state record that books ``claim`` under ``reference`` (pass it to ``store.apply``)."""
        return StateRecord(self.adapter, reference, claim.day, claim.to_json())

    async def get(self, reference: str) -> ClaimRecord | None:
        """The leg booked under ``reference``, or None."""
        found = await self.store.record(self.adapter, reference)
        return None if found is None else ClaimRecord.from_json(found.body, found.day)

    async def on_day(self, day: dt.date) -> list[tuple[str, ClaimRecord]]:
        """Every leg booked on ``day``, by reference (ordered by reference)."""
        return [(r.key, ClaimRecord.from_json(r.body, r.day)) for r in await self.store.records_on(self.adapter, day)]
