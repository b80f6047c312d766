"""Whole-bill settlements worked by hand on the fictional textbook region (arithmetic in each docstring)."""

from __future__ import annotations

import datetime as dt

import pytest
from engine.fakes import FakeCatalog, bill, cidl, entry, line, restriction, standard
from pydantic import ValidationError

from onestop.catalog.resolution import RestrictionKind
from onestop.domain import AnswerStatus, Category, CommercialAnswer, LinePayment
from onestop.domain.settlement import Leg, PayerKey
from onestop.engine import apply_commercial, check_settlement, finalize, settle, settle_funds
from onestop.errors import IntegrityViolation, InvalidRequest
from onestop.money import Fen
from onestop.policy import policy_for

TB = policy_for("990100", dt.date(2026, 3, 1))
CAT = FakeCatalog(
    {
        "A": entry("A", "甲"),
        "B": entry("B", "乙"),
        "CART": entry("CART", "丙", cidl=cidl()),
        "WI": entry("WI", "乙", restrictions=(restriction(RestrictionKind.WORK_INJURY_ONLY),)),
        "MAT": entry("MAT", "乙", restrictions=(restriction(RestrictionKind.MATERNITY_ONLY),)),
        "S": entry("S", "甲", standard=standard(10_000)),
    }
)


def alloc(s, sn):
    ln = next(x for x in s.lines if x.feedetl_sn == sn)
    out: dict[str, int] = {}
    for a in ln.allocations:
        out[a.payer] = out.get(a.payer, 0) + int(a.amount_fen)
    return out


def test_inpatient_basic_bill_by_hand():
    """职工 三级 inpatient: 甲 6,000 + 乙 5,000 (先行自付 500) + out of catalog 800.
    In scope 10,500 − 起付 1,000 = 9,500 × 80% = 7,600 统筹; co-pay 1,900; patient 500 + 800 + 1,000 + 1,900 = 4,200."""
    s = settle(bill([line("1", "A", "6000.00"), line("2", "B", "5000.00"), line("3", "X", "800.00")]), CAT, TB)
    check_settlement(s)
    assert s.basic.inscp_scp_amt == 1_050_000
    assert s.basic.hifp_pay == 760_000
    assert s.totals.final_patient_cash_fen == 420_000
    # Deductible and 统筹 go back to lines by largest remainder over in-scope: 6,000 : 4,500.
    assert alloc(s, "1")[PayerKey.fund("310100")] + alloc(s, "2")[PayerKey.fund("310100")] == 760_000
    assert alloc(s, "1")[PayerKey.fund("310100")] == 434_286  # 760,000 × 600,000 / 1,050,000 = 434,285.7 → 434,286
    assert alloc(s, "3") == {PayerKey.PATIENT: 80_000}


def test_basic_and_work_injury_lines_in_one_visit():
    """Recognised 工伤: work-related lines (甲 3,000, 限工伤 乙 400, out of catalog 200) go to the 工伤 fund in full
    (3,400; no 先行自付), the out-of-catalog 200 to the employer; the non-work line (甲 2,000) stays on basic:
    (2,000 − 1,000 起付) × 80% = 800. A stay of 4 days (03-01 to 03-05) gets 4 × 30.00 meal allowance, outside the lines."""
    b = bill(
        [
            line("1", "A", "3000.00", work_related=True),
            line("2", "WI", "400.00", work_related=True),
            line("3", "X", "200.00", work_related=True),
            line("4", "A", "2000.00"),
        ],
        work_injury={"status": "recognised", "decision_id": "RS-2026-17", "decision_date": "2026-02-27"},
    )
    s = settle(b, CAT, TB)
    check_settlement(s)
    assert s.work_injury.fund_pay_fen == 340_000
    assert s.work_injury.employer_pay_fen == 20_000
    assert s.work_injury.meal_allowance_fen == 4 * 3000  # admission 03-01 → discharge 03-05: 4 days
    assert s.basic.hifp_pay == 80_000
    assert {ln.feedetl_sn: ln.leg for ln in s.lines} == {
        "1": Leg.WORK_INJURY,
        "2": Leg.WORK_INJURY,
        "3": Leg.WORK_INJURY,
        "4": Leg.BASIC,
    }
    assert s.totals.final_patient_cash_fen == 100_000 + 20_000  # basic deductible + co-pay


