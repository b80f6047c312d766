"""The sections of a regional policy: basic terms by kind, the layers above them, and the other legs."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from onestop.domain.codes import MedicalAssistance, PrescribingContext
from onestop.money import Fen
from onestop.policy._types import (
    BenefitKind,
    DeductiblePer,
    LayerBase,
    NonNegFen,
    PolicyModel,
    Ratio,
    RatioAdjustment,
    UncoveredPayer,
)

__all__ = [
    "AssistanceTerms",
    "Band",
    "BandedLayerTerms",
    "CivilServantTerms",
    "CrossRegionTerms",
    "DualChannelRules",
    "HospitalTier",
    "InsutypeTerms",
    "KindTerms",
    "LayerTilt",
    "MaternityTerms",
    "Rate",
    "WorkInjuryTerms",
]

ANY = "*"
"""Wildcard for a rate row's tier or psn_group."""


class HospitalTier(PolicyModel):
    """A hospital tier this region defines (e.g. 市属三级) and its facility level."""

    name: Annotated[str, Field(min_length=1, max_length=20)]
    """The tier name bills carry in ``hospital.tier``."""
    level: Annotated[int, Field(ge=1, le=3)]
    """Facility level 1..3, used by 备注 facility restrictions."""


class Rate(PolicyModel):
    """One row of a kind's rate table: the deductible and the 统筹 ratio for a tier and a psn_type group."""

    tier: str = ANY
    """Hospital tier name, or ``*`` for every tier without its own row."""
    psn_group: str = ANY
    """A psn_type group of the insutype (``psn_groups``), or ``*`` for everyone without a group row."""
    deductible_fen: NonNegFen
    """起付线, fen (per visit or per year, as the kind says)."""
    ratio: Ratio
    """统筹 payment ratio on the in-scope amount above the deductible."""


class KindTerms(PolicyModel):
    """Terms of one benefit kind of one insutype.

    The row used for a visit is the most specific match, person first: (tier, group), then
    (``*``, group), then (tier, ``*``), then (``*``, ``*``).
    """

    deductible_per: DeductiblePer = DeductiblePer.VISIT
    """Whether the deductible is charged per visit or once per benefit year (year-to-date accumulator)."""
    rates: Annotated[tuple[Rate, ...], Field(min_length=1)]
    """Deductible and ratio rows by hospital tier and psn_type group."""
    retiree_bonus: Ratio = Decimal(0)
    """Ratio points added for retirees (psn_type in the insutype's ``retiree_psn_types``); the sum is capped at 1."""
    annual_cap_fen: NonNegFen | None = None
    """This kind's own annual 统筹 cap (e.g. 普通门诊统筹 2,500 a year); None = no own cap."""
    shared_cap: bool = True
    """Whether this kind also draws on the insutype's shared annual cap (封顶线)."""

    def rate(self, tier: str, group: str) -> Rate | None:
        """The most specific row for a tier and a psn_type group (person first), or None."""
        for t, g in ((tier, group), (ANY, group), (tier, ANY), (ANY, ANY)):
            for row in self.rates:
                if row.tier == t and row.psn_group == g:
                    return row
        return None


class Band(PolicyModel):
    """One band of a banded layer: the accumulated base from the previous edge up to ``upto_fen``."""

    upto_fen: NonNegFen | None = None
    """Upper edge of the band on the year's accumulated base (absolute, not above the threshold); None = no edge."""
    ratio: Ratio
    """Share of the base inside the band that the layer pays."""


class LayerTilt(PolicyModel):
    """倾斜 of a banded layer for a medical-assistance category (national rule: threshold halved, +5 points)."""

    threshold_fen: NonNegFen | None = None
    """Replaces the layer's threshold for this category; None = unchanged."""
    ratio_bonus: Ratio = Decimal(0)
    """Points added to every band's ratio (capped at 1)."""


