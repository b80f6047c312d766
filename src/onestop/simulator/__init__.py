"""Coverage-design simulator for 惠民保 product teams: what a design pays, for whom, and what-ifs.

* :func:`synthesize` — a seeded synthetic population from documented assumptions (:class:`SyntheticParams`).
* :func:`run_funds` — the engine's fund stages once per claim (the product layer's input).
* :func:`run_exact` — every claim through :func:`onestop.products.adjudicate`, the huiminbao adapter's code.
* :func:`run_fast` — the same rules over whole columns (numpy), equal to exact mode to the fen.
* :func:`simulate` — designs × population → JSON summary and static HTML report (``onestop simulate``).
* :func:`read_population` / :func:`write_population` — the members, claims and lines files.
* :func:`run_on_dask` — the same run partitioned by member on a Dask cluster.
"""

from onestop.simulator._api import SimulationRun, simulate, without_pre_existing_ratio
from onestop.simulator._distributed import run_on_dask
from onestop.simulator._exact import run_exact
from onestop.simulator._fast import run_fast
from onestop.simulator._files import read_population, write_population
from onestop.simulator._funds import FundedPopulation, run_funds
from onestop.simulator._html import render_html
from onestop.simulator._result import DesignResult, Register, member_register
from onestop.simulator._summary import design_summary
from onestop.simulator._synthetic import (
    AgeBand,
    CareCost,
    SyntheticMember,
    SyntheticParams,
    SyntheticPopulation,
    synthesize,
)
from onestop.simulator._tables import Population

__all__ = [
    "AgeBand",
    "CareCost",
    "DesignResult",
    "FundedPopulation",
    "Population",
    "Register",
    "SimulationRun",
    "SyntheticMember",
    "SyntheticParams",
    "SyntheticPopulation",
    "design_summary",
    "member_register",
    "read_population",
    "render_html",
    "run_exact",
    "run_fast",
    "run_funds",
    "run_on_dask",
    "simulate",
    "synthesize",
    "without_pre_existing_ratio",
    "write_population",
]
