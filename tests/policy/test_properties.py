"""Properties of the fund calculators over every packaged region, person and accumulator state."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from policy.pol_helpers import CHANGCHUN, HANGZHOU, TEXTBOOK

from onestop.domain.codes import MedicalAssistance
from onestop.money import Fen, apply_ratio
from onestop.policy import Accumulators, BasicFundResult, BenefitKind, CrossRegion, compute_basic, compute_maternity
from onestop.policy._layers import base_for_share

POLICIES = (TEXTBOOK, CHANGCHUN, HANGZHOU)
AMOUNT_FIELDS = (
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "hosp_part_amt",
    "oth_pay",
    "fund_pay_sumamt",
    "deductible",
    "copay",
)
ZERO = Accumulators(year=2026)
acc_st = st.builds(
    Accumulators,
    year=st.just(2026),
    **{name: st.integers(0, 45_000_000).map(Fen) for name in ZERO.amounts()},
)


@st.composite
def cases(draw):
    """A packaged policy and every other argument of compute_basic except the in-scope amount."""
    policy = draw(st.sampled_from(POLICIES))
    return {
        "policy": policy,
        "insutype": draw(st.sampled_from(sorted(policy.basic))),
        "psn_type": draw(st.sampled_from(["11", "12", "1204", "1403", "15"])),
        "tier": draw(st.sampled_from([t.name for t in policy.hospital_tiers])),
        "kind": draw(st.sampled_from(list(BenefitKind))).value,
        "civil_servant": draw(st.booleans()),
        "assistance": draw(st.sampled_from(list(MedicalAssistance))).value,
        "personal_outside_fen": draw(st.integers(0, 10_000_000)),
        "accumulators": draw(acc_st),
        "cross_region": draw(st.sampled_from(list(CrossRegion))),
    }


def run(case: dict, inscope: int) -> BasicFundResult:
    return compute_basic(inscope_fen=inscope, **case)


@given(cases(), st.integers(0, 60_000_000))
def test_identities_hold(case, inscope):
    """inscope = patient deductible + Σ funds + co-pay, and fund_pay_sumamt = Σ fund fields = Σ detail rows."""
    r = run(case, inscope)
    assert r.deductible + r.fund_pay_sumamt + r.copay == inscope
    funds = r.hifp_pay + r.cvlserv_pay + r.hifes_pay + r.hifmi_pay + r.hifob_pay + r.maf_pay + r.oth_pay
    assert r.fund_pay_sumamt == funds == sum(d.fund_payamt for d in r.details)


@given(cases(), st.integers(0, 60_000_000))
def test_no_amount_is_negative(case, inscope):
    """Every amount of the result is ≥ 0 and the patient's deductible part never exceeds the deductible charged."""
    r = run(case, inscope)
    assert all(getattr(r, name) >= 0 for name in AMOUNT_FIELDS)
    assert r.deductible <= r.act_pay_dedc <= inscope


@given(cases(), st.integers(0, 60_000_000))
def test_deltas_never_negative(case, inscope):
    """Accumulator increments are never negative and carry the benefit year they came with."""
    r = run(case, inscope)
    assert all(v >= 0 for v in r.deltas.amounts().values())
    assert r.deltas.year == case["accumulators"].year


@given(cases(), st.integers(0, 30_000_000), st.integers(0, 5_000_000))
def test_funds_monotone_in_inscope(case, a, extra):
    """More in-scope cost never lowers what the funds pay in total."""
    assert run(case, a + extra).fund_pay_sumamt >= run(case, a).fund_pay_sumamt


@given(cases(), st.integers(0, 60_000_000))
def test_caps_are_respected(case, inscope):
    """No fund pays beyond what is left of its annual cap (统筹 shared cap, 大额, 大病, 公务员, 救助)."""
    r = run(case, inscope)
    acc = case["accumulators"]
    terms = case["policy"].basic[case["insutype"]]
    assert r.deltas.pool_paid <= max(0, terms.annual_cap_fen - acc.pool_paid)
    if terms.large_amount is not None:
        assert r.hifob_pay <= max(0, terms.large_amount.annual_cap_fen - acc.large_paid)
    if terms.serious_illness is not None:
        assert r.hifmi_pay <= max(0, terms.serious_illness.annual_cap_fen - acc.serious_paid)
    cs = case["policy"].civil_servant
    assert r.cvlserv_pay <= (0 if cs is None else max(0, cs.annual_cap_fen - acc.civil_paid))


@settings(max_examples=50)
@given(cases(), st.integers(0, 20_000_000), st.integers(0, 20_000_000))
def test_yearly_deductible_charged_once_across_bills(case, first, second):
    """Two bills in a year, accumulators threaded: a yearly deductible is charged at most once in total."""
    policy = case["policy"]
    case = {**case, "accumulators": ZERO}
    r1 = run(case, first)
    terms, applied, kt = policy.resolve_kind(case["insutype"], case["kind"])
    name = f"deductible_used_{applied.value}"
    threaded = Accumulators(year=2026, **{name: Fen(r1.deltas.get(name))})
    r2 = compute_basic(**{**case, "accumulators": threaded}, inscope_fen=second)
    if kt.deductible_per.value == "year":
        row = kt.rate(case["tier"], terms.group_of(case["psn_type"]))
        assert r1.act_pay_dedc + r2.act_pay_dedc <= row.deductible_fen


@given(st.integers(1, 50_000_000), st.integers(1, 10_000).map(lambda n: Decimal(n) / 10_000))
def test_base_for_share_inverts_apply_ratio(share, ratio):
    """base_for_share gives the least base whose half-up share reaches the amount."""
    b = base_for_share(share, ratio)
    assert apply_ratio(b, ratio) >= share
    assert b == 0 or apply_ratio(b - 1, ratio) < share


@given(st.sampled_from(POLICIES), st.integers(0, 5_000_000), acc_st, st.sampled_from(["51", "52", "*"]))
def test_maternity_identity(policy, inscope, acc, med_type):
    """Maternity: inscope = deductible + fund + co-pay, all ≥ 0, the increment equals the fund payment."""
    r = compute_maternity(policy, inscope, acc, med_type=med_type)
    assert r.deductible_fen + r.fund_pay_fen + r.copay_fen == inscope
    assert min(r.deductible_fen, r.fund_pay_fen, r.copay_fen) >= 0
    assert r.deltas.maternity_paid == r.fund_pay_fen == sum(d.fund_payamt for d in r.details)
