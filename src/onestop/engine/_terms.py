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
    benefit_year_rule: str
    """discharge_date | admission_date | line_date."""
    dual_channel_needs_filing: bool
    account_first: bool
    """Personal account pays before commercial payers (else after them)."""
    meal_allowance_per_day_fen: int
    work_injury_uncovered_payer: str
    """Who bears work-related amounts the work-injury fund does not pay: employer | patient."""
    drg: Any | None

    def facility_level(self, tier: str) -> int:
        """The facility level (1..3) of a hospital tier this region defines.

        Raises:
            InvalidRequest: the tier is not one of the region's tiers.
        """
        try:
            return self.facility_levels[tier]
        except KeyError:
            tiers = ", ".join(sorted(self.facility_levels))
            raise InvalidRequest(
                "unknown hospital tier",
                violations=(FieldViolation("hospital.tier", f"{tier!r} is not a tier of {self.policy_id} ({tiers})"),),
            ) from None


def terms_from_policy(policy: Any) -> Terms:
    """Read the engine's :class:`Terms` off a ``onestop.policy.RegionalPolicy``."""
    return Terms(
        policy=policy,
        policy_id=policy.id,
        policy_version=str(policy.version),
        policy_label=policy.label,
        default_b_ratio=policy.b_class_selfpay_ratio,
        b_overrides=dict(policy.b_class_overrides),
        facility_levels={t.name: t.level for t in policy.hospital_tiers},
        benefit_year_rule=str(policy.benefit_year_rule),
        dual_channel_needs_filing=policy.dual_channel.requires_filing,
        account_first=str(policy.account_order).startswith("funds_account"),
        meal_allowance_per_day_fen=int(policy.work_injury.meal_allowance_per_day_fen),
        work_injury_uncovered_payer=str(policy.work_injury.uncovered_payer),
        drg=getattr(policy, "drg", None),
    )