def test_pending_recognition_is_not_a_basic_cost():
    """While recognition is pending, work-related lines are paid by the employer (policy) and flagged for
    reimbursement; no fund pays them (社会保险法 §30)."""
    b = bill(
        [line("1", "A", "3000.00", work_related=True), line("2", "A", "2000.00")], work_injury={"status": "pending"}
    )
    s = settle(b, CAT, TB)
    check_settlement(s)
    assert alloc(s, "1") == {PayerKey.EMPLOYER: 300_000}
    assert s.work_injury.pending_reimbursement_fen == 300_000
    assert s.basic.medfee_sumamt == 200_000


def test_cidl_car_t_with_commercial_payer():
    """A CAR-T CIDL line of 1,200,000.00 is 全自费 CIDL: no fund pays it; a 惠民保 paying 100% of CIDL covers it;
    the self-pay rate excluding CIDL ignores it (here 0 / 1,000 = 0)."""
    b = bill(
        [line("1", "CART", "1200000.00"), line("2", "A", "1000.00")],
        coverages=[{"payer": "hmb", "product": "car-t", "policy_no": "HMB1", "consent_line_detail": True}],
    )

    def pay_cidl(offer):
        return CommercialAnswer(
            reference=offer.reference,
            payer="hmb",
            status=AnswerStatus.APPROVED,
            lines=tuple(
                LinePayment(feedetl_sn=lo.feedetl_sn, amounts={Category.CIDL: lo.amounts[Category.CIDL]})
                for lo in offer.lines
                if Category.CIDL in lo.amounts
            ),
        )

    s = settle(b, CAT, TB, payers={"hmb": pay_cidl})
    check_settlement(s)
    assert alloc(s, "1") == {PayerKey.commercial("hmb"): 120_000_000}
    assert s.basic.cidl_amt == 120_000_000
    assert s.basic.fulamt_ownpay_amt == 120_000_000
    assert s.indicators.self_pay_rate_excl_cidl == 0
    assert s.indicators.self_pay_rate > 0
    assert s.commercial[0].status is AnswerStatus.PARTIAL  # the deductible on line 2 was offered but not paid


def test_maternity_bill():
    """生育住院 of an employee: in-catalog lines paid by the maternity fund in full (ratio 1, no 甲/乙);
    a 限生育 drug is payable here; out of catalog stays with the patient."""
    b = bill(
        [line("1", "A", "3000.00"), line("2", "MAT", "500.00"), line("3", "X", "100.00")],
        visit={"med_type": "52"},
    )
    s = settle(b, CAT, TB)
    check_settlement(s)
    assert s.maternity.fund_pay_fen == 350_000
    assert alloc(s, "2") == {PayerKey.fund("510100"): 50_000}
    assert s.basic is None
    assert s.totals.final_patient_cash_fen == 10_000


@pytest.mark.parametrize(("med_type", "cap"), [("52", 500_000), ("51", 100_000)])
def test_maternity_fund_is_capped_by_the_visit_kind_standard(med_type, cap):
    """The maternity payment standard is per visit kind (textbook: 5,000.00 per delivery stay under 52,
    1,000.00 per outpatient visit under 51); the excess stays with the patient."""
    b = bill([line("1", "A", "7000.00")], visit={"med_type": med_type})
    s = settle(b, CAT, TB)
    check_settlement(s)
    assert s.maternity.fund_pay_fen == cap
    assert s.totals.final_patient_cash_fen == 700_000 - cap


