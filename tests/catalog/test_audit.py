"""NHSA 两库 audit rules: warnings on the bill, never a change in resolution."""

import datetime as dt
import json
from typing import Any

from onestop.catalog import default_catalogs
from onestop.catalog.audit import facility_level_of
from onestop.domain.bill import Bill

APALUTAMIDE = "XL02BBA326A001010102180"  # 阿帕他胺片: b1 限男
DINOPROSTONE = "XG02ADD082D003010179504"  # 地诺前列酮栓: b1 限女, b3 限生育
SHENFU = "ZA05CAC0029010102312"  # 参附注射液: b5 二级及以上
OZAGREL = "XB01AXA223B002010100156"  # 奥扎格雷钠注射液: b6 14 days


def ln(sn: str, code: str, day: str = "2026-03-02", **kw: Any) -> dict[str, Any]:
    return {
        "feedetl_sn": sn,
        "national_code": code,
        "name": kw.pop("name", code),
        "category": kw.pop("category", "09"),
        "quantity": "1",
        "unit_price": "1",
        "amount_fen": 100,
        "date": day,
        **kw,
    }


def make_bill(lines: list[dict[str, Any]], *, sex: str = "1", tier: str = "三级", med_type: str = "21",
              end: str = "2026-03-30") -> Bill:  # fmt: skip
    return Bill.model_validate_json(
        json.dumps(
            {
                "hospital": {"code": "H22010100001", "tier": tier, "region": "220100"},
                "patient": {"psn_no": "P1", "cert_type": "02", "cert_no": "220101199001011234", "name": "测试",
                            "insutype": "310", "psn_type": "11", "age": 40, "sex": sex, "insured_region": "220100"},
                "visit": {"mdtrt_id": "V1", "med_type": med_type, "admission_date": "2026-03-01",
                          "discharge_date": end, "diagnoses": [{"code": "I63.900"}]},
                "lines": lines,
            }
        )
    )  # fmt: skip


def rule_sets(bill: Bill) -> list[tuple[str, str]]:
    return [(h.rule_set, h.feedetl_sn) for h in default_catalogs().audit(bill)]


def test_sex_rule_hits_only_the_other_sex():
    """阿帕他胺片 (限男) warns on a female patient's bill and not on a male's."""
    assert ("b1_drug_gender_limit", "1") in rule_sets(make_bill([ln("1", APALUTAMIDE)], sex="2"))
    assert rule_sets(make_bill([ln("1", APALUTAMIDE)], sex="1")) == []


def test_maternity_only_drug_outside_a_maternity_visit():
    """地诺前列酮栓 on an ordinary inpatient visit hits the 限生育 rule (and not on a 生育住院 visit)."""
    assert ("b3_drug_insurance_type_limit", "1") in rule_sets(make_bill([ln("1", DINOPROSTONE)], sex="2"))
    assert rule_sets(make_bill([ln("1", DINOPROSTONE)], sex="2", med_type="52")) == []


def test_facility_level_rule_uses_the_hospital_tier():
    """参附注射液 (二级及以上) warns in a 一级 hospital, not in a 三级 one; an unknown tier is not judged."""
    assert rule_sets(make_bill([ln("1", SHENFU, category="11")], tier="一级")) == [
        ("b5_drug_facility_level_limit", "1")
    ]
    assert rule_sets(make_bill([ln("1", SHENFU, category="11")], tier="三级")) == []
    assert facility_level_of("市属三级") == 3
    assert facility_level_of("专科") is None


def test_course_rule_counts_charged_days_once():
    """奥扎格雷钠 charged on 15 distinct days exceeds 14 days: one hit, on the 15th day's line."""
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(15)]
    lines = [ln(str(i), OZAGREL, d.isoformat()) for i, d in enumerate(days)]
    assert rule_sets(make_bill(lines)) == [("b6_drug_payment_duration_limit", "14")]
    assert rule_sets(make_bill(lines[:14])) == []


def test_audit_never_changes_resolution():
    """A line with an audit hit resolves exactly as it would without the rule lists (warnings only)."""
    bill = make_bill([ln("1", APALUTAMIDE)], sex="2")
    res = default_catalogs().resolve(bill.lines[0], bill.hospital)
    assert res.in_catalog
    assert default_catalogs().audit(bill)
