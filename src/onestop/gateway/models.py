"""Result models of the gateway service: what transport renders to the wire.

Every model is frozen and strict. Money is integer fen. A :class:`SettleOutcome` carries the
engine's :class:`~onestop.domain.settlement.Settlement` unchanged, so a replay (same hospital,
request id and body) hands transport an object equal to the first answer's.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from onestop.domain.settlement import Settlement
from onestop.money import Fen

__all__ = [
    "LegKind",
    "LegOutcome",
    "LegStatus",
    "MaintenanceReport",
    "ReconcileDetail",
    "ReconcileLine",
    "ReconcileReport",
    "ResolverEntry",
    "ReverseOutcome",
    "SettleOutcome",
    "SettlementPage",
    "SettlementRecord",
    "SettlementStatus",
]

NonNegFen = Annotated[Fen, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class SettlementStatus(StrEnum):
    """Where a settlement stands; derived from its legs."""

    PENDING = "pending"
    """Intent recorded, outcome not yet known (a crash or an unresolved fund leg); recovery drives it."""
    SETTLED = "settled"
    """Every fund leg stands; commercial legs paid what they paid (declined/unknown ones paid nothing)."""
    FAILED = "failed"
    """A fund leg did not stand: nothing remains at any payer (or it is on the resolver queue)."""
    REVERSED = "reversed"
    """Undone after settling: every leg reversed with its own reference."""


class LegKind(StrEnum):
    """Which payer a leg went to."""

    BASIC = "basic"
    WORK_INJURY = "work_injury"
    MATERNITY = "maternity"
    COMMERCIAL = "commercial"


class LegStatus(StrEnum):
    """The state machine of one leg (reliability.md §1.5)."""

    NEW = "new"
    """Recorded with its reference, not sent yet."""
    CALLED = "called"
    """Sent; the answer is not recorded yet (after a crash: resolve by query/reversal, never re-send)."""
    APPROVED = "approved"
    PARTIAL = "partial"
    DECLINED = "declined"
    UNKNOWN = "unknown"
    """Outcome unknown at the deadline: unpaid in the answer, on the resolver queue."""
    REVERSING = "reversing"
    REVERSED = "reversed"
    CANCELLED = "cancelled"
    """An unknown or compensated commercial leg the resolver cancelled (nothing stands)."""
    FAILED = "failed"
    """Definitively not done at the payer."""


class LegOutcome(_Model):
    """One leg of a settlement, as the cashier and the hospital see it."""

    kind: LegKind
    payer: str
    """``local`` / channel name for fund legs, the adapter name for commercial legs."""
    reference: str
    """The gateway's own reference for the leg (idempotency key at the payer)."""
    status: LegStatus
    paid_fen: NonNegFen
    reason: str = ""
    """Why the leg paid less than offered, or nothing (unified reason code)."""


class SettleOutcome(_Model):
    """The answer to a settle (or a supplementary settlement)."""

    settlement_id: str
    status: SettlementStatus
    settlement: Settlement
    replayed: bool
    """True when this is the stored answer of an earlier identical request."""
    legs: tuple[LegOutcome, ...]


class ReverseOutcome(_Model):
    """The answer to a reversal; replaying it returns the same figures."""

    settlement_id: str
    status: SettlementStatus
    replayed: bool
    legs: tuple[LegOutcome, ...]
    """Every leg as it stands after the reversal (REVERSED, CANCELLED, or still REVERSING on the queue)."""
    reversed_fen: NonNegFen
    """Σ what payers gave back (funds and commercial)."""


class SettlementRecord(_Model):
    """A stored settlement as its hospital may read it."""

    settlement_id: str
    hospital_code: str
    request_id: str
    status: SettlementStatus
    created_at: dt.datetime
    settle_date: dt.date
    mdtrt_id: str
    medfee_sumamt: NonNegFen
    settlement: Settlement | None
    """None only while PENDING or for a settlement that failed before the engine answered."""
    legs: tuple[LegOutcome, ...]
    error_reason: str = ""
    """For FAILED: the ErrorInfo reason the first answer carried."""


class SettlementPage(_Model):
    """One page of a hospital's settlements, oldest first."""

    items: tuple[SettlementRecord, ...]
    next_page_token: str
    """Empty on the last page."""


class ReconcileLine(_Model):
    """Totals of one payer and fund type on one day (3201 对总账 shape)."""

    payer: str
    """``fund:<fund_pay_type>``, ``work_injury``, ``account`` or ``commercial:<adapter>``."""
    insutype: str
    settled_count: int
    settled_fen: NonNegFen
    reversed_count: int
    reversed_fen: NonNegFen
    net_fen: Fen
    """settled − reversed."""


class ReconcileDetail(_Model):
    """One settlement behind a day's totals (3202 对明细账 shape)."""

    settlement_id: str
    mdtrt_id: str
    insutype: str
    kind: str
    """``settled`` (settled that day) or ``reversed`` (reversed that day)."""
    medfee_sumamt: NonNegFen
    fund_fen: NonNegFen
    """Basic, work-injury and maternity funds and the employer's share."""
    account_fen: NonNegFen
    commercial_fen: NonNegFen
    patient_cash_fen: NonNegFen


class ReconcileReport(_Model):
    """A hospital's day: totals per payer and fund type, plus the settlements behind them."""

    hospital_code: str
    day: dt.date
    count: int
    medfee_sumamt: NonNegFen
    lines: tuple[ReconcileLine, ...]
    settlement_ids: tuple[str, ...]
    details: tuple[ReconcileDetail, ...] = ()
    """Each settlement settled or reversed that day, with its amounts."""


class MaintenanceReport(_Model):
    """What one :meth:`~onestop.gateway.Gateway.maintenance` pass did."""

    resolved: Annotated[int, Field(ge=0)]
    """Resolver entries closed (legs cancelled, reversed or undone at their payer)."""
    reaped_keys: Annotated[int, Field(ge=0)]
    """Finished idempotency keys deleted because they were older than the retention."""
    manual: Annotated[int, Field(ge=0)] = 0
    """Entries on the manual queue after the pass: legs a person must close at the payer."""
    recovered: Annotated[int, Field(ge=0)] = 0
    """Interrupted settlements (intents untouched for the lease) driven to an outcome."""


class ResolverEntry(_Model):
    """A leg handed to the resolver: a commercial leg to cancel, a fund leg to reverse or undo."""

    reference: str
    """The gateway's own reference of the leg at its payer."""
    action: str
    """``cancel`` (commercial), ``reverse`` (fund settle of unknown outcome) or ``undo`` (fund leg to cancel)."""
    settlement_id: str
    payer: str
    kind: str
    """``commercial``, ``basic``, ``work_injury`` or ``maternity``."""
    offered_fen: Annotated[int, Field(ge=0)]
    """What the leg was offered (commercial) in fen: the most the payer can have paid."""
    reason: str
    """Why the leg was handed over (e.g. ``OUTCOME_UNKNOWN``)."""
    state: str
    """``open`` (the resolver retries it), ``done``, or ``manual`` (past the attempt budget)."""
    attempts: Annotated[int, Field(ge=0)]
    last_error: str
    created_at: dt.datetime
    updated_at: dt.datetime
