"""Closed-form checks: each product rule over claims whose payout can be written down by hand, in both modes."""

from __future__ import annotations

import pytest
from simulator.sim_helpers import assert_same, cell, claim, design, half_up, paid_by_claim, population

from onestop.simulator import run_exact, run_fast


def _both(pop, d):
    exact, fast = run_exact(pop, d), run_fast(pop, d)
    assert_same(exact, fast)
    return exact


@pytest.mark.parametrize("ratio", ["0.70", "0.85", "1", "0.333"])
def test_deductible_then_ratio_over_a_members_claims(ratio):
    """One liability, deductible D and ratio r: the year pays round_half_up((Σ − D) × r) per claim above D."""
    d = design(deductible=1_000_000, ratio=ratio)
    amounts = [400_000, 500_000, 300_001, 250_003]
    pop = population(
        [{"member_id": "A"}],
        [claim(f"c{i}", "A", f"2026-0{i + 1}-10") for i in range(4)],
        [cell(f"c{i}", a) for i, a in enumerate(amounts)],
    )
    r = _both(pop, d)
    paid = paid_by_claim(r)
    assert paid["c0"] == 0
    assert paid["c1"] == 0
    assert paid["c2"] == half_up(200_001, ratio)
    assert paid["c3"] == half_up(250_003, ratio)
    assert r.deductible.sum() == 1_000_000


def test_sum_insured_caps_the_year_and_later_claims_get_nothing():
    """The sum insured caps what a member is paid in the year; a later claim finds no room."""
    d = design(deductible=0, limit=1_000_000, ratio="1")
    pop = population(
        [{"member_id": "A"}],
        [claim("c1", "A", "2026-02-01"), claim("c2", "A", "2026-03-01"), claim("c3", "A", "2026-04-01")],
        [cell("c1", 700_000), cell("c2", 700_000), cell("c3", 5)],
    )
    assert paid_by_claim(_both(pop, d)) == {"c1": 700_000, "c2": 300_000, "c3": 0}


@pytest.mark.parametrize(("admission", "pays"), [("2026-03-30", False), ("2026-03-31", True)])
def test_waiting_period_counts_from_enrolment(admission, pays):
    """Admission before enrolled_on + waiting_days pays nothing and bears no deductible; on that day it pays."""
    import datetime as dt

    d = design(deductible=100_000, ratio="0.5", waiting_days=30)
    pop = population(
        [{"member_id": "A", "enrolled_on": dt.date(2026, 3, 1)}],
        [claim("c1", "A", admission, "2026-04-05"), claim("c2", "A", "2026-05-01")],
        [cell("c1", 300_000), cell("c2", 150_000)],
    )
    r = _both(pop, d)
    paid = paid_by_claim(r)
    if pays:
        assert paid == {"c1": 100_000, "c2": 75_000}
    else:
        # The waiting claim bore nothing, so the next claim meets the whole deductible.
        assert paid == {"c1": 0, "c2": 25_000}
        assert bool(r.waiting[0, 0])


def test_member_enrolled_after_admission_or_outside_period_is_not_covered():
    """A claim admitted before enrolment (a stay from last year included) or discharged outside the year pays nothing."""
    import datetime as dt

    d = design(deductible=0, ratio="1")
    pop = population(
        [{"member_id": "A", "enrolled_on": dt.date(2026, 6, 1)}, {"member_id": "B"}],
        [
            claim("a1", "A", "2026-05-20", "2026-06-10"),
            claim("b1", "B", "2025-12-20", "2025-12-31"),
            claim("b2", "B", "2026-12-28", "2027-01-02"),
            claim("b3", "B", "2025-12-28", "2026-01-02"),
            claim("b4", "B", "2026-01-01", "2026-01-03"),
        ],
        [cell("a1", 1000), cell("b1", 1000), cell("b2", 1000), cell("b3", 1000), cell("b4", 1000)],
    )
    r = _both(pop, d)
    assert paid_by_claim(r) == {"a1": 0, "b1": 0, "b2": 0, "b3": 0, "b4": 1000}
    assert dict(zip(r.claim_ids, r.covered.tolist(), strict=True)) == {
        "a1": False,
        "b1": False,
        "b2": False,
        "b3": False,
        "b4": True,
    }


def test_pre_existing_ratio_applies_only_to_a_registered_group_with_a_matching_diagnosis():
    """Pre-existing ratio p applies when the member has the group and a diagnosis is in it; else ratio r."""
    d = design(deductible=0, ratio="0.80", pre_ratio="0.30")
    pop = population(
        [{"member_id": "A", "pre_existing": "malignant_tumour"}, {"member_id": "B"}],
        [
            claim("a1", "A", "2026-02-01", diagnoses="C83.300"),
            claim("a2", "A", "2026-03-01", diagnoses="K35.800;C34.900"),
            claim("a3", "A", "2026-04-01", diagnoses="K35.800"),
            claim("b1", "B", "2026-02-01", diagnoses="C83.300"),
        ],
        [cell("a1", 100_001), cell("a2", 100_001), cell("a3", 100_001), cell("b1", 100_001)],
    )
    r = _both(pop, d)
    assert paid_by_claim(r) == {
        "a1": half_up(100_001, "0.30"),
        "a2": half_up(100_001, "0.30"),
        "a3": half_up(100_001, "0.80"),
        "b1": half_up(100_001, "0.80"),
    }
    assert r.pre_existing.tolist() == [True, True, False, False]


def test_accumulators_run_across_new_year_in_a_product_year_that_is_not_the_calendar_year():
    """A July–June product year: December and January claims share one deductible and sum insured."""
    d = design(deductible=500_000, limit=800_000, ratio="1", start="2026-07-01", end="2027-06-30")
    pop = population(
        [{"member_id": "A"}],
        [
            claim("dec", "A", "2026-12-20", "2026-12-30"),
            claim("jan", "A", "2026-12-30", "2027-01-05"),
            claim("feb", "A", "2027-02-01"),
            claim("next", "A", "2027-06-28", "2027-07-02"),
        ],
        [cell("dec", 400_000), cell("jan", 600_000), cell("feb", 900_000), cell("next", 900_000)],
    )
    r = _both(pop, d)
    # dec: all deductible; jan: 100k more deductible, 500k paid; feb: 300k left of 800k; next: outside the year.
    assert paid_by_claim(r) == {"dec": 0, "jan": 500_000, "feb": 300_000, "next": 0}


def test_first_liability_with_a_matching_drug_list_takes_the_line():
    """A CAR-T line goes to the CAR-T liability (own deductible and ratio); other lines to the general one."""
    car_t = """
  - id: car_t
    kind: car_t
    categories: [cidl]
    drugs: {cidl_nos: [10]}
    deductible: cart
    limit: cart
    ratio: 1.00"""
    d = design(deductible=1_000, ratio="0.5", extra_liabilities=car_t, extra_pools=", cart: 2000")
    pop = population(
        [{"member_id": "A"}],
        [claim("c1", "A", "2026-02-01"), claim("c2", "A", "2026-03-01")],
        [
            cell("c1", 10_000, "cidl", cidl_no=10, name="阿基仑赛注射液"),
            cell("c1", 3_000, "cidl", cidl_no=4),
            cell("c1", 5_000, "copay"),
            cell("c2", 10_000, "cidl", cidl_no=10, detail=False),
        ],
    )
    r = _both(pop, d)
    assert r.paid[0].tolist() == [2_000, 3_500]  # CAR-T capped at its 2000 pool; general (8000−1000)×0.5
    assert r.paid[1].tolist() == [0, 5_000]  # a totals-only offer matches no drug list
