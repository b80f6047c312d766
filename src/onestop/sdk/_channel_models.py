"""One frozen input model and one result model per fund-channel flow.

The fund leg a channel returns is the engine's own shape (:class:`~onestop.domain.settlement.BasicLeg`,
:class:`~onestop.domain.settlement.WorkInjuryLeg` or :class:`~onestop.domain.settlement.MaternityLeg`),
so what a centre settles and what the engine computes compare field by field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from onestop.domain.bill import Bill
from onestop.domain.codes import CertType
from onestop.domain.offer import AnswerStatus
from onestop.domain.settlement import BasicLeg, MaternityLeg, WorkInjuryLeg
from onestop.money import Fen
from onestop.sdk._flows import ChannelFlow
from onestop.sdk._reasons import ReasonCode

__all__ = [
    "AccumulatorsInput",
    "AccumulatorsResult",
    "ChannelCancelInput",
    "ChannelCancelResult",
    "ChannelPreSettleInput",
    "ChannelReconcileInput",
    "ChannelReconcileResult",
    "ChannelSettleInput",
    "ChannelSettleResult",
    "FundLegPayload",
    "LineSplit",
    "PersonLookupInput",
    "PersonLookupResult",
    "RegisterVisitInput",
    "RegisterVisitResult",
    "ReversalInput",
    "ReversalOutcome",
    "ReversalResult",
    "UploadFeeDetailInput",
    "UploadFeeDetailResult",
]

NonNegFen = Annotated[Fen, Field(ge=0)]

#: The fund leg a channel settles, discriminated by ``kind``.
FundLegPayload = Annotated[BasicLeg | WorkInjuryLeg | MaternityLeg, Field(discriminator="kind")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class _Raw(_Model):
    reference: str
    """Echo of the input's reference (the gateway's own message id)."""
    reason: ReasonCode = ReasonCode.NONE
    raw_code: str = ""
    raw_message: str = ""


class PersonLookupInput(_Model):
    """Who is this person at the fund (NHSA 1101), or is the injury recognised (work injury)."""

    reference: str
    cert_type: CertType
    cert_no: SecretStr
    """Personal data: a SecretStr so it is never printed or logged."""
    on_date: dt.date
    insured_region: str = ""


class PersonLookupResult(_Raw):
    """The person as the fund knows it."""

    found: bool
    psn_no: SecretStr = SecretStr("")
    insutypes: tuple[str, ...] = ()
    psn_type: str = ""
    eligible: bool = False
    account_balance_fen: NonNegFen = Fen(0)
    work_injury_decision_id: str = ""
    """Recognition decision (work-injury channels)."""


class RegisterVisitInput(_Model):
    """Register the visit (NHSA 2201 outpatient / 2401 admission)."""

    reference: str
    bill: Bill


class RegisterVisitResult(_Raw):
    """The centre's visit id."""

    mdtrt_id: str


class UploadFeeDetailInput(_Model):
    """Upload the fee lines (NHSA 2204 / 2301)."""

    reference: str
    bill: Bill
    mdtrt_id: str


class LineSplit(_Model):
    """The centre's split of one line (NHSA 2204/2301 ``result[]``)."""

    feedetl_sn: str
    det_item_fee_sumamt: NonNegFen
    fulamt_ownpay_amt: NonNegFen
    overlmt_amt: NonNegFen
    preselfpay_amt: NonNegFen
    inscp_scp_amt: NonNegFen
    chrgitm_lv: str = ""
    selfpay_prop: Decimal = Decimal(0)


class UploadFeeDetailResult(_Raw):
    """Per-line split as the centre computed it (empty when the channel does not return it)."""

    lines: tuple[LineSplit, ...] = ()


class ChannelPreSettleInput(_Model):
    """Trial settlement of the bill's fund leg (NHSA 2206 / 2303)."""

    reference: str
    bill: Bill
    mdtrt_id: str = ""


class ChannelSettleInput(_Model):
    """Settlement of the bill's fund leg (NHSA 2207 / 2304): sent once, never re-sent."""

    reference: str
    bill: Bill
    mdtrt_id: str = ""


class ChannelSettleResult(_Raw):
    """The fund leg as settled (or tried); ``leg`` is present when status is APPROVED or PARTIAL."""

    status: AnswerStatus
    leg: FundLegPayload | None = None
    setl_id: str = ""
    """The centre's settlement id (needed to cancel)."""

    @model_validator(mode="after")
    def _leg_when_settled(self) -> ChannelSettleResult:
        paying = self.status in (AnswerStatus.APPROVED, AnswerStatus.PARTIAL)
        if paying and self.leg is None:
            raise ValueError(f"a {self.status.value} channel result carries the fund leg")
        if not paying and self.leg is not None:
            raise ValueError(f"a {self.status.value} channel result carries no fund leg")
        return self


class ChannelCancelInput(_Model):
    """Cancel a settlement (NHSA 2208 / 2305)."""

    reference: str
    original_reference: str
    setl_id: str = ""


class ChannelCancelResult(_Raw):
    """How the cancel ended (same outcomes as an insurer cancel)."""

    outcome: str
    """``cancelled`` | ``nothing_to_cancel`` | ``refused``."""


class ReversalOutcome(StrEnum):
    """How a reversal ended."""

    REVERSED = "reversed"
    NOTHING_TO_REVERSE = "nothing_to_reverse"
    """The original message never took effect (definitive not found)."""
    REFUSED = "refused"


class ReversalInput(_Model):
    """Reverse a message by its original reference (NHSA 2601: omsgid, oinfno)."""

    reference: str
    original_reference: str
    original_flow: ChannelFlow


class ReversalResult(_Raw):
    """The outcome of a reversal."""

    outcome: ReversalOutcome


class AccumulatorsInput(_Model):
    """Year-to-date accumulators of a person (NHSA 5206)."""

    reference: str
    psn_no: SecretStr
    year: int
    insutype: str = ""


class AccumulatorsResult(_Raw):
    """Counters by key, e.g. ``310:2026:deductible``."""

    values: dict[str, Fen] = Field(default_factory=dict)


class ChannelReconcileInput(_Model):
    """Totals reconciliation (NHSA 3201) for one day."""

    reference: str
    day: dt.date
    insutype: str = ""


class ChannelReconcileResult(_Raw):
    """The centre's totals and whether they agree with the ones sent."""

    count: Annotated[int, Field(ge=0)]
    medfee_sumamt: NonNegFen
    fund_pay_sumamt: NonNegFen
    acct_pay: NonNegFen = Fen(0)
    agreed: bool = True
