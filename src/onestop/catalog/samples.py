"""Fixture codes a sample bill can use, one per catalog feature (all from the packaged data).

Every code here is fixture data or a real code attached to a fixture row: use them in examples,
tests and demos, never as official values. ``docs/catalog.md`` shows the same table.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from pydantic import BaseModel, ConfigDict

__all__ = ["FixtureSample", "fixture_samples"]

JILIN_POOL = "220100"  # 长春市: a pooling region of Jilin, where the provincial fixtures apply
SAMPLE_HOSPITAL = "H22010100001"
SAMPLE_GROUP = "JL-GROUP-FX1"


class FixtureSample(BaseModel):
    """One bill-line template that shows one catalog feature."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    key: str
    feature: str
    name: str
    national_code: str
    hospital_code: str = ""
    dosage_form: str = ""
    spec: str = ""
    category: str
    """med_chrgitm_type code (09 西药费, 11 中成药费, 01 床位费, …)."""
    region: str = JILIN_POOL
    hospital: str = SAMPLE_HOSPITAL
    date: dt.date = dt.date(2026, 3, 2)
    expect: str
    """What the catalogs say for it on ``date`` in ``region``."""


_SAMPLES: tuple[tuple[str, str, str, str, str, str, str, str, str], ...] = (
    # key, feature, name, national code, hospital code, form, spec, category, expect
    ("drug_a", "甲类 drug", "匹维溴铵", "XA03AFX0001000000000000", "", "口服常释剂型", "50mg", "09",
     "甲类; 集采 standard 0.60 元/片 in 220000"),
    ("drug_b_restricted", "乙类 drug with an indication restriction", "西甲硅油", "XA03AFX0005000000000000", "",
     "口服液体剂", "", "09", "乙类; 限胃肠镜检查和腹部影像学检查 (needs hosp_appr_flag=1)"),
    ("negotiated_standard", "negotiated drug with a published standard", "锝[99mTc]替曲膦注射液",
     "XV09GFX0067000000000000", "", "", "", "09", "乙类 negotiated; 425.00 元 per 1人次"),
    ("negotiated_confidential", 'negotiated drug with a "*" standard', "蔗糖羟基氧化铁咀嚼片",
     "XV03AEFX006000000000000", "", "", "", "09", "乙类 negotiated; standard shown as *"),
    ("bid_specs", "bid drug with several specs", "非诺贝特酸胆碱缓释胶囊", "XC10ABFX007200000000000", "", "",
     "135mg", "09", "乙类 竞价; 3.15 元/粒 for 135mg, 1.36 (national) or 1.10 (Jilin 集采) for 45mg"),
    ("transition", "removed negotiated drug in its transition window", "贝那鲁肽注射液", "XA10BJFX900100000000000",
     "", "注射剂", "", "09", "paid at the 2024 standard 150.00 元/支 until 2026-06-30 (Jilin)"),
    ("work_injury_only", "限工伤保险 drug", "疤痕止痒软化膏", "ZH01AAB0066010100716", "", "软膏剂", "", "11",
     "payable only on the work-injury leg"),
    ("maternity_only", "限生育保险 drug", "地诺前列酮栓", "XG02ADD082D003010179504", "", "栓剂", "", "09",
     "payable only on the maternity leg"),
    ("facility_level", "drug limited to 二级及以上 hospitals", "参附注射液", "ZA05CAC0029010102312", "", "注射剂", "",
     "11", "facility level ≥ 2"),
    ("course_days", "drug with a course limit", "奥扎格雷钠注射液", "XB01AXA223B002010100156", "", "注射剂", "", "09",
     "支付不超过14天 + indication"),
    ("cidl_car_t_name", "CIDL CAR-T matched by name", "阿基仑赛注射液", "", "", "注射剂", "", "09",
     "CIDL no. 10 (CAR-T), matched by name; never fund-paid"),
    ("cidl_code", "CIDL drug matched by a fixture national code", "仑卡奈单抗注射液", "XN06DXFX001900000000000", "",
     "", "", "09", "CIDL no. 19, matched by national code"),
    ("dual_channel", "双通道 drug", "本瑞利珠单抗注射液", "XR03DXFX910100000000000", "", "注射剂", "", "09",
     "on the Jilin 双通道 list from 2026-01-01"),
    ("two_diseases", "两病 drug", "二甲双胍恩格列净片(Ⅲ)", "XA10BDFX006900000000000", "", "", "", "09",
     "on the Jilin 两病 list from 2025-01-01; bid standard 1.05 元"),
    ("preparation_group", "医疗机构制剂 approved for group use", "芪参益气合剂(制剂fixture)", "Z22FXPREP0001", "", "合剂",
     "", "11", "payable in hospitals of group JL-GROUP-FX1; standard 17.50 元"),
    ("service_bed", "bed day with a price cap", "普通病房床位费", "001109000010000", "", "", "", "01",
     "甲类; cap 35.00 元/日 in 220100 (30.00 in 220000)"),
    ("service_surgery", "surgery with a price cap", "阑尾切除术", "003310030220000", "", "", "", "06",
     "甲类; cap 900.00 元/次"),
    ("service_nursing", "nursing with a price cap", "特级护理", "001201000020000", "", "", "", "07",
     "甲类; cap 40.00 元/日"),
    ("consumable_cap", "consumable with a price cap", "血管鞘组(fixture)", "C020101052FX0001", "", "", "", "08",
     "乙类 (先行自付 0.30); cap 120.00 元/个"),
    ("hospital_map", "line with only the hospital's own code", "匹维溴铵片", "", "YP-0001", "", "50mg", "09",
     "resolves through the code map to 匹维溴铵"),
)  # fmt: skip


@cache
def fixture_samples() -> tuple[FixtureSample, ...]:
    """The sample codes, one per catalog feature (see ``docs/catalog.md``)."""
    return tuple(
        FixtureSample(
            key=k,
            feature=f,
            name=n,
            national_code=c,
            hospital_code=hc,
            dosage_form=form,
            spec=spec,
            category=cat,
            expect=e,
        )
        for k, f, n, c, hc, form, spec, cat, e in _SAMPLES
    )
