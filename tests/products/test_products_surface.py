"""The public surface of onestop.products is locked: the simulator builds on it, so a change is a deliberate diff."""

from __future__ import annotations

import onestop.products

SURFACE = """
    Adjudication Design DrugList Eligibility Liability LiabilityKind LiabilityOutcome MemberFacts PolicyPeriod
    PreExistingGroup ProductPayer Ratio accumulator_keys adjudicate deductible_key in_process_payer load_design
    load_product paid_key parse_design shipped_designs
"""


def test_products_exports_exactly_the_documented_names():
    """onestop.products exports exactly the names the simulator and the adapter rely on."""
    assert sorted(onestop.products.__all__) == sorted(SURFACE.split())
    assert all(hasattr(onestop.products, name) for name in onestop.products.__all__)
