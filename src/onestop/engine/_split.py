"""Line split for fund legs: 全自费 / 超限价 / 先行自付 / 政策范围内 (domain.md §1.4).

One function per leg kind decides, for one resolved line, how its amount divides. The four parts
always add up to the line amount exactly. This module is on the per-line hot path: plain
dataclasses and ints, no pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from onestop.catalog.resolution import Resolution, RestrictionKind, Standard
from onestop.domain.bill import BillLine
from onestop.domain.codes import ChrgitmLv, HospApprFlag, ItemKind, MedType
from onestop.money import apply_ratio

ZERO = Decimal(0)
ONE = Decimal(1)


class Reason:
    """Reason codes of the split (stable strings; documented in docs/engine.md)."""

    OUT_OF_CATALOG = "OUT_OF_CATALOG"
    CLASS_C = "CLASS_C"
    CIDL = "CIDL_NOT_FUND_PAYABLE"
    SELF_PAY_CHOSEN = "SELF_PAY_CHOSEN"
    WORK_INJURY_ONLY = "RESTRICTED_TO_WORK_INJURY"
    MATERNITY_ONLY = "RESTRICTED_TO_MATERNITY"
    INDICATION = "INDICATION_NOT_ATTESTED"
    AGE = "AGE_RESTRICTION_NOT_MET"
    SETTING = "CARE_SETTING_RESTRICTION_NOT_MET"
    FACILITY = "FACILITY_LEVEL_RESTRICTION_NOT_MET"
    PREPARATION = "PREPARATION_NOT_PAYABLE_HERE"
    DUAL_CHANNEL = "DUAL_CHANNEL_NOT_ELIGIBLE"
    OVER_STANDARD = "OVER_STANDARD"
    TRANSITION = "TRANSITION_WINDOW"
    TWO_DISEASES = "TWO_DISEASES_TERMS"
    WORK_INJURY_PENDING = "WORK_INJURY_PENDING"
    STANDARD_UNAVAILABLE = "CONFIDENTIAL_STANDARD_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class SplitContext:
    """What the split needs from the bill and the policy, computed once per bill."""

    med_type: MedType
    age: int
    facility_level: int
    """The treating hospital's level (1..3) under the treatment region's policy."""
    hospital_code: str
    hospital_group: str
    default_b_ratio: Decimal
    """The region's 乙类 先行自付 ratio."""
    b_overrides: Mapping[str, Decimal]
    """The region's per-item 乙类 先行自付 ratios (national code → ratio); they win over the catalog's."""
    dual_channel_needs_filing: bool
    dual_channel_filing_id: str
    dual_channel_needs_e_prescription: bool = True
    """双通道 drugs need an electronic prescription (the region's ``dual_channel.requires_e_prescription``)."""


@dataclass(slots=True)
class Split:
    """The result of splitting one line."""

    fulamt: int
    overlmt: int
    preselfpay: int
    inscope: int
    selfpay_prop: Decimal
    std_unit_fen: int | None
    std_confidential: bool
    std_label: str
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _all_self_pay(amount: int, reason: str, *, std: Standard | None = None) -> Split:
    return Split(amount, 0, 0, 0, ONE, None, bool(std and std.confidential), "", [reason])


def _restriction_failure(res: Resolution, line: BillLine, ctx: SplitContext, *, leg: str) -> str | None:
    """The first 备注 restriction the line fails on this leg, as a reason code, or None."""
    for r in res.restrictions:
        k = r.kind
        if k is RestrictionKind.WORK_INJURY_ONLY and leg != "work_injury":
            return Reason.WORK_INJURY_ONLY
        if k is RestrictionKind.MATERNITY_ONLY and leg != "maternity":
            return Reason.MATERNITY_ONLY
        if k is RestrictionKind.INDICATION and line.hosp_appr_flag is not HospApprFlag.APPROVED:
            return Reason.INDICATION
        if k is RestrictionKind.CHILDREN and ctx.age >= (r.value if r.value is not None else 18):
            return Reason.AGE
        if k is RestrictionKind.AGE_MIN and r.value is not None and ctx.age < r.value:
            return Reason.AGE
        if k is RestrictionKind.AGE_MAX and r.value is not None and ctx.age > r.value:
            return Reason.AGE
        if k is RestrictionKind.INPATIENT_ONLY and not ctx.med_type.is_inpatient:
            return Reason.SETTING
        if k is RestrictionKind.OUTPATIENT_ONLY and ctx.med_type.is_inpatient:
            return Reason.SETTING
        if k is RestrictionKind.FACILITY_LEVEL and r.value is not None and ctx.facility_level < r.value:
            return Reason.FACILITY
    return None


def _over_standard(line: BillLine, std: Standard | None, split_warnings: list[str]) -> tuple[int, int | None]:
    """(超限价 amount, per-unit standard) for the line; 0 when no standard applies."""
    if std is None:
        return 0, None
    if std.amount_fen is None:
        split_warnings.append(Reason.STANDARD_UNAVAILABLE)
        return 0, None
    # Same rounding as round_to_fen(standard × quantity), in exact integers (see apply_ratio).
    allowed = apply_ratio(int(std.amount_fen), line.quantity)
    return max(0, int(line.amount_fen) - int(allowed)), std.amount_fen


