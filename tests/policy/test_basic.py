"""Hand-worked basic-fund examples on the packaged regions; the arithmetic is in each docstring (amounts in yuan)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from policy.pol_helpers import CHANGCHUN, HANGZHOU, TEXTBOOK, basic

from onestop.errors import InvalidRequest
from onestop.policy import Accumulators, BenefitKind, CrossRegion


def test_inpatient_deductible_per_visit_and_tier_ratio():
    """职工 三级: 10,000 in scope − 1,000 起付 = 9,000 × 80 % = 7,200 统筹; co-pay 1,800."""
    r = basic(1_000_000)
    assert (r.act_pay_dedc, r.hifp_pay, r.deductible, r.copay) == (100_000, 720_000, 100_000, 180_000)
    assert r.pool_prop_selfpay == Decimal("0.80")


def test_tier_picks_the_row():
    """职工 一级: (10,000 − 200) × 90 % = 8,820."""
    assert basic(1_000_000, tier="一级").hifp_pay == 882_000


def test_per_visit_deductible_ignores_year_to_date():
    """Inpatient 起付 is per visit: 1,000 already charged this year does not lower this visit's 1,000."""
    r = basic(1_000_000, acc=Accumulators(year=2026, deductible_used_inpatient=100_000))
    assert r.act_pay_dedc == 100_000


def test_per_visit_deductible_leaves_no_year_accumulator():
    """A per-visit deductible records no yearly deductible increment."""
    assert basic(1_000_000).deltas.deductible_used_inpatient == 0


def test_yearly_deductible_uses_year_to_date():
    """职工 门诊 yearly 起付 1,000 with 800 used: 200 now; (1,500 − 200) × 50 % = 650."""
    r = basic(
        150_000, kind="general_outpatient", acc=Accumulators(year=2026, deductible_used_general_outpatient=80_000)
    )
    assert (r.act_pay_dedc, r.hifp_pay) == (20_000, 65_000)


def test_yearly_deductible_increments_its_accumulator():
    """The 200 charged toward the 1,000 yearly 起付 and the 650 paid go to the outpatient accumulators."""
    r = basic(
        150_000, kind="general_outpatient", acc=Accumulators(year=2026, deductible_used_general_outpatient=80_000)
    )
    assert (r.deltas.deductible_used_general_outpatient, r.deltas.pool_paid_general_outpatient) == (20_000, 65_000)


def test_own_cap_kind_does_not_draw_on_the_shared_cap():
    """门诊统筹 has its own cap (shared_cap false): its 650 is not added to the shared pool_paid."""
    r = basic(
        150_000, kind="general_outpatient", acc=Accumulators(year=2026, deductible_used_general_outpatient=80_000)
    )
    assert r.deltas.pool_paid == 0


def test_yearly_deductible_already_met():
    """With the 1,000 yearly 起付 used up: nothing charged; 1,500 × 50 % = 750."""
    r = basic(
        150_000, kind="general_outpatient", acc=Accumulators(year=2026, deductible_used_general_outpatient=100_000)
    )
    assert (r.act_pay_dedc, r.hifp_pay) == (0, 75_000)


def test_own_cap_reached_mid_bill_goes_nowhere_else():
    """门诊统筹 cap 5,000 with 4,900 used: 1,000 × 50 % = 500 capped at 100; 大额 does not take over an own cap."""
    acc = Accumulators(year=2026, deductible_used_general_outpatient=100_000, pool_paid_general_outpatient=490_000)
    r = basic(100_000, kind="general_outpatient", acc=acc)
    assert (r.hifp_pay, r.hifob_pay, r.copay) == (10_000, 0, 90_000)


def test_shared_cap_reached_mid_bill_then_large_amount():
    """Cap 300,000 with 299,000 used: 统筹 pays 1,000; that used a base of 1,000 / 0.8 = 1,250, so 9,000 − 1,250
    = 7,750 is above the cap; 大额 pays 90 % = 6,975; co-pay 9,000 − 1,000 − 6,975 = 1,025."""
    r = basic(1_000_000, acc=Accumulators(year=2026, pool_paid=29_900_000))
    assert (r.hifp_pay, r.hifob_pay, r.copay, r.deductible) == (100_000, 697_500, 102_500, 100_000)


