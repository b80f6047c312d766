"""Summary figures: nearest-rank percentiles, exact shares, break-even premium, CIDL costs, pre-existing effect."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from simulator.sim_helpers import cell, changchun, claim, design, funded, population

from onestop.simulator import SyntheticParams, design_summary, run_fast, simulate, without_pre_existing_ratio
from onestop.simulator._summary import percentile, share


def test_percentile_is_nearest_rank_on_integers():
    """p-th percentile = the smallest value with at least p of the values at or below it."""
    v = np.array([0, 0, 0, 10, 20, 30, 40, 50, 60, 1000], dtype=np.int64)
    assert percentile(v, Decimal("0.5")) == 20
    assert percentile(v, Decimal("0.9")) == 60
    assert percentile(v, Decimal("0.99")) == 1000
    assert percentile(np.array([], dtype=np.int64), Decimal("0.5")) == 0


def test_share_is_exact_decimal_text():
    """Shares are exact quotients rounded half-up to four places, as text."""
    assert share(1, 3) == "0.3333"
    assert share(2, 3) == "0.6667"
    assert share(5, 0) == "0"


def test_figures_of_a_small_population_by_hand():
    """Premium, loss ratio, break-even premium, member distribution and deductible reach, checked by hand."""
    d = design(deductible=100_000, ratio="0.5")  # premium 100 yuan per member
    members = [{"member_id": f"m{i}"} for i in range(4)] + [{"member_id": "out", "insured_region": "110100"}]
    pop = population(
        members,
        [claim("a", "m0", "2026-02-01"), claim("b", "m1", "2026-02-01"), claim("c", "out", "2026-02-01")],
        [cell("a", 300_000), cell("b", 50_000), cell("c", 900_000)],
    )
    s = design_summary(run_fast(pop, d))
    assert s["enrolled_members"] == 4  # Beijing member not admitted
    assert s["premium_fen"] == 40_000
    assert s["payout_fen"] == 100_000
    assert s["loss_ratio"] == "2.5000"
    assert s["break_even_premium_fen"] == 25_000
    assert s["member_payout"]["max"] == 100_000
    assert s["member_payout"]["p50"] == 0
    assert s["member_payout"]["share_paid"] == "0.2500"
    assert s["member_payout"]["share_reaching_deductible"] == "0.2500"
    assert s["member_payout"]["top_1pct_share"] == "1.0000"
    # Sold for nothing but paying: there is no loss ratio to state (None), not a ratio of 0.
    free = design_summary(run_fast(pop, d.model_copy(update={"premium_fen": 0})))
    assert (free["premium_fen"], free["loss_ratio"]) == (0, None)
    assert free["payout_fen"] == 100_000


def test_cidl_costs_add_up_to_what_the_product_paid_on_cidl_lines():
    """Per-drug costs are the payout allocated to each CIDL line; CAR-T is entries 10–14."""
    f = funded()
    r = run_fast(f.population, changchun("heilongjiang-upgraded-2025"))
    s = design_summary(r)
    assert sum(c["paid_fen"] for c in s["cidl"]) == int(r.cell_paid[r.cell_cidl > 0].sum())
    assert s["car_t"]["paid_fen"] == sum(c["paid_fen"] for c in s["cidl"] if c["car_t"])
    assert s["car_t"]["paid_fen"] > 0
    assert int(r.cell_paid.sum()) == r.payout_fen


def test_pre_existing_effect_is_the_payout_difference_without_the_ratio():
    """The saving of a pre-existing ratio = payout without it − payout with it, on the same population."""
    d = changchun("heilongjiang-upgraded-2025")
    run = simulate(
        [d],
        synthetic=SyntheticParams(
            members=800,
            seed=9,
            car_t_uptake=Decimal("0.01"),
            pre_existing_prevalence={"malignant_tumour": Decimal("0.6")},
        ),
    )
    s = run.summary["designs"][0]
    funded_pop = run_population(run)
    alt = run_fast(funded_pop, without_pre_existing_ratio(d))
    assert s["pre_existing"]["payout_without_pre_existing_ratio_fen"] == alt.payout_fen
    assert s["pre_existing"]["saving_fen"] == alt.payout_fen - s["payout_fen"]
    assert s["pre_existing"]["saving_fen"] > 0
    assert funded_pop.n_claims == s["claims"]


def run_population(run):
    """The population a synthetic run used (same params → same population)."""
    from onestop.simulator import run_funds, synthesize

    params = SyntheticParams.model_validate(run.summary["assumptions"])
    return run_funds(synthesize(params)).population
