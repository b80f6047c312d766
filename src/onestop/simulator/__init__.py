"""Coverage-design simulator for 惠民保 product teams: what a design pays, for whom, and what-ifs.

* :func:`synthesize` — a seeded synthetic population from documented assumptions (:class:`SyntheticParams`).
* :func:`run_funds` — the engine's fund stages once per claim (the product layer's input).
* :func:`run_exact` — every claim through :func:`onestop.products.adjudicate`, the huiminbao adapter's code.
* :func:`run_fast` — the same rules over whole columns (numpy), equal to exact mode to the fen.
"""

from onestop.simulator._exact import run_exact
from onestop.simulator._fast import run_fast
from onestop.simulator._funds import FundedPopulation, run_funds
from onestop.simulator._result import DesignResult, Register, member_register
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
    "SyntheticMember",
    "SyntheticParams",
    "SyntheticPopulation",
    "member_register",
    "run_exact",
    "run_fast",
    "run_funds",
    "synthesize",
]