def test_large_amount_records_base_and_payment():
    """The 7,750 above the cap is the 大额 base increment; 6,975 its payment."""
    r = basic(1_000_000, acc=Accumulators(year=2026, pool_paid=29_900_000))
    assert (r.deltas.large_base, r.deltas.large_paid) == (775_000, 697_500)


def test_large_amount_cap_binds():
    """大额 cap 500,000 with 499,000 paid: the 6,975 due is cut to 1,000."""
    r = basic(1_000_000, acc=Accumulators(year=2026, pool_paid=29_900_000, large_paid=49_900_000))
    assert r.hifob_pay == 100_000


def test_no_large_amount_below_the_cap():
    """Below the 统筹 cap nothing is above it: 大额 pays 0."""
    assert basic(1_000_000).hifob_pay == 0


def test_serious_illness_first_band():
    """居民 三级 100,000: 1,000 起付; 99,000 × 60 % = 59,400 统筹; burden 1,000 + 39,600 = 40,600, above the 15,000
    threshold 25,600 × 60 % = 15,360 大病."""
    r = basic(10_000_000, insutype="390")
    assert (r.hifp_pay, r.hifmi_pay) == (5_940_000, 1_536_000)


def test_serious_illness_accumulates_the_burden():
    """The 40,600 burden is the 大病 base increment, the 15,360 its payment."""
    r = basic(10_000_000, insutype="390")
    assert (r.deltas.serious_base, r.deltas.serious_paid) == (4_060_000, 1_536_000)


def test_serious_illness_crosses_a_band_edge():
    """Burden before 90,000; this bill adds 40,600: 90,000–100,000 × 60 % = 6,000 and 100,000–130,600 × 70 % =
    21,420; 大病 27,420."""
    r = basic(10_000_000, insutype="390", acc=Accumulators(year=2026, serious_base=9_000_000))
    assert r.hifmi_pay == 2_742_000


def test_serious_illness_below_threshold_pays_nothing():
    """居民 三级 10,000: burden 1,000 + 9,000 × 40 % = 4,600 < 15,000 threshold: 大病 0, but the base accumulates."""
    r = basic(1_000_000, insutype="390")
    assert (r.hifmi_pay, r.deltas.serious_base) == (0, 460_000)


def test_serious_illness_cap_binds():
    """大病 cap 400,000 with 390,000 paid: the 15,360 due is cut to 10,000."""
    r = basic(10_000_000, insutype="390", acc=Accumulators(year=2026, serious_paid=39_000_000))
    assert r.hifmi_pay == 1_000_000


def test_serious_illness_not_on_general_outpatient():
    """Textbook 大病 applies to inpatient and chronic bills only: an outpatient bill above the threshold gets 0."""
    r = basic(1_000_000, insutype="390", kind="general_outpatient", acc=Accumulators(year=2026, serious_base=2_000_000))
    assert r.hifmi_pay == 0


def test_serious_illness_tilt_then_assistance():
    """低保, 居民 三级 100,000: 大病 threshold 7,500 and +5 points: (40,600 − 7,500) × 65 % = 21,515; 救助 on the
    burden left, (39,600 − 21,515) + 1,000 = 19,085 × 70 % = 13,359.50; patient 1,000 起付 + 4,725.50 co-pay."""
    r = basic(10_000_000, insutype="390", assistance="dibao")
    assert (r.hifmi_pay, r.maf_pay, r.deductible, r.copay) == (2_151_500, 1_335_950, 100_000, 472_550)


def test_ratio_products_round_half_up_to_the_fen():
    """Outpatient with the yearly 起付 met: 1,000.01 × 50 % = 500.005 → 500.01 (half-up); co-pay 500.00."""
    r = basic(
        100_001, kind="general_outpatient", acc=Accumulators(year=2026, deductible_used_general_outpatient=100_000)
    )
    assert (r.hifp_pay, r.copay) == (50_001, 50_000)