def test_stay_crossing_new_year_uses_discharge_year_and_line_dates():
    """A stay 2025-12-29 → 2026-01-03: benefits and accumulators of the discharge year (2026); each line is
    resolved on its own date (the catalog sees both dates)."""

    seen: list[dt.date] = []

    class DatedCatalog(FakeCatalog):
        def resolve(self, ln, hospital):
            seen.append(ln.date)
            return super().resolve(ln, hospital)

    b = bill(
        [line("1", "A", "2000.00", day=dt.date(2025, 12, 30)), line("2", "A", "2000.00", day=dt.date(2026, 1, 2))],
        visit={"admission_date": "2025-12-29", "discharge_date": "2026-01-03"},
    )
    s = settle(b, DatedCatalog(CAT.entries), TB, accumulators={"310:2025:pool_paid": 29_999_000})
    assert sorted(seen) == [dt.date(2025, 12, 30), dt.date(2026, 1, 2)]
    assert s.basic.benefit_year == 2026
    assert s.basic.hifp_pay == 240_000  # 2025's nearly exhausted cap does not apply: (4,000 − 1,000) × 80%
    assert {d.key for d in s.basic.accumulator_deltas} >= {"310:2026:pool_paid"}


def test_offer_hides_confidential_line_figures_and_totals_only_without_consent():
    """A confidential-standard line is offered without quantity or amount; no consent → totals only."""
    conf = FakeCatalog({"N": entry("N", "乙", negotiated=True, standard=standard(9_000, confidential=True))})
    b = bill(
        [line("1", "N", "100.00")],
        coverages=[{"payer": "p", "product": "x", "policy_no": "1", "consent_line_detail": True}],
    )
    offer = settle_funds(b, conf, TB).offer_for(0)
    assert offer.lines[0].confidential
    assert offer.lines[0].amount_fen is None
    assert offer.lines[0].quantity is None
    b2 = b.model_copy(update={"coverages": (b.coverages[0].model_copy(update={"consent_line_detail": False}),)})
    assert settle_funds(b2, conf, TB).offer_for(0).lines == ()
    s = settle(b, conf, TB)
    assert s.lines[0].pric_uplmt_amt_fen is None
    assert s.lines[0].standard_confidential
    assert "9000" not in s.model_dump_json().replace("19000", "")


def test_answer_above_offer_or_without_echo_is_refused_and_changes_nothing():
    """Paying more than offered on a line, or not echoing the reference, raises IntegrityViolation."""
    b = bill(
        [line("1", "X", "100.00")],
        coverages=[{"payer": "p", "product": "x", "policy_no": "1", "consent_line_detail": True}],
    )
    state = settle_funds(b, CAT, TB)
    offer = state.offer_for(0)
    too_much = CommercialAnswer(
        reference=offer.reference,
        payer="p",
        status=AnswerStatus.APPROVED,
        lines=(LinePayment(feedetl_sn="1", amounts={Category.FULAMT_OWNPAY: Fen(10_001)}),),
    )
    with pytest.raises(IntegrityViolation):
        apply_commercial(state, too_much, offer=offer)
    wrong_ref = CommercialAnswer(reference="other", payer="p", status=AnswerStatus.APPROVED)
    with pytest.raises(IntegrityViolation):
        apply_commercial(state, wrong_ref, offer=offer)
    s = finalize(state)
    assert s.totals.final_patient_cash_fen == 10_000
    assert s.commercial[0].reason == "NOT_ASKED"


def test_totals_answer_allocated_back_to_lines():
    """A payer answering 3.00 of FULAMT_OWNPAY in total over lines of 1.00 and 2.00 is allocated 1.00 / 2.00."""
    b = bill(
        [line("1", "X", "1.00"), line("2", "X", "2.00")], coverages=[{"payer": "p", "product": "x", "policy_no": "1"}]
    )
    state = settle_funds(b, CAT, TB)
    offer = state.offer_for(0)
    ans = CommercialAnswer(
        reference=offer.reference, payer="p", status=AnswerStatus.APPROVED, totals={Category.FULAMT_OWNPAY: Fen(300)}
    )
    s = finalize(apply_commercial(state, ans, offer=offer))
    assert alloc(s, "1") == {PayerKey.commercial("p"): 100}
    assert alloc(s, "2") == {PayerKey.commercial("p"): 200}
    assert s.commercial[0].status is AnswerStatus.APPROVED


def _with_account_and_payer():
    """An out-of-catalog 100.00 line (全自费), 30.00 in the personal account, one commercial payer."""
    return bill(
        [line("1", "X", "100.00")],
        patient={"use_account": True, "account_balance_fen": 3_000},
        coverages=[{"payer": "p", "product": "x", "policy_no": "1"}],
    )


