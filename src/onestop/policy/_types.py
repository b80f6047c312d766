"""Value types and enums of the policy schema: exact ratios, fen amounts, the model base class."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, WithJsonSchema

from onestop.money import Fen, MoneyError, parse_ratio

__all__ = [
    "AccountOrder",
    "BenefitKind",
    "BenefitYearRule",
    "CrossRegion",
    "DeductiblePer",
    "LayerBase",
    "NonNegFen",
    "PolicyModel",
    "Ratio",
    "RatioAdjustment",
    "UncoveredPayer",
]

_RATIO_PATTERN = r"^(0(\.\d+)?|1(\.0+)?)$"
_ADJUSTMENT_PATTERN = r"^-?(0(\.\d+)?|1(\.0+)?)$"


def _ratio(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f'write ratios as quoted decimal text (e.g. "0.85"), not the YAML float {value!r}')
    try:
        return parse_ratio(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


def _adjustment(value: Any) -> Decimal:
    negative = (isinstance(value, str) and value.strip().startswith("-")) or (isinstance(value, Decimal) and value < 0)
    magnitude = value.strip()[1:] if isinstance(value, str) and negative else (-value if negative else value)
    try:
        points = _ratio(magnitude)
    except ValueError as exc:
        raise ValueError(f"ratio points must be exact decimal text in [-1, 1] ({exc})") from None
    return -points if negative else points


Ratio = Annotated[
    Decimal,
    PlainValidator(_ratio),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": _RATIO_PATTERN, "description": "Exact decimal ratio in [0, 1]."}),
]
"""An exact ratio in [0, 1], written as quoted decimal text (a YAML float is binary and refused)."""

RatioAdjustment = Annotated[
    Decimal,
    PlainValidator(_adjustment),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": _ADJUSTMENT_PATTERN, "description": "Signed exact ratio points in [-1, 1]."}
    ),
]
"""Signed ratio points added to a ratio (e.g. ``"-0.10"`` for ten points less), clamped to [0, 1] on use."""

NonNegFen = Annotated[Fen, Field(ge=0)]
"""An amount in integer fen, never negative."""


class PolicyModel(BaseModel):
    """Base of every policy model: frozen, strict, unknown keys refused, attribute docstrings as field docs."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class BenefitYearRule(StrEnum):
    """Which date picks the benefit year (deductible, caps, accumulators)."""

    DISCHARGE_DATE = "discharge_date"
    ADMISSION_DATE = "admission_date"
    LINE_DATE = "line_date"


class AccountOrder(StrEnum):
    """Where the personal account pays in the sequence of payers."""

    FUNDS_COMMERCIAL_ACCOUNT_CASH = "funds_commercial_account_cash"
    FUNDS_ACCOUNT_COMMERCIAL_CASH = "funds_account_commercial_cash"


class DeductiblePer(StrEnum):
    """Whether a deductible applies per visit (per admission) or once per benefit year."""

    VISIT = "visit"
    YEAR = "year"


class BenefitKind(StrEnum):
    """The benefit kinds a policy gives terms for.

    A pharmacy purchase (med_type 41) uses ``pharmacy_<context>`` when the policy defines it, else the
    terms of its prescribing context (see :meth:`RegionalPolicy.resolve_kind`).
    """

    INPATIENT = "inpatient"
    GENERAL_OUTPATIENT = "general_outpatient"
    CHRONIC_SPECIAL = "chronic_special"
    TWO_DISEASES = "two_diseases"
    PHARMACY_OUTPATIENT = "pharmacy_outpatient"
    PHARMACY_INPATIENT_DISCHARGE = "pharmacy_inpatient_discharge"
    PHARMACY_CHRONIC = "pharmacy_chronic"


class LayerBase(StrEnum):
    """What a banded layer (大额 / 大病保险) pays on.

    ``above_cap``: the in-scope amount the 统筹 fund did not cover because its annual cap bound.
    ``personal_burden``: the year's accumulated in-scope personal burden (deductible + co-pay after 统筹,
    which includes anything above the cap); this is the "and/or" case, since over-cap amounts are burden too.
    """

    ABOVE_CAP = "above_cap"
    PERSONAL_BURDEN = "personal_burden"


class UncoveredPayer(StrEnum):
    """Who bears work-related amounts the work-injury fund does not pay."""

    EMPLOYER = "employer"
    PATIENT = "patient"


class CrossRegion(StrEnum):
    """异地就医 status of a visit, for the policy's cross-region ratio adjustments."""

    NONE = "none"
    """Treated in the insured region."""
    FILED = "filed"
    """异地 with a 备案 (registered move, referral, long-term residence)."""
    UNFILED = "unfiled"
    """异地 without a 备案 (e.g. 临时外出就医 not registered)."""
