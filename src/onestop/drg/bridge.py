"""The engine's view of DRG: a case from a bill, and the Settlement's DRG section from a case."""

from __future__ import annotations

from collections.abc import Iterable

from onestop.domain.bill import Bill
from onestop.domain.settlement import DrgSection
from onestop.drg.api import group_with, pay
from onestop.drg.case import Case
from onestop.drg.settings import DrgSettings
from onestop.money import Fen

__all__ = ["case_from_bill", "drg_section_for"]


def case_from_bill(
    bill: Bill,
    *,
    cidl_cost_fen: int,
    cidl_covered: bool,
    exclusion_items: Iterable[str] = (),
) -> Case:
    """The grouper's case for an inpatient bill.

    Args:
        bill: The bill (diagnoses, procedures, newborn fields and lines).
        cidl_cost_fen: Cost of the bill's CIDL drug lines, as the engine resolved them.
        cidl_covered: Whether a CIDL drug used is covered by one of the patient's commercial products.
        exclusion_items: National codes of the region's exclusion list; their lines leave the case cost.
    """
    visit = bill.visit
    excluded = frozenset(exclusion_items)
    return Case(
        case_id=visit.mdtrt_id,
        sex=bill.patient.sex.value,
        age=bill.patient.age,
        age_days=visit.age_days,
        birth_weight_g=visit.newborn_weight_g,
        dept=visit.dept,
        los_days=(visit.discharge_date - visit.admission_date).days,
        discharge_way=visit.discharge_way.value,
        diagnoses=tuple(d.code for d in visit.diagnoses),
        procedures=visit.procedures,
        # The bill's 0 means "not reported": ventilation is then read from the procedure codes alone.
        vent_hours=visit.vent_hours or None,
        insutype=bill.patient.insutype.value,
        region=bill.hospital.region,
        discharge_date=visit.discharge_date,
        total_cost_fen=sum(int(line.amount_fen) for line in bill.lines),
        cidl_cost_fen=cidl_cost_fen,
        cidl_covered=cidl_covered,
        excluded_cost_fen=sum(int(line.amount_fen) for line in bill.lines if line.national_code in excluded),
    )


def drg_section_for(case: Case, settings: DrgSettings) -> DrgSection:
    """Group and pay ``case`` under ``settings`` and express it as the Settlement's DRG section."""
    result = group_with(case, settings)
    payment = pay(result, case, settings)
    total = case.total_cost_fen or 0
    return DrgSection(
        scheme=result.scheme,
        status=result.status.value,
        mdc=result.mdc,
        adrg=result.adrg,
        drg=result.drg,
        weight=result.weight,
        base_rate_fen=payment.base_rate_fen,
        drg_payment_fen=payment.drg_payment_fen,
        case_cost_fen=payment.case_cost_fen if payment.case_cost_fen is not None else Fen(total),
        cidl_cost_fen=payment.cidl_cost_fen,
        cost_ratio=payment.cost_ratio,
        cost_class=payment.cost_class.value if payment.cost_class else "",
        special_review=payment.special_review,
        special_review_reason=payment.reason if payment.special_review else "",
        trace=(f"grouper {result.scheme}: {settings.label}", *result.trace, *payment.trace),
    )