def test_account_pays_after_commercial_by_default():
    """Default order funds → commercial → account → cash: the account pays what the payer left, up to its balance."""
    state = settle_funds(_with_account_and_payer(), CAT, TB)
    offer = state.offer_for(0)
    ans = CommercialAnswer(
        reference=offer.reference, payer="p", status=AnswerStatus.APPROVED, totals={Category.FULAMT_OWNPAY: Fen(6_000)}
    )
    s = finalize(apply_commercial(state, ans, offer=offer))
    assert alloc(s, "1") == {PayerKey.commercial("p"): 6_000, PayerKey.ACCOUNT: 3_000, PayerKey.PATIENT: 1_000}
    assert s.basic.balc == 0


def test_account_first_order_pays_the_account_before_commercial_payers():
    """Order funds → account → commercial → cash: the offer names what the account paid (ACCOUNT_PAID, not
    offerable), its total leaves it out, and a payer claiming it is refused."""
    from onestop.policy._types import AccountOrder

    first = TB.model_copy(update={"account_order": AccountOrder.FUNDS_ACCOUNT_COMMERCIAL_CASH})
    state = settle_funds(_with_account_and_payer(), CAT, first)
    offer = state.offer_for(0)
    assert offer.totals.get(Category.ACCOUNT_PAID) == 3_000
    assert offer.total == 7_000
    with pytest.raises(ValidationError, match="ACCOUNT_PAID"):
        CommercialAnswer(
            reference=offer.reference,
            payer="p",
            status=AnswerStatus.APPROVED,
            totals={Category.ACCOUNT_PAID: Fen(3_000)},
        )
    greedy = CommercialAnswer(
        reference=offer.reference, payer="p", status=AnswerStatus.APPROVED, totals={Category.FULAMT_OWNPAY: Fen(7_001)}
    )
    with pytest.raises(IntegrityViolation):
        apply_commercial(state, greedy, offer=offer)
    ans = CommercialAnswer(
        reference=offer.reference, payer="p", status=AnswerStatus.APPROVED, totals={Category.FULAMT_OWNPAY: Fen(6_000)}
    )
    s = finalize(apply_commercial(state, ans, offer=offer))
    check_settlement(s)
    assert alloc(s, "1") == {PayerKey.ACCOUNT: 3_000, PayerKey.commercial("p"): 6_000, PayerKey.PATIENT: 1_000}


def test_a_residents_bill_pays_nothing_from_a_personal_account():
    """Residents' insurance (390) has no personal account: a bill asking for one is paid as if it had not,
    and the settlement warns ACCOUNT_NOT_APPLICABLE."""
    b = bill(
        [line("1", "X", "100.00")],
        patient={"insutype": "390", "psn_type": "21", "use_account": True, "account_balance_fen": 50_000},
    )
    s = settle(b, CAT, TB)
    assert PayerKey.ACCOUNT not in alloc(s, "1")
    assert s.totals.account_fen == 0
    assert any(w.startswith("ACCOUNT_NOT_APPLICABLE") for w in s.warnings)


def test_unknown_tier_names_the_field():
    """A hospital tier the policy does not define is refused, naming hospital.tier."""
    with pytest.raises(InvalidRequest) as ei:
        settle(bill([line("1", "A", "1.00")], hospital={"tier": "特级"}), CAT, TB)
    assert ei.value.violations[0].field == "hospital.tier"


def test_standard_caps_service_price():
    """A service priced 120.00 against a 100.00 cap: 20.00 超限价 for the patient, 100.00 in scope."""
    s = settle(bill([line("1", "S", "120.00", category="05")]), CAT, TB)
    assert s.lines[0].overlmt_amt == 2_000
    assert s.lines[0].pric_uplmt_amt_fen == 10_000


