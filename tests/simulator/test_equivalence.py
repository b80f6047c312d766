"""Exact mode (the adapter's adjudicate, claim by claim) and fast mode (vectorised) agree to the fen."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simulator.sim_helpers import assert_same, cell, changchun, claim, design, funded, population

from onestop.products import parse_design
from onestop.simulator import run_exact, run_fast

SHARED = """
code: shared-pools
name: 共用免赔额
source: test
policy_period: {start: 2026-03-01, end: 2027-02-28}
premium_fen: 9900
eligibility: {insured_regions: ["220100"], insutypes: ["310", "390"], min_age: 0, max_age: 80}
deductibles: {main: 800000, drugs: 300000}
limits: {main: 3000000, drugs: 5000000}
pre_existing:
  - {id: malignant_tumour, icd10_prefixes: ["C"]}
  - {id: cardio_cerebrovascular, icd10_prefixes: ["I25", "I63"]}
liabilities:
  - id: car_t
    kind: car_t
    categories: [cidl, fulamt_ownpay]
    drugs: {cidl_nos: [10, 11, 12, 13, 14]}
    deductible: drugs
    limit: drugs
    ratio: 0.95
    pre_existing_ratio: 0.40
    waiting_days: 60
  - id: special
    kind: special_drug
    categories: [cidl]
    drugs: {cidl_nos: [1, 2, 3, 4, 5, 6, 7, 8, 9], names: ["注射用芦比替定"]}
    deductible: drugs
    limit: drugs
    ratio: 0.65
  - id: in_catalog
    kind: in_catalog
    categories: [preselfpay, deductible, copay]
    deductible: main
    limit: main
    ratio: 0.85
    pre_existing_ratio: 0.5
    waiting_days: 30
  - id: out_of_catalog
    kind: out_of_catalog
    categories: [fulamt_ownpay, overlmt, cidl]
    deductible: main
    limit: main
    ratio: 0.55
"""


@pytest.mark.parametrize(
    "make",
    [
        lambda: changchun("heilongjiang-upgraded-2025"),
        lambda: changchun("heilongjiang-basic-2025"),
        lambda: changchun("tianjin-2025"),
        lambda: parse_design(SHARED, source="shared.yaml"),
    ],
    ids=["hlj-upgraded", "hlj-basic", "tianjin", "shared-pools"],
)
def test_exact_equals_fast_on_a_generated_population(make):
    """On a synthetic population through the engine's funds, both modes agree on every claim, liability and cell."""
    f = funded()
    d = make()
    exact = run_exact(f.population, d, offers=f.offers)
    fast = run_fast(f.population, d)
    assert_same(exact, fast)
    assert exact.payout_fen > 0
    assert int(exact.covered.sum()) > 0


def test_offers_rebuilt_from_the_tables_adjudicate_like_the_engines_own():
    """The cells table carries everything adjudication reads: engine offers and rebuilt offers pay the same."""
    f = funded()
    d = parse_design(SHARED, source="shared.yaml")
    assert_same(run_exact(f.population, d, offers=f.offers), run_exact(f.population, d))


def test_generated_population_exercises_every_rule():
    """The generated population is rich enough to test the modes: waiting periods, pre-existing, caps, totals-only."""
    f = funded()
    d = parse_design(SHARED, source="shared.yaml")
    r = run_fast(f.population, d)
    assert r.waiting.any()
    assert r.pre_existing.any()
    assert (~f.population.cells.get_column("detail")).any()
    assert (r.paid.sum(axis=0) > 0).all()


_CATS = ["fulamt_ownpay", "cidl", "overlmt", "preselfpay", "deductible", "copay"]
_cell = st.tuples(
    st.integers(0, 3),  # claim
    st.sampled_from(_CATS),
    st.integers(1, 400_000),
    st.sampled_from([None, 1, 4, 10, 12]),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(_cell, min_size=1, max_size=40),
    days=st.lists(st.integers(0, 400), min_size=8, max_size=8),
    detail=st.lists(st.booleans(), min_size=8, max_size=8),
    deductible=st.integers(0, 600_000),
    limit=st.integers(1, 900_000),
    ratio=st.sampled_from(["0.5", "0.7", "0.333", "1", "0.015"]),
    waiting=st.integers(0, 90),
)
def test_exact_equals_fast_on_random_small_populations(cells, days, detail, deductible, limit, ratio, waiting):
    """Random claims of two members (shared pools, drug lists, waiting days, rounding): the modes agree to the fen."""
    car_t = """
  - id: car_t
    kind: car_t
    categories: [cidl]
    drugs: {cidl_nos: [10, 12]}
    deductible: main
    limit: cart
    ratio: 0.9
    pre_existing_ratio: 0.25"""
    d = design(
        deductible=deductible,
        limit=limit,
        ratio=ratio,
        pre_ratio="0.2",
        waiting_days=waiting,
        extra_liabilities=car_t,
        extra_pools=", cart: 700000",
        categories="[cidl, copay, deductible, overlmt]",
    )
    start = dt.date(2025, 12, 1)
    claims = []
    for k in range(8):
        adm = start + dt.timedelta(days=days[k])
        claims.append(
            claim(f"c{k}", "AB"[k % 2], adm.isoformat(), (adm + dt.timedelta(days=k)).isoformat(), diagnoses="C83.300")
        )
    rows = []
    totals: dict[tuple[str, str], dict] = {}
    for i, (c, cat, amount, no) in enumerate(cells):
        cid = f"c{c * 2 + (i % 2)}"
        if detail[c * 2 + (i % 2)]:
            rows.append(cell(cid, amount, cat, cidl_no=no))
        elif (cid, cat) in totals:  # an offer without line detail has one total per category
            totals[(cid, cat)]["amount_fen"] += amount
        else:
            totals[(cid, cat)] = cell(cid, amount, cat, detail=False)
            rows.append(totals[(cid, cat)])
    pop = population(
        [
            {"member_id": "A", "pre_existing": "malignant_tumour", "enrolled_on": dt.date(2026, 1, 20)},
            {"member_id": "B"},
        ],
        claims,
        rows,
    )
    assert_same(run_exact(pop, d), run_fast(pop, d))
