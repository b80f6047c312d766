"""DRG payment of a grouped case: the group standard, the cost class and special-case review (特例单议).

Pure: ``pay(result, case, settings)`` reads nothing else. Money is integer fen; weights, points and ratios
are exact decimals; the standard is rounded half-up to the fen once, via :func:`onestop.money.round_to_fen`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from onestop.drg.case import Case
from onestop.drg.result import GroupResult, GroupStatus
from onestop.drg.settings import CidlHandling, DrgSettings, LowRatioPayment, PaymentMode
from onestop.money import Fen, round_to_fen

__all__ = ["CostClass", "Payment", "pay"]

_RATIO_PLACES = Decimal("0.0001")


class CostClass(StrEnum):
    """A case's cost against its group standard (thresholds from the policy)."""

    HIGH = "high_ratio"
    LOW = "low_ratio"
    NORMAL = "normal"


@dataclass(frozen=True, slots=True)
class Payment:
    """What DRG pays the hospital for one case, and whether the case goes to special-case review.

    Amount fields are None where the input lacks what they need (e.g. no total cost, no base rate for the
    insutype) or where the case is not paid by DRG (not grouped, or taken out of DRG for review).
    """

    base_rate_fen: Fen | None
    """The insutype's base rate (weight mode); None in points mode."""
    points: Decimal | None
    """Points of the case (points mode)."""
    standard_fen: Fen | None
    """The group's payment standard: weight × base rate, or points × point value."""
    drg_payment_fen: Fen | None
    """What DRG pays for the case."""
    case_cost_fen: Fen | None
    """Case cost used for DRG: total without CIDL and excluded lines."""
    cidl_cost_fen: Fen
    excluded_cost_fen: Fen
    cost_ratio: Decimal | None
    """Case cost / standard, 4 decimals."""
    cost_class: CostClass | None
    special_review: bool
    reason: str
    """Why the case is reviewed or not paid, or how it is paid."""
    trace: tuple[str, ...]


def _standard(
    result: GroupResult, case: Case, settings: DrgSettings, trace: list[str]
) -> tuple[Fen | None, Decimal | None, Fen | None, str]:
    weight = result.weight
    if weight is None:  # pragma: no cover - grouped results always carry a weight
        return None, None, None, "no weight"
    if settings.payment_mode is PaymentMode.POINTS:
        assert settings.point_value_fen is not None  # the settings validator requires it in points mode
        points = weight * settings.points_per_weight
        standard = round_to_fen(points * settings.point_value_fen)
        trace.append(
            f"points {points} = weight {weight} × {settings.points_per_weight}; × point value "
            f"{settings.point_value_fen} fen = standard {int(standard)} fen"
        )
        return None, points, standard, ""
    if case.insutype is None:
        return None, None, None, "no insutype: the base rate cannot be chosen"
    rate = settings.base_rate_fen.get(case.insutype)
    if rate is None:
        return None, None, None, f"no base rate for insutype {case.insutype}"
    standard = round_to_fen(weight * rate)
    trace.append(f"standard {int(standard)} fen = weight {weight} × base rate {rate} fen (insutype {case.insutype})")
    return Fen(rate), None, standard, ""


def pay(result: GroupResult, case: Case, settings: DrgSettings) -> Payment:
    """Pay one grouped case under the region's DRG settings.

    CIDL lines and the region's excluded items never count in the case cost. The case is flagged for
    special-case review when a CIDL drug it used is covered by one of the patient's commercial products,
    when it used an item on the region's exclusion list, or when its cost ratio reaches the high threshold.
    With ``cidl_handling = whole_case_out`` a case flagged for CIDL/excluded items leaves DRG altogether
    (paid by item after review); otherwise only those costs leave DRG and the case keeps its standard.

    Args:
        result: The grouper's answer for ``case``.
        case: The case (costs, insutype).
        settings: The region's DRG settings.
    """
    trace: list[str] = []
    cidl = Fen(case.cidl_cost_fen)
    excluded = Fen(case.excluded_cost_fen)
    cost = case.case_cost_fen
    case_cost = None if cost is None else Fen(cost)
    if cidl:
        trace.append(f"CIDL lines {int(cidl)} fen left out of the DRG case cost")
    if excluded:
        trace.append(f"exclusion-list lines {int(excluded)} fen left out of the DRG case cost")
    review: list[str] = []
    if cidl and case.cidl_covered:
        review.append("CIDL drug covered by the patient's commercial product (特例单议 after review)")
    if excluded:
        review.append("item on the region's exclusion list (除外支付)")
    if result.status is not GroupStatus.GROUPED:
        reason = "; ".join([f"not paid by DRG: {result.status.value}", *review])
        return Payment(
            None, None, None, None, case_cost, cidl, excluded, None, None, bool(review), reason, tuple(trace)
        )
    base_rate, points, standard, missing = _standard(result, case, settings, trace)
    ratio: Decimal | None = None
    cost_class: CostClass | None = None
    if standard is not None and case_cost is not None and standard > 0:
        ratio = (Decimal(case_cost) / Decimal(standard)).quantize(_RATIO_PLACES)
        if ratio >= settings.high_ratio:
            cost_class = CostClass.HIGH
            review.append(f"cost ratio {ratio} ≥ high threshold {settings.high_ratio}")
        elif ratio <= settings.low_ratio:
            cost_class = CostClass.LOW
        else:
            cost_class = CostClass.NORMAL
        trace.append(f"cost ratio {ratio} = case cost {int(case_cost)} / standard {int(standard)}: {cost_class.value}")
    payment = standard
    notes: list[str] = []
    if cost_class is CostClass.LOW and settings.low_ratio_payment is LowRatioPayment.CASE_COST:
        payment = case_cost
        notes.append("low-ratio case paid its case cost (按项目)")
    whole_out = settings.cidl_handling is CidlHandling.WHOLE_CASE_OUT and bool((cidl and case.cidl_covered) or excluded)
    if whole_out:
        payment = None
        notes.append("whole case out of DRG, paid by item after review")
    elif cidl or excluded:
        notes.append("only the CIDL/excluded cost leaves DRG")
    if missing:
        notes.append(missing)
    reason = "; ".join([*review, *notes]) or "paid the group standard"
    trace.append(reason)
    return Payment(
        base_rate_fen=base_rate,
        points=points,
        standard_fen=standard,
        drg_payment_fen=payment,
        case_cost_fen=case_cost,
        cidl_cost_fen=cidl,
        excluded_cost_fen=excluded,
        cost_ratio=ratio,
        cost_class=cost_class,
        special_review=bool(review),
        reason=reason,
        trace=tuple(trace),
    )