def split_basic(line: BillLine, res: Resolution, ctx: SplitContext) -> Split:
    """Split a line on the basic leg.

    Order of rules (first match wins for 全自费): patient chose self-pay → CIDL → not in catalog →
    丙类 → 备注 restrictions → 医疗机构制剂 outside its producer/group → 双通道 eligibility on a pharmacy
    purchase. Otherwise: 超限价 above the standard, then 先行自付 = (amount − 超限价) × ratio (0 for 甲),
    and the rest is 政策范围内.
    """
    amount = int(line.amount_fen)
    if line.hosp_appr_flag is HospApprFlag.SELF_PAY:
        return _all_self_pay(amount, Reason.SELF_PAY_CHOSEN)
    if res.cidl is not None:
        return _all_self_pay(amount, Reason.CIDL)
    if not res.in_catalog:
        return _all_self_pay(amount, Reason.OUT_OF_CATALOG)
    if res.chrgitm_lv is ChrgitmLv.C:
        return _all_self_pay(amount, Reason.CLASS_C)
    failed = _restriction_failure(res, line, ctx, leg="basic")
    if failed is not None:
        return _all_self_pay(amount, failed, std=res.standard)
    prep = res.hospital_preparation
    if (
        prep is not None
        and ctx.hospital_code not in prep.producer_codes
        and not (prep.group_approved and ctx.hospital_group and ctx.hospital_group in prep.groups)
    ):
        return _all_self_pay(amount, Reason.PREPARATION)
    if ctx.med_type is MedType.PHARMACY and res.kind is ItemKind.DRUG:
        eligible = (
            res.dual_channel
            and (bool(line.e_prescription_id) or not ctx.dual_channel_needs_e_prescription)
            and (not ctx.dual_channel_needs_filing or bool(ctx.dual_channel_filing_id))
        )
        if not eligible:
            return _all_self_pay(amount, Reason.DUAL_CHANNEL)

    warnings: list[str] = []
    reasons: list[str] = []
    overlmt, std_unit = _over_standard(line, res.standard, warnings)
    if overlmt:
        reasons.append(Reason.OVER_STANDARD)
        if res.negotiated:
            # A negotiated drug's listing price must not exceed its national standard.
            warnings.append(f"NEGOTIATED_PRICE_ABOVE_STANDARD:{line.feedetl_sn}")
    if res.transition_until is not None:
        reasons.append(Reason.TRANSITION)
    if res.chrgitm_lv is ChrgitmLv.A:
        ratio = ZERO
    else:
        # Precedence: the treatment region's per-item ratio, then the catalog row's, then the region default.
        override = ctx.b_overrides.get(res.national_code) if ctx.b_overrides else None
        if override is not None:
            ratio = override
        else:
            ratio = res.selfpay_ratio if res.selfpay_ratio is not None else ctx.default_b_ratio
    pre = int(apply_ratio(amount - overlmt, ratio))
    std = res.standard
    return Split(
        fulamt=0,
        overlmt=overlmt,
        preselfpay=pre,
        inscope=amount - overlmt - pre,
        selfpay_prop=ratio,
        std_unit_fen=std_unit,
        std_confidential=bool(std and std.confidential),
        std_label=f"{res.national_code}:{std.source}:{std.valid_from.isoformat()}" if std else "",
        reasons=reasons,
        warnings=warnings,
    )


def split_no_ab(line: BillLine, res: Resolution, ctx: SplitContext, *, leg: str) -> Split:
    """Split a line on the work-injury or maternity leg: in catalog paid up to the standard, no 甲/乙.

    The other leg's exclusive drugs (限工伤 on maternity, 限生育 on work injury), CIDL drugs and
    out-of-catalog items are 全自费 from the fund's view.
    """
    amount = int(line.amount_fen)
    if res.cidl is not None:
        return _all_self_pay(amount, Reason.CIDL)
    if not res.in_catalog or res.chrgitm_lv is ChrgitmLv.C:
        return _all_self_pay(amount, Reason.OUT_OF_CATALOG)
    failed = _restriction_failure(res, line, ctx, leg=leg)
    if failed is not None:
        return _all_self_pay(amount, failed, std=res.standard)
    warnings: list[str] = []
    overlmt, std_unit = _over_standard(line, res.standard, warnings)
    std = res.standard
    return Split(
        fulamt=0,
        overlmt=overlmt,
        preselfpay=0,
        inscope=amount - overlmt,
        selfpay_prop=ZERO,
        std_unit_fen=std_unit,
        std_confidential=bool(std and std.confidential),
        std_label=f"{res.national_code}:{std.source}:{std.valid_from.isoformat()}" if std else "",
        reasons=[Reason.OVER_STANDARD] if overlmt else [],
        warnings=warnings,
    )
