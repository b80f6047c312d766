"""One frozen input model and one result model per insurer flow.

Inputs wrap what the flow needs (the engine's :class:`~onestop.domain.offer.Offer` for pre-settle
and settle), so a new optional field never breaks an adapter's code. Payment results convert to the
engine's :class:`~onestop.domain.offer.CommercialAnswer` with :meth:`PaymentResult.to_answer`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from onestop.domain.offer import AnswerStatus, Category, CommercialAnswer, LinePayment, Offer
from onestop.money import Fen
from onestop.sdk._reasons import ReasonCode

__all__ = [
    "CancelInput",
    "CancelOutcome",
    "CancelResult",
    "EligibilityInput",
    "EligibilityResult",
    "PaymentResult",
    "PreSettleInput",
    "PreSettleResult",
    "QueryInput",
    "QueryResult",
    "ReconcileInput",
    "ReconcileResult",
    "SettleInput",
    "SettleResult",
]

NonNegFen = Annotated[Fen, Field(ge=0)]
_PAYING = frozenset({AnswerStatus.APPROVED, AnswerStatus.PARTIAL})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


# --- eligibility -----------------------------------------------------------------------------------


class EligibilityInput(_Model):
    """Is the member covered, and what is left of the benefits."""

    reference: str
    payer: str
    product: str
    policy_no: str
    member_ref: str
    """Pseudonymous member reference (as in the offer)."""
    on_date: dt.date


class EligibilityResult(_Model):
    """Eligibility and remaining benefits."""

    reference: str
    eligible: bool
    reason: ReasonCode = ReasonCode.NONE
    raw_code: str = ""
    raw_message: str = ""
    remaining_fen: dict[str, NonNegFen] = Field(default_factory=dict)
    """Remaining sum insured per liability (``in_catalog``, ``special_drug`` …), when the insurer says."""


# --- pre-settle / settle ---------------------------------------------------------------------------


class PreSettleInput(_Model):
    """Trial: what would be paid for this offer. No payment, no state change."""

    offer: Offer


class SettleInput(_Model):
    """Confirm: pay this offer. ``offer.reference`` is the idempotency key at the insurer."""

    offer: Offer


class PaymentResult(_Model):
    """What an insurer pays (or would pay) for one offer, per line or per category total."""

    reference: str
    """Must echo the offer's reference."""
    payer: str
    """Must echo the offer's payer."""
    status: AnswerStatus
    lines: tuple[LinePayment, ...] = ()
    """Per-line payments (adapters with ``OfferDetail.LINES`` and an offer carrying lines)."""
    totals: dict[Category, NonNegFen] = Field(default_factory=dict)
    """Per-category totals (the engine allocates them to lines)."""
    reason: ReasonCode = ReasonCode.NONE
    raw_code: str = ""
    """The insurer's own status or error code, unchanged."""
    raw_message: str = ""
    payer_claim_id: str = ""
    """The insurer's own claim/order id."""

    @model_validator(mode="after")
    def _payments_only_when_paying(self) -> PaymentResult:
        if self.status not in _PAYING and (self.lines or any(self.totals.values())):
            raise ValueError(f"a {self.status.value} result cannot carry payments")
        return self

    @property
    def paid_fen(self) -> int:
        """Total paid over lines or totals."""
        if self.lines:
            return sum(int(v) for lp in self.lines for v in lp.amounts.values())
        return sum(int(v) for v in self.totals.values())

    def paid_by_category(self) -> dict[Category, int]:
        """Paid per category, whichever form the result is in."""
        out: dict[Category, int] = {}
        if self.lines:
            for lp in self.lines:
                for c, v in lp.amounts.items():
                    out[c] = out.get(c, 0) + int(v)
        else:
            for c, v in self.totals.items():
                out[c] = out.get(c, 0) + int(v)
        return out

    def to_answer(self) -> CommercialAnswer:
        """The engine's :class:`CommercialAnswer` for this result."""
        return CommercialAnswer(
            reference=self.reference,
            payer=self.payer,
            status=self.status,
            lines=self.lines,
            totals={c: v for c, v in self.totals.items() if v},
            reason=self.reason.value,
            raw_code=self.raw_code,
            raw_message=self.raw_message,
            payer_claim_id=self.payer_claim_id,
        )


class PreSettleResult(PaymentResult):
    """The trial answer; for the same input, settle must answer the same payments."""


class SettleResult(PaymentResult):
    """The confirmed answer (or UNKNOWN/PENDING when the outcome is not known yet)."""


# --- query -----------------------------------------------------------------------------------------


class QueryInput(_Model):
    """Status of a leg by the gateway's own reference."""

    reference: str
    payer: str


class QueryResult(PaymentResult):
    """A leg as the insurer knows it; ``found=False`` is the definitive "no such leg"."""

    found: bool
    cancelled: bool = False
    """Cancelled or refunded since: nothing is owed by the insurer any more."""

    @model_validator(mode="after")
    def _not_found_is_empty(self) -> QueryResult:
        if not self.found and (self.paid_fen or self.cancelled or self.payer_claim_id):
            raise ValueError("a not-found leg carries no payments, claim id or cancellation")
        return self

    def to_settle_result(self) -> SettleResult:
        """The settle result this query shows (for a found, not cancelled leg)."""
        return SettleResult(**self.model_dump(exclude={"found", "cancelled"}, round_trip=True))


# --- cancel ----------------------------------------------------------------------------------------


class CancelOutcome(StrEnum):
    """How a cancel ended."""

    CANCELLED = "cancelled"
    """Cancelled before any money moved."""
    REFUNDED = "refunded"
    """Money had moved; it is refunded."""
    NOTHING_TO_CANCEL = "nothing_to_cancel"
    """No such leg at the insurer, or already cancelled/refunded (cancel is idempotent)."""
    REFUSED = "refused"
    """The insurer refused (the raw code says why); a human or a later pass must act."""


class CancelInput(_Model):
    """Undo a leg by the gateway's reference."""

    reference: str
    payer: str
    reason: str = ""
    """Why (free text for the insurer's records; no personal data)."""


class CancelResult(_Model):
    """The outcome of a cancel."""

    reference: str
    outcome: CancelOutcome
    refunded_fen: NonNegFen = Fen(0)
    raw_code: str = ""
    raw_message: str = ""


# --- reconcile -------------------------------------------------------------------------------------


class ReconcileInput(_Model):
    """Totals of one day at the insurer."""

    payer: str
    day: dt.date


class ReconcileResult(_Model):
    """The insurer's totals for the day: legs paid and not cancelled."""

    payer: str
    day: dt.date
    count: Annotated[int, Field(ge=0)]
    paid_fen: NonNegFen
    references: tuple[str, ...] = ()
    """The references counted, when the insurer lists them."""
