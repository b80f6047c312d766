"""A region's DRG settings: which grouper, which tables, how cases are paid and when they go to review.

This module imports nothing of the policy package: the policy model embeds :class:`DrgSettings`, so the
dependency runs one way only.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, model_validator

__all__ = ["CidlHandling", "DrgSettings", "LowRatioPayment", "PaymentMode", "PositiveDecimal"]

_DECIMAL_RE = re.compile(r"^\d+(\.\d+)?$")


def _positive_decimal(value: object) -> Decimal:
    # YAML floats are binary: a factor must be written as quoted text ("2.5") or an integer.
    if isinstance(value, (bool, float)):
        raise ValueError(f"write decimals as quoted text, not floats: {value!r}")
    if isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, Decimal):
        d = value
    elif isinstance(value, str) and _DECIMAL_RE.match(value.strip()):
        try:
            d = Decimal(value.strip())
        except InvalidOperation as exc:  # pragma: no cover - the regex already rules this out
            raise ValueError(f"not a decimal: {value!r}") from exc
    else:
        raise ValueError(f'expected a plain decimal such as "2.5", got {value!r}')
    if not d.is_finite() or d <= 0:
        raise ValueError(f"must be a positive decimal: {value!r}")
    return d


PositiveDecimal = Annotated[
    Decimal,
    PlainValidator(_positive_decimal),
    PlainSerializer(str, return_type=str, when_used="json"),
]
"""A positive exact decimal written as quoted text (``"2.5"``) or an integer; floats are refused."""


class PaymentMode(StrEnum):
    """How a DRG case is paid to the hospital."""

    WEIGHT_BASE_RATE = "weight_base_rate"
    """Weight × base rate (费率) of the patient's insutype."""
    POINTS = "points"
    """点数法 (as in Zhejiang): weight × points per weight = points; points × point value."""


class CidlHandling(StrEnum):
    """What happens to a case whose CIDL (or other excluded) drugs send it to special-case review."""

    EXCLUDE_CIDL_COST = "exclude_cidl_cost"
    """Only the CIDL cost leaves DRG; the case is still paid its DRG standard."""
    WHOLE_CASE_OUT = "whole_case_out"
    """The whole case leaves DRG and is paid by item after review (特例单议)."""


class LowRatioPayment(StrEnum):
    """How a low-ratio case (cost far below the group standard) is paid."""

    STANDARD = "standard"
    """The group standard, like a normal case."""
    CASE_COST = "case_cost"
    """The case cost (按项目), which is below the standard by definition."""


class DrgSettings(BaseModel):
    """The DRG section of a regional policy."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)

    scheme: Literal["chs-drg-1.1"]
    """Grouping scheme and version; CHS-DRG 2.0, city variants and DIP plug in as further values."""
    tables: Literal["harbin-2024", "2023"]
    """Which packaged weights and base rates: ``harbin-2024`` (哈尔滨 I 级 2024) or ``2023`` (no city label)."""
    label: Annotated[str, Field(min_length=1)]
    """Status of the parameters, carried into every DRG section (e.g. "example parameters")."""
    valid_from: dt.date
    """First discharge date the grouper applies to."""
    valid_to: dt.date | None = None
    """Last discharge date; None = open-ended."""
    payment_mode: PaymentMode = PaymentMode.WEIGHT_BASE_RATE
    """Weight × base rate, or points × point value."""
    base_rate_fen: dict[Annotated[str, Field(pattern=r"^\d{3}$")], Annotated[int, Field(gt=0)]] = Field(
        default_factory=dict
    )
    """Base rate (费率) in fen per weight point by insutype (``"310"`` 职工, ``"390"`` 居民)."""
    points_per_weight: PositiveDecimal = Decimal(100)
    """Points of a weight of 1 (点数法)."""
    point_value_fen: PositiveDecimal | None = None
    """Value of one point in fen (点值; may carry decimals of a fen), required in points mode."""
    high_ratio: PositiveDecimal
    """A case whose cost is at least this multiple of its group standard is high-ratio (高倍率) and reviewed."""
    low_ratio: PositiveDecimal
    """A case whose cost is at most this multiple of its group standard is low-ratio (低倍率)."""
    low_ratio_payment: LowRatioPayment = LowRatioPayment.CASE_COST
    """How a low-ratio case is paid."""
    cidl_handling: CidlHandling = CidlHandling.EXCLUDE_CIDL_COST
    """Whether review takes out only the CIDL cost or the whole case."""
    exclusion_items: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    """National codes of the region's other new-drug/consumable exclusion list (除外支付), handled like CIDL."""

    @model_validator(mode="after")
    def _consistent(self) -> DrgSettings:
        problems = []
        if self.valid_to is not None and self.valid_to < self.valid_from:
            problems.append("valid_to: before valid_from")
        if self.low_ratio >= self.high_ratio:
            problems.append("low_ratio: must be below high_ratio")
        if self.payment_mode is PaymentMode.WEIGHT_BASE_RATE and not self.base_rate_fen:
            problems.append("base_rate_fen: required when payment_mode is weight_base_rate")
        if self.payment_mode is PaymentMode.POINTS and self.point_value_fen is None:
            problems.append("point_value_fen: required when payment_mode is points")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def in_force(self, day: dt.date) -> bool:
        """Whether the grouper applies to a case discharged on ``day``."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