def test_civil_servant_then_assistance_takes_copay_then_deductible():
    """职工 三级 10,000: 7,200 统筹; 公务员 50 % of the 1,800 co-pay = 900; 救助 (低保) 70 % of 900 + 1,000 起付
    = 1,330, taken from the 900 co-pay first, then 430 of the 1,000 起付; patient keeps 570."""
    r = basic(1_000_000, civil=True, assistance="dibao")
    assert (r.cvlserv_pay, r.maf_pay, r.copay, r.deductible, r.act_pay_dedc) == (90_000, 133_000, 0, 57_000, 100_000)


def test_civil_servant_cap_binds():
    """公务员 cap 100,000 with 99,500 paid: the 900 due is cut to 500."""
    r = basic(1_000_000, civil=True, acc=Accumulators(year=2026, civil_paid=9_950_000))
    assert r.cvlserv_pay == 50_000


def test_not_a_civil_servant_gets_no_subsidy():
    """Without cvlserv_flag the subsidy pays nothing."""
    assert basic(1_000_000).cvlserv_pay == 0


def test_assistance_yearly_deductible():
    """低收入 救助: burden 1,800 + 1,000 = 2,800, 救助起付 1,000 → 1,800 × 60 % = 1,080."""
    r = basic(1_000_000, assistance="low_income")
    assert (r.maf_pay, r.deltas.assistance_deductible_used) == (108_000, 100_000)


def test_assistance_deductible_year_to_date():
    """低收入 with 600 of the 1,000 救助起付 used: 400 left; (2,800 − 400) × 60 % = 1,440."""
    r = basic(1_000_000, assistance="low_income", acc=Accumulators(year=2026, assistance_deductible_used=60_000))
    assert r.maf_pay == 144_000


def test_assistance_cap_binds():
    """特困 100 % but 救助 cap 100,000 with 99,900 paid: pays 100."""
    r = basic(1_000_000, assistance="tekun", acc=Accumulators(year=2026, assistance_paid=9_990_000))
    assert r.maf_pay == 10_000


def test_category_without_terms_gets_no_assistance():
    """防返贫 has no terms in the textbook region: 救助 pays nothing."""
    assert basic(1_000_000, assistance="relapse_poverty").maf_pay == 0


def test_retiree_bonus():
    """Retiree (psn_type 12), 三级: 80 % + 5 points = 85 %: (10,000 − 1,000) × 85 % = 7,650."""
    r = basic(1_000_000, psn_type="12")
    assert (r.hifp_pay, r.pool_prop_selfpay) == (765_000, Decimal("0.85"))


def test_psn_group_row_beats_tier_row():
    """居民 minor (1403) at 三级 uses the (*, minor) row: (10,000 − 100) × 80 % = 7,920."""
    assert basic(1_000_000, insutype="390", psn_type="1403").hifp_pay == 792_000


def test_psn_group_row_and_retiree_bonus_together():
    """Textbook 职工 retiree outpatient: group row 500 起付, 60 %; no outpatient bonus: (2,000 − 500) × 60 % = 900."""
    assert basic(200_000, kind="general_outpatient", psn_type="12").hifp_pay == 90_000


def test_cross_region_unfiled_adjustment():
    """异地 without 备案: 80 % − 10 points = 70 %: 9,000 × 70 % = 6,300."""
    r = basic(1_000_000, cross_region=CrossRegion.UNFILED)
    assert (r.hifp_pay, r.pool_prop_selfpay) == (630_000, Decimal("0.70"))


def test_cross_region_filed_keeps_the_ratio():
    """异地 with 备案 in the textbook region: no adjustment, 7,200."""
    assert basic(1_000_000, cross_region=CrossRegion.FILED).hifp_pay == 720_000


def test_two_diseases_falls_back_to_general_outpatient_for_employees():
    """职工 has no 两病 terms: the general-outpatient terms (and accumulators) apply: (1,500 − 1,000) × 50 % = 250."""
    r = basic(150_000, kind="two_diseases")
    assert (r.kind, r.hifp_pay, r.deltas.deductible_used_general_outpatient) == (
        BenefitKind.GENERAL_OUTPATIENT,
        25_000,
        100_000,
    )


