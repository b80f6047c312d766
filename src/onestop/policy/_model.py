"""The regional policy: one pooling region's (or province's) benefits as validated, versioned data.

A policy gives, per insutype and benefit kind, rate rows (deductible and 统筹 ratio by hospital tier
and psn_type group) and caps, then the layers above (大额 / 大病保险, 公务员医疗补助, 医疗救助), the
maternity and work-injury terms, 双通道 rules, cross-region adjustments and the personal-account
order. Ratios are exact decimals written as quoted strings in YAML (``ratio: "0.85"``) because a
YAML float is a binary float. Cross-field problems are reported as ``path: reason`` so the loader
can name the place in the file.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from onestop.domain.codes import MedicalAssistance, PrescribingContext
from onestop.drg.settings import DrgSettings
from onestop.policy._terms import (
    ANY,
    DEFAULT_PHARMACY,
    AssistanceTerms,
    CivilServantTerms,
    CrossRegionTerms,
    DualChannelRules,
    HospitalTier,
    InsutypeTerms,
    KindTerms,
    MaternityTerms,
    WorkInjuryTerms,
)
from onestop.policy._types import AccountOrder, BenefitKind, BenefitYearRule, PolicyModel, Ratio

__all__ = ["RegionalPolicy"]

# Where a kind without its own terms takes them from (one step; the chain ends at a required kind).
_FALLBACK = {
    BenefitKind.PHARMACY_OUTPATIENT: BenefitKind.GENERAL_OUTPATIENT,
    BenefitKind.PHARMACY_INPATIENT_DISCHARGE: BenefitKind.INPATIENT,
    BenefitKind.PHARMACY_CHRONIC: BenefitKind.CHRONIC_SPECIAL,
    BenefitKind.CHRONIC_SPECIAL: BenefitKind.GENERAL_OUTPATIENT,
    BenefitKind.TWO_DISEASES: BenefitKind.GENERAL_OUTPATIENT,
}

InsutypeCode = Annotated[str, Field(pattern=r"^\d{3}$")]


class RegionalPolicy(PolicyModel):
    """One pooling region's (or province's) settlement policy, effective-dated and versioned."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_-]+$")]
    """Short identifier (file stem), e.g. ``changchun``."""
    name: str
    """Display name, e.g. 长春市."""
    admdvs: Annotated[str, Field(pattern=r"^\d{6}$")]
    """The pooling region (e.g. ``220100``) or province (``220000``) the policy covers."""
    version: Annotated[str, Field(min_length=1)]
    """Version recorded in every settlement that uses the policy."""
    label: Annotated[str, Field(min_length=1)]
    """Status of the figures, e.g. "unverified example parameters"; carried into every settlement."""
    source: str = ""
    """Where the figures come from (document numbers, or "fictional")."""
    valid_from: dt.date
    """First day the policy is in force."""
    valid_to: dt.date | None = None
    """Last day in force; None = open-ended."""
    hospital_tiers: Annotated[tuple[HospitalTier, ...], Field(min_length=1)]
    """The hospital tiers this region defines (bills name one in ``hospital.tier``)."""
    benefit_year_rule: BenefitYearRule = BenefitYearRule.DISCHARGE_DATE
    """Which date picks the benefit year of deductibles, caps and accumulators."""
    b_class_selfpay_ratio: Ratio
    """The region's default 乙类 先行自付 ratio."""
    b_class_overrides: dict[str, Ratio] = Field(default_factory=dict)
    """Per-item 先行自付 ratios by national code (e.g. 15 % for a 双通道 negotiated drug)."""
    account_order: AccountOrder = AccountOrder.FUNDS_COMMERCIAL_ACCOUNT_CASH
    """Whether the personal account pays after or before the commercial payers."""
    basic: dict[InsutypeCode, InsutypeTerms]
    """Basic-insurance terms by insutype code (``"310"``, ``"390"``)."""
    pharmacy: dict[PrescribingContext, BenefitKind] = Field(default_factory=lambda: dict(DEFAULT_PHARMACY))
    """Benefit kind of a pharmacy purchase (med_type 41) by prescribing context."""
    civil_servant: CivilServantTerms | None = None
    """公务员医疗补助; None = not offered."""
    medical_assistance: dict[MedicalAssistance, AssistanceTerms] = Field(default_factory=dict)
    """医疗救助 by category (dibao, tekun, low_income, relapse_poverty), the last layer."""
    maternity: MaternityTerms
    """生育保险 medical terms."""
    work_injury: WorkInjuryTerms
    """工伤 terms the engine needs."""
    dual_channel: DualChannelRules = Field(default_factory=DualChannelRules)
    """双通道 rules of the province."""
    cross_region: CrossRegionTerms = Field(default_factory=CrossRegionTerms)
    """异地就医 ratio adjustments (none by default)."""
    drg: DrgSettings | None = None
    """DRG grouper and payment settings; None when the region has no grouper configured."""

    @model_validator(mode="after")
    def _consistent(self) -> RegionalPolicy:
        problems = [*self._tier_problems(), *self._rate_problems()]
        if MedicalAssistance.NONE in self.medical_assistance:
            problems.append("medical_assistance.none: 'none' is not an assistance category")
        bad_std = sorted(set(self.maternity.standard_fen) - {"51", "52", ANY})
        if bad_std:
            problems.append(f"maternity.standard_fen: keys must be 51, 52 or *, not {bad_std}")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            problems.append("valid_to: before valid_from")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _tier_problems(self) -> list[str]:
        seen: set[str] = set()
        out = []
        for i, tier in enumerate(self.hospital_tiers):
            if tier.name == ANY or tier.name in seen:
                out.append(f"hospital_tiers[{i}].name: duplicate or reserved tier name {tier.name!r}")
            seen.add(tier.name)
        return out

    def _rate_problems(self) -> list[str]:
        tiers = [t.name for t in self.hospital_tiers]
        out = []
        for code, terms in self.basic.items():
            for kind, kt in terms.kinds.items():
                at = f"basic.{code}.kinds.{kind.value}"
                pairs: set[tuple[str, str]] = set()
                for i, row in enumerate(kt.rates):
                    if row.tier != ANY and row.tier not in tiers:
                        out.append(f"{at}.rates[{i}].tier: {row.tier!r} is not one of hospital_tiers {tiers}")
                    if row.psn_group != ANY and row.psn_group not in terms.psn_groups:
                        out.append(f"{at}.rates[{i}].psn_group: {row.psn_group!r} is not in basic.{code}.psn_groups")
                    if (row.tier, row.psn_group) in pairs:
                        out.append(f"{at}.rates[{i}]: duplicate row for tier {row.tier!r}, group {row.psn_group!r}")
                    pairs.add((row.tier, row.psn_group))
                uncovered = [t for t in tiers if kt.rate(t, ANY) is None]
                if uncovered:
                    out.append(f"{at}.rates: no row for tiers {uncovered} (add them or a '*' row)")
        return out

    def resolve_kind(self, insutype: str, kind: str) -> tuple[InsutypeTerms, BenefitKind, KindTerms]:
        """The terms that apply to a benefit kind, following the documented fallbacks.

        Args:
            insutype: Insutype code with terms in ``basic``.
            kind: A :class:`BenefitKind` value.

        Returns:
            The insutype's terms, the kind whose terms (and accumulators) apply, and those terms.

        Raises:
            KeyError: no terms for the insutype, or ``kind`` is not a benefit kind.
        """
        terms = self.basic[insutype]
        applied = BenefitKind(kind)
        while applied not in terms.kinds:
            applied = _FALLBACK[applied]
        return terms, applied, terms.kinds[applied]

    def pharmacy_kind(self, context: PrescribingContext) -> BenefitKind:
        """The benefit kind of a pharmacy purchase (med_type 41) made under a prescribing context."""
        return self.pharmacy.get(context, DEFAULT_PHARMACY[context])

    def b_class_ratio(self, national_code: str) -> Decimal:
        """The 先行自付 ratio of a 乙类 item: its per-item override, else the region's default."""
        return self.b_class_overrides.get(national_code, self.b_class_selfpay_ratio)

    def tier_level(self, tier: str) -> int | None:
        """The facility level (1..3) of a tier this region defines, or None for an unknown tier."""
        for t in self.hospital_tiers:
            if t.name == tier:
                return t.level
        return None

    def in_force(self, on: dt.date) -> bool:
        """Whether the policy is in force on a date."""
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)
