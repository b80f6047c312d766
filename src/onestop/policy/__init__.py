"""Regional policy as data (YAML with a published JSON Schema) and the pure fund calculators.

``policy_for(region, on)`` picks a packaged policy (pooling region, then province);
``load_policy(path)`` reads one from a file. ``compute_basic`` and ``compute_maternity`` turn a bill's
in-scope amount and the person's accumulators into fund amounts, with no I/O.
"""

from onestop.policy._accumulators import Accumulators
from onestop.policy._basic import BasicFundResult, FundPayment, compute_basic
from onestop.policy._load import load_policy, packaged_policies, parse_policy, policy_for, treatment_policy_for
from onestop.policy._maternity import MaternityResult, compute_maternity
from onestop.policy._model import RegionalPolicy
from onestop.policy._schema import policy_json_schema
from onestop.policy._terms import (
    AssistanceTerms,
    Band,
    BandedLayerTerms,
    CivilServantTerms,
    CrossRegionTerms,
    DualChannelRules,
    HospitalTier,
    InsutypeTerms,
    KindTerms,
    LayerTilt,
    MaternityTerms,
    Rate,
    WorkInjuryTerms,
)
from onestop.policy._types import (
    AccountOrder,
    BenefitKind,
    BenefitYearRule,
    CrossRegion,
    DeductiblePer,
    LayerBase,
    UncoveredPayer,
)

__all__ = [
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