class BandedLayerTerms(PolicyModel):
    """A banded layer above 统筹: 职工大额医疗费用补助 (hifob, 330100) or 城乡居民大病保险 (hifmi, 390200).

    The layer pays on its base accumulated over the benefit year: the part above ``threshold_fen``
    is cut by the band edges and each piece is paid at its band's ratio, within ``annual_cap_fen``.
    It pays only in-scope amounts the patient would otherwise bear on this bill.
    """

    base: LayerBase
    """What the layer pays on: ``above_cap`` (in-scope amount above the 统筹 cap) or ``personal_burden``."""
    burden_includes_outside: bool = False
    """For ``personal_burden``: also count 全自费 (excluding CIDL) + 超限价 + 先行自付 toward the threshold.

    The layer still pays only in-scope amounts; the outside part only makes the threshold come sooner."""
    threshold_fen: NonNegFen = Fen(0)
    """起付线 on the year's accumulated base."""
    bands: Annotated[tuple[Band, ...], Field(min_length=1)]
    """Bands in increasing order; the last one may be open (``upto_fen`` omitted)."""
    annual_cap_fen: NonNegFen
    """The layer's annual payment cap."""
    tilt: dict[MedicalAssistance, LayerTilt] = Field(default_factory=dict)
    """倾斜 by medical-assistance category."""
    applies_to: tuple[BenefitKind, ...] = ()
    """Benefit kinds whose bills the layer covers (the kind asked for or the kind whose terms applied);
    empty = every kind."""

    def covers(self, asked: str, applied: str) -> bool:
        """Whether a bill of kind ``asked`` (settled under ``applied`` terms) is covered by the layer."""
        return not self.applies_to or asked in self.applies_to or applied in self.applies_to

    @model_validator(mode="after")
    def _bands_increase(self) -> BandedLayerTerms:
        problems: list[str] = []
        edge = int(self.threshold_fen)
        for i, band in enumerate(self.bands):
            if band.upto_fen is None:
                if i != len(self.bands) - 1:
                    problems.append(f"bands[{i}].upto_fen: only the last band may be open")
                continue
            if int(band.upto_fen) <= edge:
                problems.append(f"bands[{i}].upto_fen: must be above the threshold and the previous edge ({edge})")
            edge = int(band.upto_fen)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class InsutypeTerms(PolicyModel):
    """Basic-insurance terms of one insutype (310 职工 / 390 居民)."""

    annual_cap_fen: NonNegFen
    """统筹 annual cap (封顶线) shared by the kinds with ``shared_cap``."""
    retiree_psn_types: tuple[str, ...] = ("12", "1204")
    """psn_types that get each kind's ``retiree_bonus``."""
    psn_groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Named psn_type groups that rate rows may target (e.g. ``retired: ["12", "1204"]``)."""
    kinds: dict[BenefitKind, KindTerms]
    """Terms by benefit kind; ``inpatient`` and ``general_outpatient`` are required, the others fall back."""
    large_amount: BandedLayerTerms | None = None
    """职工大额医疗费用补助 (hifob_pay, fund 330100)."""
    serious_illness: BandedLayerTerms | None = None
    """城乡居民大病保险 (hifmi_pay, fund 390200)."""

    @model_validator(mode="after")
    def _required_kinds(self) -> InsutypeTerms:
        missing = [k.value for k in (BenefitKind.INPATIENT, BenefitKind.GENERAL_OUTPATIENT) if k not in self.kinds]
        if missing:
            raise ValueError(f"kinds: terms for {', '.join(missing)} are required")
        return self

    def group_of(self, psn_type: str) -> str:
        """The psn_type group a person belongs to (``*`` when in none)."""
        for name in sorted(self.psn_groups):
            if psn_type in self.psn_groups[name]:
                return name
        return ANY


class CivilServantTerms(PolicyModel):
    """公务员医疗补助 (cvlserv_pay, fund 320100), after 统筹 and the banded layers."""

    ratio: Ratio
    """Share of its base the subsidy pays."""
    includes_deductible: bool = False
    """False: pays on the in-scope co-pay above the deductible; True: on the deductible too."""
    annual_cap_fen: NonNegFen
    """Annual payment cap."""


class AssistanceTerms(PolicyModel):
    """医疗救助 (maf_pay, fund 610100) for one category: the last layer, on the in-scope personal burden left."""

    deductible_fen: NonNegFen = Fen(0)
    """Annual 救助起付线 on that burden (year-to-date accumulator)."""
    ratio: Ratio
    """Share of the burden above the deductible that assistance pays."""
    annual_cap_fen: NonNegFen
    """Annual payment cap."""
    includes_deductible: bool = True
    """True: the base is the whole in-scope personal burden (政策范围内个人自付, deductible included)."""


class MaternityTerms(PolicyModel):
    """生育保险 medical terms (fund 510100): no 甲/乙 distinction; 限生育 drugs are payable only on this leg."""

    deductible_fen: NonNegFen = Fen(0)
    """Per-visit deductible."""
    ratio: Ratio = Decimal(1)
    """Share of the in-scope amount above the deductible the fund pays (1 = in full)."""
    standard_fen: dict[str, NonNegFen] = Field(default_factory=dict)
    """Per-visit payment standard (限额) by med_type (``"51"``, ``"52"``, ``"*"``): the fund pays at most this."""
    annual_cap_fen: NonNegFen | None = None
    """Annual payment cap; None = none."""


class WorkInjuryTerms(PolicyModel):
    """工伤 terms the engine needs (the fund pays in-catalog work-related items in full)."""

    meal_allowance_per_day_fen: NonNegFen
    """住院伙食补助费 per inpatient day, reported outside line conservation."""
    uncovered_payer: UncoveredPayer = UncoveredPayer.EMPLOYER
    """Who bears work-related amounts the fund does not pay (out of catalog, pending recognition)."""


class DualChannelRules(PolicyModel):
    """双通道 purchase rules of the province."""

    requires_filing: bool = True
    """A 双通道 备案 id is required for a 双通道 drug to be payable."""
    requires_e_prescription: bool = True
    """An electronic prescription id (流转平台) is required."""


class CrossRegionTerms(PolicyModel):
    """异地就医 adjustments of the insured region (参保地待遇); catalogs stay those of the treatment region."""

    filed_ratio_adjustment: RatioAdjustment = Decimal(0)
    """Points added to the 统筹 ratio for 异地 with a 备案 (usually 0 or negative)."""
    unfiled_ratio_adjustment: RatioAdjustment = Decimal(0)
    """Points added to the 统筹 ratio for 异地 without a 备案 (e.g. ``"-0.10"``)."""


DEFAULT_PHARMACY = {
    PrescribingContext.OUTPATIENT: BenefitKind.PHARMACY_OUTPATIENT,
    PrescribingContext.INPATIENT_DISCHARGE: BenefitKind.PHARMACY_INPATIENT_DISCHARGE,
    PrescribingContext.CHRONIC: BenefitKind.PHARMACY_CHRONIC,
}
