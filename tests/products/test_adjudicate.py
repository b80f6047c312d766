"""The adjudication rules of onestop.products.adjudicate, one rule per test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from products.prod_helpers import design, line, offer

from onestop.domain.offer import AnswerStatus, Category
from onestop.errors import InvalidRequest
from onestop.products import MemberFacts, accumulator_keys, adjudicate
from onestop.sdk import ReasonCode

C = Category
MEMBER = MemberFacts(enrolled_on=dt.date(2026, 1, 1))


def test_deductible_then_ratio_then_half_up():
    """Paid = round_half_up((eligible − deductible) × ratio); the deductible is borne first."""
    d = design()
    o = offer([line("1", {C.COPAY: 100_000 + 1_005})])  # 1,005 above the shared deductible, 90 %
    r = adjudicate(d, o, MEMBER, {})
    assert r.totals == {C.COPAY: 905}  # 904.5 rounds half-up
    assert r.status is AnswerStatus.PARTIAL
    assert r.deltas == {"deductible:shared": 100_000, "paid:in_catalog": 905}
    (out,) = r.outcomes
    assert (out.eligible_fen, out.deductible_fen, out.paid_fen, out.ratio) == (101_005, 100_000, 905, Decimal("0.90"))


def test_shared_deductible_is_borne_once_across_liabilities():
    """Liabilities naming the same pool share one deductible, consumed in design order."""
    d = design()
    o = offer([line("1", {C.COPAY: 60_000}), line("2", {C.FULAMT_OWNPAY: 60_000})])
    r = adjudicate(d, o, MEMBER, {})
    # in_catalog takes 60,000 of the deductible (pays 0); out_of_catalog takes the last 40,000: 20,000 × 50 %
    assert r.totals == {C.FULAMT_OWNPAY: 10_000}
    assert r.deltas == {"deductible:shared": 100_000, "paid:out_of_catalog": 10_000}


def test_separate_deductible_pools_do_not_meet_each_other():
    """A drug liability with its own pool bears its own deductible, whatever the shared pool holds."""
    d = design()
    o = offer([line("1", {C.CIDL: 150_000}, cidl_no=10)])
    r = adjudicate(d, o, MEMBER, {"deductible:shared": 100_000})
    assert r.totals == {C.CIDL: 80_000}  # (150,000 − 50,000) × 80 %
    assert r.deltas["deductible:drugs"] == 50_000


def test_accumulated_deductible_and_sum_insured_carry_over():
    """Accumulators of the product year reduce the deductible left and the sum-insured room."""
    d = design()
    o = offer([line("1", {C.CIDL: 500_000}, cidl_no=10)])
    r = adjudicate(d, o, MEMBER, {"deductible:drugs": 50_000, "paid:drugs": 250_000})
    assert r.totals == {C.CIDL: 50_000}  # 400,000 due, 50,000 room left
    assert r.reason is ReasonCode.CAP_REACHED
    exhausted = adjudicate(d, o, MEMBER, {"deductible:drugs": 50_000, "paid:drugs": 300_000})
    assert exhausted.status is AnswerStatus.DECLINED
    assert exhausted.reason is ReasonCode.SUM_INSURED_EXHAUSTED


def test_drug_list_goes_first_by_cidl_number_or_name():
    """A listed drug is paid under the drug liability (by CIDL number or exact name); other CIDL lines are not."""
    d = design()
    o = offer(
        [
            line("1", {C.CIDL: 100_000}, cidl_no=10),
            line("2", {C.FULAMT_OWNPAY: 100_000}, name="fixture-drug"),
            line("3", {C.CIDL: 100_000}, cidl_no=11),
        ]
    )
    r = adjudicate(d, o, MEMBER, {})
    (drug,) = [x for x in r.outcomes if x.liability == "special_drug"]
    assert drug.eligible_fen == 200_000
    assert r.totals == {C.CIDL: 60_000, C.FULAMT_OWNPAY: 60_000}  # (200,000 − 50,000) × 80 % split by amount
    by_sn = {lp.feedetl_sn: lp for lp in r.lines}
    # CIDL no. 11 is on no list and the general liabilities here do not take the CIDL category
    assert (by_sn["3"].amounts, by_sn["3"].reason) == ({}, "NOT_COVERED")
    assert (r.status, r.reason) == (AnswerStatus.PARTIAL, ReasonCode.NOT_COVERED)


def test_totals_only_offer_matches_no_drug_list():
    """Without line detail a drug list cannot be proven: the CIDL total is not covered."""
    d = design()
    r = adjudicate(d, offer(totals={C.CIDL: 500_000}), MEMBER, {})
    assert r.status is AnswerStatus.DECLINED
    assert r.reason is ReasonCode.NOT_COVERED
    assert r.deltas == {}


def test_pre_existing_ratio_applies_only_with_matching_registered_group():
    """The lower ratio applies when a diagnosis belongs to a pre-existing group the member registered."""
    d = design()
    o = offer([line("1", {C.CIDL: 150_000}, cidl_no=10)], diagnoses=("C34.900",))
    flagged = MemberFacts(enrolled_on=dt.date(2026, 1, 1), pre_existing=frozenset({"tumour"}))
    assert adjudicate(d, o, flagged, {}).totals == {C.CIDL: 40_000}  # 100,000 × 40 %
    assert adjudicate(d, o, flagged, {}).reason is ReasonCode.PRE_EXISTING_CONDITION
    assert adjudicate(d, o, MEMBER, {}).totals == {C.CIDL: 80_000}
    other = offer([line("1", {C.CIDL: 150_000}, cidl_no=10)], diagnoses=("K35.800",))
    assert adjudicate(d, other, flagged, {}).totals == {C.CIDL: 80_000}


def test_waiting_period_pays_nothing_and_does_not_count_to_deductible():
    """Within a liability's waiting period it pays 0 and its amounts bear no deductible."""
    d = design()
    m = MemberFacts(enrolled_on=dt.date(2026, 2, 10))
    o = offer([line("1", {C.COPAY: 200_000}), line("2", {C.FULAMT_OWNPAY: 200_000})], admission="2026-03-01")
    r = adjudicate(d, o, m, {})
    in_cat = next(x for x in r.outcomes if x.liability == "in_catalog")
    assert (in_cat.paid_fen, in_cat.deductible_fen, in_cat.reason) == (0, 0, ReasonCode.WAITING_PERIOD)
    assert r.totals == {C.FULAMT_OWNPAY: 50_000}  # out_of_catalog bears the whole shared deductible
    assert r.reason is ReasonCode.WAITING_PERIOD
    day_30 = offer([line("1", {C.COPAY: 200_000})], admission="2026-03-12")
    assert adjudicate(d, day_30, m, {}).totals == {C.COPAY: 90_000}


