"""The public surface of onestop.policy is deliberate: a change to it is a visible diff here."""

from __future__ import annotations

import onestop.policy

EXPECTED = [
    "AccountOrder",
    "Accumulators",
    "AssistanceTerms",
    "Band",
    "BandedLayerTerms",
    "BasicFundResult",
    "BenefitKind",
    "BenefitYearRule",
    "CivilServantTerms",
    "CrossRegion",
    "CrossRegionTerms",
    "DeductiblePer",
    "DualChannelRules",
    "FundPayment",
    "HospitalTier",
    "InsutypeTerms",
    "KindTerms",
    "LayerBase",
    "LayerTilt",
    "MaternityResult",
    "MaternityTerms",
    "Rate",
    "RegionalPolicy",
    "UncoveredPayer",
    "WorkInjuryTerms",
    "compute_basic",
    "compute_maternity",
    "load_policy",
    "packaged_policies",
    "parse_policy",
    "policy_for",
    "policy_json_schema",
    "treatment_policy_for",
]


def test_public_names():
    """onestop.policy exports exactly the curated, sorted list of names."""
    assert onestop.policy.__all__ == EXPECTED


def test_public_names_resolve():
    """Every exported name exists on the package."""
    assert all(hasattr(onestop.policy, name) for name in EXPECTED)
