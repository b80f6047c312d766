"""The DRG section of an inpatient settlement: group the case, cost it without CIDL lines, flag review."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestop.domain.settlement import DrgSection
from onestop.drg import GroupStatus, case_from_bill, drg_section_for
from onestop.money import Fen

if TYPE_CHECKING:
    from onestop.engine._stages import FundsState


def drg_section(state: FundsState) -> DrgSection | None:
    """Group an inpatient case with the grouper the policy configures; None when not applicable.

    A grouper configured but not in force on the discharge date gives an explicit ``no_grouper``
    section saying so, never a grouping under settings that did not apply.
    """
    settings = state.terms.drg
    bill = state.bill
    if settings is None or not bill.visit.med_type.is_inpatient:
        return None
    cidl_cost = sum(int(w.line.amount_fen) for w in state.works if w.res.cidl is not None)
    day = bill.visit.discharge_date
    if not settings.in_force(day):
        until = f" to {settings.valid_to.isoformat()}" if settings.valid_to is not None else ""
        why = (
            f"no grouper in force on {day.isoformat()}: {settings.label} applies from {settings.valid_from.isoformat()}"
        )
        return DrgSection(
            scheme=settings.scheme,
            status=GroupStatus.NO_GROUPER.value,
            case_cost_fen=Fen(sum(int(ln.amount_fen) for ln in bill.lines) - cidl_cost),
            cidl_cost_fen=Fen(cidl_cost),
            trace=(why + until,),
        )
    cidl_covered = bool(cidl_cost) and bool(bill.coverages)
    case = case_from_bill(
        bill, cidl_cost_fen=cidl_cost, cidl_covered=cidl_covered, exclusion_items=settings.exclusion_items
    )
    return drg_section_for(case, settings)
