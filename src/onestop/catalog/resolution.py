"""The contract between the catalogs and the engine: how one bill line resolves on its date.

The engine never reads catalog tables; it asks a :class:`CatalogView` to resolve each line and
gets back a :class:`Resolution` — a small, slotted, immutable value (it sits on the per-line hot
path, so it is a dataclass, not a pydantic model).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from onestop.domain.codes import ChrgitmLv, ItemKind

if TYPE_CHECKING:
    from onestop.domain.bill import Bill, BillLine, Hospital

__all__ = [
    "AuditHit",
    "CatalogView",
    "CidlMatch",
    "HospitalPreparation",
    "MatchedBy",
    "Resolution",
    "Restriction",
    "RestrictionKind",
    "Standard",
    "StandardSource",
]


class MatchedBy(StrEnum):
    """How a line found its catalog entry (or CIDL entry)."""

    NATIONAL_CODE = "national_code"
    HOSPITAL_MAP = "hospital_map"
    NAME = "name"  # generic name (+ dosage form); CIDL only
    NONE = "none"


class RestrictionKind(StrEnum):
    """Restrictions parsed from a 备注 (the verbatim text is always kept too)."""

    WORK_INJURY_ONLY = "work_injury_only"  # 限工伤保险
    MATERNITY_ONLY = "maternity_only"  # 限生育保险
    CHILDREN = "children"  # 限儿童 (value: max age in years, default 18 exclusive)
    AGE_MIN = "age_min"  # value: minimum age in years
    AGE_MAX = "age_max"  # value: maximum age in years
    INPATIENT_ONLY = "inpatient_only"  # 限住院
    OUTPATIENT_ONLY = "outpatient_only"  # 限门诊
    FACILITY_LEVEL = "facility_level"  # 限二级及以上医疗机构 (value: minimum level 1..3)
    COURSE_DAYS = "course_days"  # 限支付N天 (value: days)
    INDICATION = "indication"  # indication/diagnosis restriction: needs hospital attestation


@dataclass(frozen=True, slots=True)
class Restriction:
    """One payment restriction parsed from a 备注."""

    kind: RestrictionKind
    text: str
    """The clause of the 备注 it was parsed from, verbatim (NFKC-normalised)."""
    value: int | None = None


class StandardSource(StrEnum):
    """Where a payment standard (支付标准) comes from."""

    NEGOTIATED = "negotiated"  # 协议期内谈判药品, national
    BID = "bid"  # 竞价药品, national
    VBP = "vbp"  # 集采 selected price (provincial)
    PRICE_CAP = "price_cap"  # 限价 (e.g. services, consumables)


@dataclass(frozen=True, slots=True)
class Standard:
    """A payment-standard row in force on the line's date, matched to the line's spec/unit."""

    source: StandardSource
    unit: str
    spec: str
    amount_fen: int | None
    """Per unit, fen. ``None`` only when confidential and no confidential source supplied it."""
    confidential: bool
    valid_from: dt.date
    valid_to: dt.date | None
    region: str
    """'000000' for national rows, else the admdvs the row applies to."""

    def __repr__(self) -> str:
        # A confidential number is for computation only: never let it reach a log line via repr().
        amount = "*" if self.confidential else repr(self.amount_fen)
        return (
            f"Standard(source={self.source.value!r}, unit={self.unit!r}, spec={self.spec!r}, amount_fen={amount}, "
            f"confidential={self.confidential}, valid_from={self.valid_from}, valid_to={self.valid_to}, "
            f"region={self.region!r})"
        )


@dataclass(frozen=True, slots=True)
class CidlMatch:
    """A line identified as a 商保创新药目录 drug."""

    no: int
    name: str
    matched_by: MatchedBy
    category_code: str
    """NHSA drug class, e.g. XL01XL for CAR-T."""

    @property
    def is_car_t(self) -> bool:
        """True for CAR-T cell products (class XL01XL)."""
        return self.category_code == "XL01XL"


@dataclass(frozen=True, slots=True)
class HospitalPreparation:
    """A 医疗机构制剂 on the provincial list."""

    producer_codes: tuple[str, ...]
    """fixmedins codes of the producing hospitals."""
    group_approved: bool
    """Approved for use across the producer's hospital group (调剂使用)."""
    groups: tuple[str, ...]
    """Hospital groups in which it is approved."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the catalogs say about one bill line on its date, in its treatment region."""

    in_catalog: bool
    matched_by: MatchedBy
    kind: ItemKind
    edition: str
    """Id of the catalog edition consulted, e.g. ``nrdl-2025``; recorded in the settlement."""
    national_code: str = ""
    name: str = ""
    dosage_form: str = ""
    chrgitm_lv: ChrgitmLv = ChrgitmLv.C
    section: str = ""
    """西药 / 中成药 / 协议期内谈判药品 / 竞价药品 / 中药饮片 / 医疗机构制剂, or a service/consumable class."""
    negotiated: bool = False
    remark: str = ""
    """备注 verbatim."""
    restrictions: tuple[Restriction, ...] = ()
    standard: Standard | None = None
    selfpay_ratio: Decimal | None = None
    """Per-item 先行自付 ratio when the catalog or province gives one (else the policy's 乙类 ratio)."""
    transition_until: dt.date | None = None
    """Removed negotiated drug paid at its original standard until this date (inclusive)."""
    cidl: CidlMatch | None = None
    hospital_preparation: HospitalPreparation | None = None
    dual_channel: bool = False
    """On the province's 双通道 list on the line's date."""
    two_diseases: bool = False
    """On the province's 两病 outpatient drug list on the line's date."""
    notes: tuple[str, ...] = field(default=())
    """Warnings produced while resolving (e.g. an unparsed standard kept as text)."""


@dataclass(frozen=True, slots=True)
class AuditHit:
    """A hit of an NHSA 两库 audit rule: a warning, never a payment refusal."""

    rule_set: str
    """e.g. ``b1_drug_age_limit``."""
    feedetl_sn: str
    message: str


class CatalogView(Protocol):
    """What the engine needs from the catalogs."""

    def resolve(self, line: BillLine, hospital: Hospital) -> Resolution:
        """Resolve a line on its own date in the hospital's (treatment) region.

        Raises:
            onestop.errors.NoEditionInForce: no loaded edition of the line's catalog covers its date.
        """
        ...

    def audit(self, bill: Bill) -> tuple[AuditHit, ...]:
        """Run the NHSA audit rule lists over a bill; hits are warnings."""
        ...
