"""What an adapter or channel declares about itself: flows, categories, detail, wire unit."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from onestop.domain.offer import Category
from onestop.sdk._flows import ChannelFlow, InsurerFlow

__all__ = ["AmountUnit", "Capabilities", "ChannelCapabilities", "OfferDetail"]


class OfferDetail(StrEnum):
    """How much of the offer an insurer works with."""

    LINES = "lines"
    """Per-line detail when the patient consented (falls back to totals when not)."""
    TOTALS = "totals"
    """Category totals only: lines are never sent, answers come back as category totals."""


class AmountUnit(StrEnum):
    """The unit amounts travel in on the insurer's wire; inside onestop everything is integer fen."""

    FEN = "fen"
    """Integer fen (分), e.g. ``1230``."""
    YUAN_DECIMAL = "yuan_decimal"
    """Exact yuan text with two decimals, e.g. ``"12.30"`` (never a float)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class Capabilities(_Model):
    """What an insurer adapter supports, checked at load and used to pick conformance cases."""

    flows: frozenset[InsurerFlow]
    """Flows implemented; pre_settle, settle, query and cancel are required."""
    categories: frozenset[Category] = Field(min_length=1)
    """Offer categories the insurer may pay from (``ACCOUNT_PAID`` never)."""
    detail: OfferDetail = OfferDetail.LINES
    amount_unit: AmountUnit = AmountUnit.FEN
    stateful: bool = False
    """The adapter keeps state (e.g. member-year accumulators) through a host-provided StateStore."""

    @property
    def pays_cidl(self) -> bool:
        """True when the insurer pays 商保创新药目录 drugs."""
        return Category.CIDL in self.categories


class ChannelCapabilities(_Model):
    """What a fund channel supports."""

    flows: frozenset[ChannelFlow]
    """Flows implemented; settle and cancel are required."""
    legs: frozenset[Literal["basic", "work_injury", "maternity"]] = Field(min_length=1)
    """Which fund legs the channel settles."""
    amount_unit: AmountUnit = AmountUnit.FEN
    line_split: bool = False
    """upload_fee_detail returns the per-line split (NHSA 2204/2301 do)."""
