"""The grouper's input: one inpatient case as the 医保结算清单 gives it.

Fields the grouper needs may be missing (``None`` / empty): the grouper answers ``missing_data`` then,
naming the field, instead of refusing the case.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Case"]

# As long as the bill allows (onestop.domain.bill.Code): a code the tables do not know is judged by the
# grouper (ignored, or ungroupable as principal), never refused as malformed input.
_Code = Annotated[str, Field(min_length=1, max_length=50)]


class Case(BaseModel):
    """One inpatient case to group and pay (columns of ``onestop drg group``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    case_id: Annotated[str, Field(min_length=1, max_length=64)]
    """Caller's identifier, echoed in the result."""
    sex: Annotated[str, Field(pattern=r"^[0129]$")] | None
    """GB/T 2261.1: 1 = male, 2 = female (0 / 9 = unknown, no sex edit applies)."""
    age: Annotated[int, Field(ge=0, le=150)] | None
    """Age in whole years."""
    age_days: Annotated[int, Field(ge=0, le=365)] | None = None
    """Age in days for patients under one year (newborn rules)."""
    birth_weight_g: Annotated[int, Field(ge=100, le=9999)] | None = None
    """Birth weight in grams (newborns)."""
    dept: Annotated[str, Field(max_length=200)] = ""
    """Discharge department (kept for the result; the grouper does not use it)."""
    # No upper bound: the bill bounds only the order of its dates, and a valid bill must group.
    los_days: Annotated[int, Field(ge=0)] | None = None
    """Length of stay in days."""
    discharge_way: Annotated[str, Field(pattern=r"^[1-59]$")] | None = None
    """离院方式 dscg_way (1 医嘱离院 … 5 死亡, 9 其他)."""
    diagnoses: Annotated[tuple[_Code, ...], Field(max_length=60)] = ()
    """Diagnosis codes (医保版 ICD-10 2.0), principal first."""
    procedures: Annotated[tuple[_Code, ...], Field(max_length=60)] = ()
    """Procedure codes (医保版 ICD-9-CM-3 2.0), principal first."""
    vent_hours: Annotated[int, Field(ge=0)] | None = None
    """Hours of invasive ventilation, where known."""
    insutype: Annotated[str, Field(pattern=r"^\d{3}$")] | None = None
    """险种类型: picks the base rate (``310`` 职工, ``390`` 居民)."""
    region: Annotated[str, Field(pattern=r"^\d{6}$")] | None = None
    """Pooling region whose policy configures the grouper and payment."""
    discharge_date: dt.date | None = None
    """Discharge date: picks the grouper and policy in force."""
    total_cost_fen: Annotated[int, Field(ge=0)] | None = None
    """Whole case cost in fen, CIDL lines included."""
    cidl_cost_fen: Annotated[int, Field(ge=0)] = 0
    """Cost of the CIDL (商保创新药目录) drug lines in fen; never part of the DRG case cost."""
    cidl_covered: bool = False
    """Whether a CIDL drug used is covered by one of the patient's commercial products."""
    excluded_cost_fen: Annotated[int, Field(ge=0)] = 0
    """Cost of lines on the region's other exclusion list (除外支付) in fen, handled like CIDL lines."""

    @property
    def case_cost_fen(self) -> int | None:
        """The cost DRG compares with the group standard: total minus CIDL and excluded lines."""
        if self.total_cost_fen is None:
            return None
        return max(self.total_cost_fen - self.cidl_cost_fen - self.excluded_cost_fen, 0)
