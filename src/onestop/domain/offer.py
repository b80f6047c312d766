"""What the engine offers each commercial payer, and the answer it accepts back.

After the funds have settled, every line has a *remaining liability* — what the patient would
still pay — split into fixed categories. A commercial payer is offered that liability (per line,
or as category totals when the patient did not consent to share line detail, or the payer only
works with totals) and answers with what it pays, never more than offered on any line and
category. Payers run one after another, each offered what the previous ones left.

Confidential payment standards: a line whose standard is confidential is offered without
quantity, unit price or per-unit figures (``confidential=True``), so nothing an insurer receives
lets it derive the standard.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onestop.domain.codes import ChargeCategory, ChrgitmLv
from onestop.money import Fen

__all__ = [
    "CATEGORY_ORDER",
    "AnswerStatus",
    "Category",
    "CommercialAnswer",
    "LineOffer",
    "LinePayment",
    "Offer",
]


class Category(StrEnum):
    """The categories of a patient's remaining liability (what a commercial payer can pay)."""

    FULAMT_OWNPAY = "fulamt_ownpay"
    """全自费 outside the basic catalog or restriction not met — excluding CIDL drugs."""
    CIDL = "cidl"
    """商保创新药目录 drugs: never fund-payable, the commercial payers' own category."""
    OVERLMT = "overlmt"
    """超限价: the part of the price above the payment standard."""
    PRESELFPAY = "preselfpay"
    """先行自付: the 乙类 first self-pay share."""
    DEDUCTIBLE = "deductible"
    """起付线 borne by the patient (allocated to lines by in-scope amount)."""
    COPAY = "copay"
    """In-scope amount no fund paid: the co-pay share and anything above fund caps."""
    ACCOUNT_PAID = "account_paid"
    """Already paid from the personal account (only when the policy orders the account first)."""


#: Canonical order for output and iteration.
CATEGORY_ORDER: tuple[Category, ...] = tuple(Category)

#: Categories a payer may pay from (ACCOUNT_PAID is already settled, informational only).
PAYABLE: frozenset[Category] = frozenset(c for c in Category if c is not Category.ACCOUNT_PAID)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


Amounts = Mapping[Category, Fen]


class LineOffer(_Model):
    """One line's remaining liability, by category (only non-zero categories present)."""

    feedetl_sn: str
    name: str
    """Item name as charged."""
    national_code: str = ""
    category: ChargeCategory
    chrgitm_lv: ChrgitmLv
    """甲/乙/丙 as resolved (丙 for out of catalog and CIDL)."""
    in_catalog: bool
    cidl_no: int | None = None
    """CIDL entry number (1–19) when the line is a CIDL drug."""
    work_related: bool = False
    amount_fen: Fen | None = None
    """Line amount; absent on a confidential line."""
    quantity: str | None = None
    """Quantity as exact text; absent on a confidential line."""
    confidential: bool = False
    """The line's payment standard is confidential: per-unit figures are withheld."""
    amounts: dict[Category, Fen]
    """Remaining liability per category, fen."""

    @property
    def total(self) -> int:
        """Sum of the payable categories on this line."""
        return sum(v for k, v in self.amounts.items() if k in PAYABLE)


class Offer(_Model):
    """What one commercial payer is offered for one bill."""

    reference: str
    """The gateway's own reference for this leg (idempotency key at the payer)."""
    payer: str
    product: str
    policy_no: str
    member_ref: str
    """Pseudonymous member reference (never the certificate number or name)."""
    med_type: str
    admission_date: str
    discharge_date: str
    diagnoses: tuple[str, ...]
    """Diagnosis codes, principal first (pre-existing-condition rules need them)."""
    hospital_code: str
    hospital_tier: str
    fund_paid_fen: Fen
    """What the funds (basic, work injury, maternity) paid on this bill."""
    lines: tuple[LineOffer, ...] = ()
    """Per-line detail; empty when the patient did not consent to share it."""
    totals: dict[Category, Fen]
    """Remaining liability per category over the whole bill."""

    @property
    def total(self) -> int:
        """Sum of the payable categories over the bill."""
        return sum(v for k, v in self.totals.items() if k in PAYABLE)


class AnswerStatus(StrEnum):
    """Unified status of a payer's answer."""

    APPROVED = "approved"
    PARTIAL = "partial"
    DECLINED = "declined"
    PENDING = "pending"
    UNKNOWN = "unknown"


class LinePayment(_Model):
    """What a payer pays on one line, by category."""

    feedetl_sn: str
    amounts: dict[Category, Annotated[Fen, Field(ge=0)]]
    reason: str = ""
    """Payer's reason code for this line (unified), e.g. ``DEDUCTIBLE_NOT_MET``."""


class CommercialAnswer(_Model):
    """A payer's answer to an :class:`Offer`, per line or per category total."""

    reference: str
    """Must echo the offer's reference."""
    payer: str
    status: AnswerStatus
    lines: tuple[LinePayment, ...] = ()
    """Per-line payments (when the payer works per line)."""
    totals: dict[Category, Annotated[Fen, Field(ge=0)]] = Field(default_factory=dict)
    """Per-category totals (when the payer works with totals); the engine allocates them to lines."""
    reason: str = ""
    """Unified reason for the whole answer (e.g. DECLINED: ``NOT_COVERED``)."""
    raw_code: str = ""
    raw_message: str = ""
    payer_claim_id: str = ""
    """The payer's own claim/order id."""

    @field_validator("totals", mode="after")
    @classmethod
    def _payable_only(cls, v: dict[Category, Fen]) -> dict[Category, Fen]:
        if Category.ACCOUNT_PAID in v:
            raise ValueError("ACCOUNT_PAID is already settled and cannot be paid by a payer")
        return v