def test_two_diseases_terms_for_residents():
    """居民 两病: no 起付, 60 %: 300 × 60 % = 180."""
    r = basic(30_000, insutype="390", kind="two_diseases")
    assert (r.kind, r.hifp_pay) == (BenefitKind.TWO_DISEASES, 18_000)


def test_pharmacy_discharge_prescription_uses_inpatient_terms():
    """A 双通道 purchase on a discharge prescription uses inpatient terms: (10,000 − 1,000) × 80 % = 7,200."""
    r = basic(1_000_000, kind="pharmacy_inpatient_discharge")
    assert (r.kind, r.hifp_pay) == (BenefitKind.INPATIENT, 720_000)


def test_pharmacy_chronic_prescription_uses_chronic_terms():
    """Chronic prescription: 门诊慢特病 terms, yearly 起付 500, 70 %: (2,000 − 500) × 70 % = 1,050."""
    r = basic(200_000, kind="pharmacy_chronic")
    assert (r.kind, r.hifp_pay) == (BenefitKind.CHRONIC_SPECIAL, 105_000)


def test_nothing_in_scope_pays_nothing():
    """0 in scope: no deductible, no fund, no detail rows."""
    r = basic(0, insutype="390", civil=True, assistance="tekun")
    assert (r.act_pay_dedc, r.fund_pay_sumamt, r.copay, r.details) == (0, 0, 0, ())


def test_detail_rows_carry_fund_codes_and_limits():
    """Fund rows in layer order with NHSA codes; the 统筹 row's 本次可支付限额 is the cap left (300,000)."""
    r = basic(1_000_000, civil=True, assistance="dibao")
    assert [d.fund_pay_type for d in r.details] == ["310100", "320100", "610100"]
    assert r.details[0].crt_payb_lmt_amt == 30_000_000


def test_detail_text_shows_the_arithmetic():
    """setl_proc_info of 统筹 shows the product in yuan: (10000.00−1000.00)×0.80=7200.00."""
    assert "(10000.00−1000.00)×0.80=7200.00" in basic(1_000_000).details[0].setl_proc_info


def test_resident_pool_fund_code():
    """居民 统筹 is fund 390100, 大病 390200."""
    r = basic(10_000_000, insutype="390")
    assert [d.fund_pay_type for d in r.details] == ["390100", "390200"]


def test_changchun_retiree_example():
    """Changchun (unverified example) 职工 市属三级 retiree: 起付 700, 88 % + 2 = 90 %: (10,000 − 700) × 90 % = 8,370."""
    assert basic(1_000_000, policy=CHANGCHUN, tier="市属三级", psn_type="12").hifp_pay == 837_000


def test_hangzhou_retiree_outpatient_example():
    """Hangzhou (unverified example) 职工 门诊 三级 retiree: 起付 200, 76 % + 6 = 82 %: (1,200 − 200) × 82 % = 820."""
    assert basic(120_000, policy=HANGZHOU, kind="general_outpatient", psn_type="12").hifp_pay == 82_000


def test_hangzhou_active_outpatient_example():
    """Hangzhou 职工 门诊 社区 在职: 起付 600, 86 %: (1,200 − 600) × 86 % = 516."""
    assert basic(120_000, policy=HANGZHOU, tier="社区", kind="general_outpatient").hifp_pay == 51_600


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tier": "四级"}, "hospital.tier"),
        ({"insutype": "340"}, "patient.insutype"),
        ({"kind": "dental"}, "visit.med_type"),
        ({"assistance": "rich"}, "patient.medical_assistance"),
        ({"outside": -1}, "lines"),
    ],
)
def test_bad_arguments_name_the_field(changes, field):
    """An unknown tier, insutype, kind or assistance category, or a negative amount, is refused naming the field."""
    with pytest.raises(InvalidRequest) as ei:
        basic(100_000, **changes)
    assert [v.field for v in ei.value.violations] == [field]


def test_other_insutype_fund_code_follows_the_insutype():
    """An insutype with its own terms (e.g. 340 离休) pays from fund <insutype>100: 340100."""
    policy = TEXTBOOK.model_copy(update={"basic": {**TEXTBOOK.basic, "340": TEXTBOOK.basic["310"]}})
    assert basic(1_000_000, policy=policy, insutype="340").details[0].fund_pay_type == "340100"
