"""What the grouper answers for one case."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

__all__ = ["UNGROUPABLE_ADRG", "UNGROUPABLE_DRG", "GroupResult", "GroupStatus"]

UNGROUPABLE_ADRG = "00"
UNGROUPABLE_DRG = "0000"


class GroupStatus(StrEnum):
    """Outcome of grouping one case."""

    GROUPED = "grouped"
    """A DRG of the list was found."""
    UNGROUPABLE = "ungroupable"
    """无法入组 (ADRG 00 / DRG 0000): e.g. a principal diagnosis the tables do not use."""
    AMBIGUOUS = "ambiguous"
    """歧义组 (xQY): an operating-room procedure unrelated to the principal diagnosis's MDC."""
    INVALID = "invalid"
    """Malformed input: a code or value of the wrong shape, or contradictory fields."""
    SEX_CONFLICT = "sex_conflict"
    """A code that the patient's sex cannot carry."""
    MISSING_DATA = "missing_data"
    """A field the grouper needs for this case is empty."""
    NO_GROUPER = "no_grouper"
    """No grouper is configured for the case's region and date (batch answers only)."""


@dataclass(frozen=True, slots=True)
class GroupResult:
    """The grouper's answer for one case, with the trace of every rule that matched or excluded.

    ``mdc``/``adrg``/``drg`` are empty where the status gives none; ``weight`` is set for grouped cases.
    """

    case_id: str
    scheme: str
    status: GroupStatus
    mdc: str
    adrg: str
    drg: str
    drg_name: str
    weight: Decimal | None
    cc_level: str
    """``MCC``, ``CC`` or empty: the strongest complication that counted."""
    reason: str
    """One line saying why, for any status."""
    trace: tuple[str, ...]