def test_cross_region_visit_passes_filing_status_to_the_policy(monkeypatch):
    """An 异地 visit (insured 990100, treated 990200) is settled with the filed/unfiled status the policy adjusts on."""
    import onestop.engine._funds as funds

    seen: list[str] = []
    real = funds.compute_basic

    def spy(*args, **kwargs):
        seen.append(kwargs["cross_region"].value)
        return real(*args, **kwargs)

    b = bill([line("1", "A", "100.00")], hospital={"region": "990200"})
    filed = bill(
        [line("1", "A", "100.00")],
        hospital={"region": "990200"},
        patient={"registrations": {"cross_region_filing_id": "YD-1"}},
    )
    monkeypatch.setattr(funds, "compute_basic", spy)
    settle(bill([line("1", "A", "100.00")]), CAT, TB)
    settle(b, CAT, TB)
    settle(filed, CAT, TB)
    assert seen == ["none", "unfiled", "filed"]


def test_an_away_hospital_is_ranked_by_its_own_regions_tiers_and_paid_at_the_insured_regions_level(monkeypatch):
    """异地: a Changchun 省级三级 hospital (level 3 there) treating a Hangzhou member is not refused for a tier
    Hangzhou lacks; Hangzhou's terms for its own level-3 tier (三级) apply (参保地同级别待遇)."""
    import onestop.engine._funds as funds
    from onestop.policy import treatment_policy_for

    hangzhou = policy_for("330100", dt.date(2026, 3, 1))
    changchun = treatment_policy_for("220100", "330100", dt.date(2026, 3, 1))
    assert changchun is not None
    assert changchun.id != hangzhou.id
    seen: list[str] = []
    real = funds.compute_basic

    def spy(*args, **kwargs):
        seen.append(kwargs["tier"])
        return real(*args, **kwargs)

    monkeypatch.setattr(funds, "compute_basic", spy)
    away = bill(
        [line("1", "A", "100.00")],
        hospital={"tier": "省级三级", "region": "220100"},
        patient={"insured_region": "330100", "registrations": {"cross_region_filing_id": "YD-1"}},
    )
    with pytest.raises(InvalidRequest) as ei:
        settle(away, CAT, hangzhou)  # without the treatment region's tiers the tier is unknown, and named
    assert ei.value.violations[0].field == "hospital.tier"
    s = settle(away, CAT, hangzhou, treatment_policy=changchun)
    check_settlement(s)
    assert seen == ["三级"]
    assert treatment_policy_for("330100", "330100", dt.date(2026, 3, 1)) is None  # at home: no treatment policy
    assert treatment_policy_for("990900", "330100", dt.date(2026, 3, 1)) is None  # a region without a policy


def test_a_registered_two_diseases_drug_is_paid_under_the_two_diseases_terms():
    """两病 (居民, general outpatient): a registered hypertension patient's 两病 drug is paid at the 两病 ratio
    (60 %), the same drug without the registration at the general outpatient one (50 %)."""
    from onestop.catalog import AuditHit

    cat = FakeCatalog({"TD": entry("TD", "甲", two_diseases=True)})
    visit = {
        "med_type": "11",
        "admission_date": "2026-03-02",
        "discharge_date": "2026-03-02",
        "diagnoses": [{"code": "I10.x00"}],
    }
    patient = {"insutype": "390", "psn_type": "21"}
    registered = bill(
        [line("1", "TD", "100.00")], visit=visit, patient={**patient, "registrations": {"two_diseases": ["I10"]}}
    )
    plain = bill([line("1", "TD", "100.00")], visit=visit, patient=patient)
    s = settle(registered, cat, TB)
    check_settlement(s)
    assert "two_diseases" in s.basic.benefit_kind
    assert s.basic.hifp_pay == 6_000
    other = settle(plain, cat, TB)
    assert "two_diseases" not in other.basic.benefit_kind
    assert other.basic.hifp_pay == 5_000
    # An NHSA 两库 rule hit is a warning on the settlement, never a refusal: the line is paid all the same.
    hit = FakeCatalog(
        {"TD": entry("TD", "甲", two_diseases=True)}, audit_hits=(AuditHit("b1_drug_age_limit", "1", "age limit"),)
    )
    warned = settle(registered, hit, TB)
    assert "b1_drug_age_limit:1: age limit" in warned.warnings
    assert warned.basic.hifp_pay == 6_000
