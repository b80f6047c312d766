"""备注 parsing into restrictions (the verbatim text is kept besides)."""

from hypothesis import given
from hypothesis import strategies as st

from onestop.catalog.remarks import parse_remark
from onestop.catalog.resolution import RestrictionKind as K


def kinds(text: str) -> dict[K, int | None]:
    return {r.kind: r.value for r in parse_remark(text)}


def test_fund_only_restrictions():
    """限工伤保险 / 限生育保险 make the item payable by that fund only, with no indication left over."""
    assert kinds("限工伤保险。") == {K.WORK_INJURY_ONLY: None}
    assert kinds("限生育保险。") == {K.MATERNITY_ONLY: None}


def test_kangxi_children_remark_is_a_children_restriction():
    """他克莫司颗粒's real 备注 writes 儿 as the Kangxi radical ⼉; it still parses as children-only."""
    text = "限：1.预防⼉童肝脏或肾脏移植术后的移植物排斥反应；2.治疗⼉童肝脏或肾脏移植术后应用其他免疫抑制药物无法控制的移植物排斥反应。"
    assert "\u2f09" in text
    got = kinds(text)
    assert K.CHILDREN in got
    assert K.INDICATION in got


def test_age_is_the_loosest_over_alternative_clauses():
    """Clause 1 adults, clause 2 from 12 years: the drug is payable from 12 (clauses are alternatives)."""
    text = (
        "限：1.接受血液透析(HD)或腹膜透析(PD)的成人慢性肾脏病(CKD)患者；2.12岁及以上CKD4-5期或接受透析的CKD儿科患者。"
    )
    assert kinds(text)[K.AGE_MIN] == 12


def test_adult_preamble_applies_to_every_clause():
    """A 成人 preamble before the numbered clauses restricts all of them to 18+."""
    text = "限：成人控制饮食基础上：1.降低重度高甘油三酯血症患者甘油三酯(TG)水平；2.原发性高胆固醇血症。"
    assert kinds(text)[K.AGE_MIN] == 18


def test_adults_and_children_from_four():
    """限成人和4岁及以上儿童… gives a minimum age of 4, not 18, and no children-only restriction."""
    got = kinds("限成人和4岁及以上儿童癫痫部分性发作患者的治疗。")
    assert got[K.AGE_MIN] == 4
    assert K.CHILDREN not in got


def test_age_below():
    """N岁以下 means at most N−1 years."""
    assert kinds("限6岁以下儿童")[K.AGE_MAX] == 5


def test_setting_facility_and_course():
    """限住院, 二级及以上医疗机构 and 支付不超过14天 each become their own restriction."""
    assert kinds("限住院患者。") == {K.INPATIENT_ONLY: None}
    assert kinds("限二级及以上医疗机构。") == {K.FACILITY_LEVEL: 2}
    got = kinds("限新发的急性血栓性脑梗死，支付不超过14天。")
    assert got[K.COURSE_DAYS] == 14
    assert K.INDICATION in got


def test_indication_needs_attestation():
    """A diagnosis-type 备注 is an indication restriction (the hospital must attest it)."""
    assert kinds("限胃肠镜检查和腹部影像学检查。") == {K.INDICATION: None}


def test_empty_remark_has_no_restriction():
    """No 备注, no restriction."""
    assert parse_remark("") == ()


@given(st.text(max_size=80))
def test_parsing_never_fails_and_keeps_text(text):
    """Any text parses; an indication restriction keeps the normalised text verbatim."""
    for r in parse_remark(text):
        assert r.text
