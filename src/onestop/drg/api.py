"""The library calls the CLI and the gateway wrap: ``group(case)`` and ``pay(result, case, settings)``."""

from __future__ import annotations

from onestop.drg.case import Case
from onestop.drg.payment import pay
from onestop.drg.registry import grouper_for_settings, settings_for
from onestop.drg.result import GroupResult, GroupStatus
from onestop.drg.settings import DrgSettings

__all__ = ["group", "group_with", "pay"]


def group_with(case: Case, settings: DrgSettings) -> GroupResult:
    """Group ``case`` with the grouper ``settings`` configure."""
    return grouper_for_settings(settings).group(case)


def group(case: Case, settings: DrgSettings | None = None) -> GroupResult:
    """Group one case with the grouper of its region and discharge date (or of ``settings`` when given).

    A case without region or discharge date (and no ``settings``) answers ``missing_data``.

    Raises:
        NoGrouper: No grouper is configured for the case's region and date.
    """
    if settings is None:
        if case.region is None or case.discharge_date is None:
            missing = [n for n, v in (("region", case.region), ("discharge_date", case.discharge_date)) if v is None]
            why = f"missing data: {', '.join(missing)} needed to choose the grouper"
            return GroupResult(case.case_id, "", GroupStatus.MISSING_DATA, "", "", "", "", None, "", why, (why,))
        settings = settings_for(case.region, case.discharge_date)
    return group_with(case, settings)
