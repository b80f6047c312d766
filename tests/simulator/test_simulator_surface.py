"""The public surface of onestop.simulator is locked and documented: a change is a deliberate diff."""

from __future__ import annotations

import inspect

import onestop.simulator

SURFACE = """
    AgeBand CareCost DesignResult FundedPopulation Population Register SimulationRun SyntheticMember
    SyntheticParams SyntheticPopulation design_summary member_register read_population render_html run_exact
    run_fast run_funds run_on_dask simulate synthesize without_pre_existing_ratio write_population
"""


def test_simulator_exports_exactly_the_documented_names():
    """onestop.simulator exports exactly these names, each with a docstring."""
    assert sorted(onestop.simulator.__all__) == sorted(SURFACE.split())
    for name in onestop.simulator.__all__:
        assert inspect.getdoc(getattr(onestop.simulator, name)), name
