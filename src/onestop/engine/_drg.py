"""The DRG section of an inpatient settlement: group the case, cost it without CIDL lines, flag review."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestop.domain.settlement import DrgSection
from onestop.drg import case_from_bill, drg_section_for

if TYPE_CHECKING:
    from onestop.engine._stages import FundsState


def drg_section(state: FundsState) -> DrgSection | None:
    """Group an inpatient case with the grouper the policy configures; None when not applicable."""
    settings = state.terms.drg
    bill = state.bill
    if settings is None or not bill.visit.med_type.is_inpatient:
        return None
    cidl_cost = sum(int(w.line.amount_fen) for w in state.works if w.res.cidl is not None)
    cidl_covered = bool(cidl_cost) and bool(bill.coverages)
    case = case_from_bill(
        bill, cidl_cost_fen=cidl_cost, cidl_covered=cidl_covered, exclusion_items=settings.exclusion_items
    )
    return drg_section_for(case, settings)