def test_outside_policy_period_or_unknown_member_is_not_eligible():
    """A discharge outside the policy period, an unknown member or one enrolled after admission: NOT_ELIGIBLE."""
    d = design()
    o = offer([line("1", {C.COPAY: 500_000})])
    late = offer([line("1", {C.COPAY: 500_000})], discharge="2027-01-02")
    for r in (
        adjudicate(d, late, MEMBER, {}),
        adjudicate(d, o, None, {}),
        adjudicate(d, o, MemberFacts(enrolled_on=dt.date(2026, 3, 2)), {}),
    ):
        assert (r.status, r.reason, r.paid_fen, r.deltas) == (AnswerStatus.DECLINED, ReasonCode.NOT_ELIGIBLE, 0, {})


def test_full_payment_is_approved_without_reason():
    """Everything offered paid: APPROVED with reason NONE."""
    text = design().model_dump_json()
    d = design().model_validate_json(text.replace('"0.90"', '"1"').replace('"shared":100000', '"shared":0'))
    r = adjudicate(d, offer([line("1", {C.COPAY: 12_345})]), MEMBER, {})
    assert (r.status, r.reason, r.paid_fen) == (AnswerStatus.APPROVED, ReasonCode.NONE, 12_345)


def test_payment_is_split_over_cells_without_exceeding_any():
    """A liability's payment goes to its cells by largest remainder, never above a cell, summing exactly."""
    d = design()
    lines = [line(str(i), {C.PRESELFPAY: 33_333 + i, C.COPAY: 17_777 * i}) for i in range(1, 6)]
    r = adjudicate(d, offer(lines), MEMBER, {})
    paid_cells = {(lp.feedetl_sn, c): int(v) for lp in r.lines for c, v in lp.amounts.items()}
    offered = {(lo.feedetl_sn, c): int(v) for lo in lines for c, v in lo.amounts.items()}
    assert all(v <= offered[k] for k, v in paid_cells.items())
    assert sum(paid_cells.values()) == r.paid_fen == r.outcomes[0].paid_fen
    assert all(lp.reason == "COVERED" for lp in r.lines)


def test_offer_for_another_product_is_refused():
    """Adjudicating an offer under another product's design is a caller error."""
    with pytest.raises(InvalidRequest):
        adjudicate(design(), offer([line("1", {C.COPAY: 1})], product="other"), MEMBER, {})


def test_accumulator_keys_cover_every_pool_used():
    """accumulator_keys lists the deductible and sum-insured keys the liabilities use, once each."""
    assert accumulator_keys(design()) == (
        "deductible:drugs",
        "deductible:shared",
        "paid:drugs",
        "paid:in_catalog",
        "paid:out_of_catalog",
    )
