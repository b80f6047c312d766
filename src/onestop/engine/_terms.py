"""The engine's view of a regional policy: the few values and calculators the stages need.

Only :func:`terms_from_policy` knows the policy model's field names; the stages read
:class:`Terms`. Keeping this seam narrow means a policy schema change touches one function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from onestop.errors import FieldViolation, InvalidRequest


@dataclass(frozen=True, slots=True)
class Terms:
    """Policy values the engine stages use, resolved once per settlement."""

    policy: Any
    """The RegionalPolicy (passed to the policy calculators untouched)."""
    policy_id: str
    policy_version: str
    policy_label: str
    default_b_ratio: Decimal
    b_overrides: Mapping[str, Decimal]
    facility_levels: Mapping[str, int]
    treatment_levels: Mapping[str, int]
    """The treatment region's tiers (异地: insured elsewhere); empty for a visit at home."""
    treatment_policy_id: str
    benefit_year_rule: str
    """discharge_date | admission_date | line_date."""
    dual_channel_needs_filing: bool
    dual_channel_needs_e_prescription: bool
    account_first: bool
    """Personal account pays before commercial payers (else after them)."""
    meal_allowance_per_day_fen: int
    work_injury_uncovered_payer: str
    """Who bears work-related amounts the work-injury fund does not pay: employer | patient."""
    drg: Any | None

    def facility_level(self, tier: str) -> int:
        """The facility level (1..3) of the hospital's tier, as the region it is in defines it.

        A hospital's tier is named by its own region: for an 异地 visit it is looked up among the
        treatment region's tiers, else among the insured region's.

        Raises:
            InvalidRequest: the tier is not one of that region's tiers.
        """
        levels, region = (
            (self.treatment_levels, self.treatment_policy_id)
            if self.treatment_levels
            else (self.facility_levels, self.policy_id)
        )
        try:
            return levels[tier]
        except KeyError:
            tiers = ", ".join(sorted(levels))
            raise InvalidRequest(
                "unknown hospital tier",
                violations=(FieldViolation("hospital.tier", f"{tier!r} is not a tier of {region} ({tiers})"),),
            ) from None

    def rate_tier(self, tier: str) -> str:
        """The insured region's tier whose deductible and ratios apply to a hospital of ``tier``.

        At home it is the tier itself. For an 异地 visit the insured region applies the terms of its own
        hospitals of the same level (参保地同级别待遇): its tier of the same name when that has the
        level, else its first declared tier of the level.

        Raises:
            InvalidRequest: the tier is unknown, or the insured region has no tier of its level.
        """
        level = self.facility_level(tier)
        if not self.treatment_levels:
            return tier
        if self.facility_levels.get(tier) == level:
            return tier
        for name, lv in self.facility_levels.items():
            if lv == level:
                return name
        raise InvalidRequest(
            "no tier of the hospital's level in the insured region",
            violations=(
                FieldViolation(
                    "hospital.tier", f"{self.policy_id} defines no tier of level {level} (the level of {tier!r})"
                ),
            ),
        )


def terms_from_policy(policy: Any, treatment: Any | None = None) -> Terms:
    """Read the engine's :class:`Terms` off a ``onestop.policy.RegionalPolicy``.

    Args:
        policy: The insured region's policy (参保地).
        treatment: The treatment region's policy for an 异地 visit (就医地), whose tiers name the
            hospital's; None (or the same policy) for a visit at home.
    """
    away = treatment if treatment is not None and treatment.id != policy.id else None
    return Terms(
        policy=policy,
        policy_id=policy.id,
        policy_version=str(policy.version),
        policy_label=policy.label,
        default_b_ratio=policy.b_class_selfpay_ratio,
        b_overrides=dict(policy.b_class_overrides),
        facility_levels={t.name: t.level for t in policy.hospital_tiers},
        treatment_levels={t.name: t.level for t in away.hospital_tiers} if away is not None else {},
        treatment_policy_id=away.id if away is not None else policy.id,
        benefit_year_rule=str(policy.benefit_year_rule),
        dual_channel_needs_filing=policy.dual_channel.requires_filing,
        dual_channel_needs_e_prescription=policy.dual_channel.requires_e_prescription,
        account_first=str(policy.account_order).startswith("funds_account"),
        meal_allowance_per_day_fen=int(policy.work_injury.meal_allowance_per_day_fen),
        work_injury_uncovered_payer=str(policy.work_injury.uncovered_payer),
        # A hospital's cases are paid under its own region's DRG (就医地), 异地 ones included.
        drg=getattr(away if away is not None else policy, "drg", None),
    )
