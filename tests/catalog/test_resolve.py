"""Resolution of bill lines: transitions, CIDL, provincial layer and precedence, standards, code maps."""

import dataclasses
import datetime as dt

import pytest
from catalog.cat_helpers import CODE_A, CODE_B, hospital, line, listed, small, std

from onestop.catalog import CatalogSet, MatchedBy, RestrictionKind, StandardSource, default_catalogs
from onestop.catalog._rows import ConfidentialRow, ItemRow
from onestop.domain.codes import ChrgitmLv

D = dt.date
BENALUTIDE = "XA10BJFX900100000000000"  # 贝那鲁肽注射液: 2024 edition only; Jilin transition 2026-01-01..06-30
DUVELISIB = "XL01EMFX900500000000000"  # 度维利塞胶囊: same, with a "*" standard
CICLOSPORIN = "XS01XAFX930100000000000"  # 环孢素滴眼液(Ⅲ): 2023 edition only; transition to 2025-06-30
FENOFIBRIC = "XC10ABFX007200000000000"  # 非诺贝特酸胆碱缓释胶囊: real bid standards for two specs
SUCROFERRIC = "XV03AEFX006000000000000"  # 蔗糖羟基氧化铁咀嚼片: real "*" standard
LECANEMAB = "XN06DXFX001900000000000"  # fixture code mapped to CIDL no. 19
EMPA_MET_III = "XA10BDFX006900000000000"  # 二甲双胍恩格列净片(Ⅲ): Jilin 两病 from 2025-01-01
BENRALIZUMAB = "XR03DXFX910100000000000"  # 本瑞利珠单抗注射液: Jilin 双通道 from 2026-01-01
PREP = "Z22FXPREP0001"


@pytest.fixture(scope="module")
def cats() -> CatalogSet:
    return default_catalogs()


# ---------------------------------------------------------------- transition windows


@pytest.mark.parametrize(
    ("day", "in_catalog", "until"),
    [
        (D(2025, 12, 31), True, None),  # still in the 2024 edition
        (D(2026, 1, 1), True, D(2026, 6, 30)),  # removed, first day of the window
        (D(2026, 6, 30), True, D(2026, 6, 30)),  # last day of the window
        (D(2026, 7, 1), False, None),  # window over
    ],
)
def test_2025_transition_window_in_jilin(cats, day, in_catalog, until):
    """A negotiated drug removed by the 2025 edition is paid in Jilin 2026-01-01..06-30, then not."""
    res = cats.resolve(line(BENALUTIDE, day), hospital("220100"))
    assert res.in_catalog is in_catalog
    assert res.transition_until == until


def test_transition_pays_the_original_standard(cats):
    """In the window the standard is the one in force on the old edition's last day (150.00 元/支)."""
    res = cats.resolve(line(BENALUTIDE, D(2026, 3, 2)), hospital("220100"))
    assert res.standard is not None
    assert res.standard.amount_fen == 15000
    assert res.edition == "nrdl-2024"
    assert res.negotiated
    assert res.chrgitm_lv is ChrgitmLv.B


def test_transition_keeps_a_confidential_standard_confidential(cats):
    """度维利塞胶囊 in its window keeps its "*" standard (number from the confidential fixture)."""
    res = cats.resolve(line(DUVELISIB, D(2026, 2, 1)), hospital("220100"))
    assert res.standard is not None
    assert res.standard.confidential
    assert res.standard.amount_fen == 4567


def test_transition_is_regional(cats):
    """The 2025 window is stated by Jilin's notice: outside Jilin the removed drug is out on 2026-01-01."""
    assert not cats.resolve(line(BENALUTIDE, D(2026, 1, 1)), hospital("990100")).in_catalog


@pytest.mark.parametrize("region", ["220100", "330100"])
def test_2024_transition_window(cats, region):
    """环孢素滴眼液(Ⅲ), removed by the 2024 edition, is paid until 2025-06-30 in Jilin and Zhejiang."""
    assert cats.resolve(line(CICLOSPORIN, D(2025, 6, 30)), hospital(region)).transition_until == D(2025, 6, 30)
    assert not cats.resolve(line(CICLOSPORIN, D(2025, 7, 1)), hospital(region)).in_catalog


# ---------------------------------------------------------------- CIDL


def test_cidl_by_name_for_a_car_t(cats):
    """A CAR-T line with no national code is a CIDL drug matched by name; not in the basic catalog."""
    res = cats.resolve(line(name="阿基仑赛注射液", form="注射剂"), hospital())
    assert res.cidl is not None
    assert res.cidl.no == 10
    assert res.cidl.is_car_t
    assert res.cidl.matched_by is MatchedBy.NAME
    assert res.matched_by is MatchedBy.NAME
    assert not res.in_catalog


def test_cidl_by_generic_name_and_form(cats):
    """The generic name plus an agreeing dosage form also matches; a contradicting form does not."""
    assert cats.resolve(line(name="阿基仑赛", form="注射剂"), hospital()).cidl is not None
    assert cats.resolve(line(name="阿基仑赛注射液", form="片剂"), hospital()).cidl is None


def test_cidl_by_national_code(cats):
    """A national code mapped to a CIDL drug is detected by code, whatever the line's name says."""
    res = cats.resolve(line(LECANEMAB, name="whatever"), hospital())
    assert res.cidl is not None
    assert res.cidl.no == 19
    assert res.cidl.matched_by is MatchedBy.NATIONAL_CODE


def test_cidl_only_in_its_validity(cats):
    """The CIDL is valid 2026-01-01..2027-12-31: before and after, the same line is plain out of catalog."""
    for day in (D(2025, 12, 31), D(2028, 1, 1)):
        assert cats.resolve(line(name="阿基仑赛注射液", day=day), hospital()).cidl is None
        assert cats.resolve(line(LECANEMAB, day), hospital()).cidl is None
    assert cats.resolve(line(name="阿基仑赛注射液", day=D(2027, 12, 31)), hospital()).cidl is not None


# ---------------------------------------------------------------- provincial layer


def test_dual_channel_removal_on_2026_01_01(cats):
    """贝那鲁肽 leaves Jilin's 双通道 list on 2026-01-01 (while in its transition window)."""
    assert cats.resolve(line(BENALUTIDE, D(2025, 12, 31)), hospital("220100")).dual_channel
    assert not cats.resolve(line(BENALUTIDE, D(2026, 1, 1)), hospital("220100")).dual_channel


def test_dual_channel_addition_is_provincial(cats):
    """本瑞利珠单抗 joins Jilin's 双通道 list on 2026-01-01; elsewhere it is not on any list."""
    assert cats.resolve(line(BENRALIZUMAB, D(2026, 1, 1)), hospital("220100")).dual_channel
    assert not cats.resolve(line(BENRALIZUMAB, D(2026, 1, 1)), hospital("990100")).dual_channel


def test_two_diseases_from_the_2024_notice(cats):
    """二甲双胍恩格列净(Ⅲ) is a Jilin 两病 drug from 2025-01-01, matched by generic name and form."""
    assert not cats.resolve(line(EMPA_MET_III, D(2024, 12, 31)), hospital("220100")).two_diseases
    assert cats.resolve(line(EMPA_MET_III, D(2025, 1, 1)), hospital("220100")).two_diseases


def test_preparation_with_group_approval(cats):
    """A Jilin 医疗机构制剂 resolves with its producers and the hospital groups it is approved for."""
    res = cats.resolve(line(PREP, category="11"), hospital("220100"))
    assert res.in_catalog
    assert res.section == "医疗机构制剂"
    assert res.hospital_preparation is not None
    assert res.hospital_preparation.group_approved
    assert res.hospital_preparation.groups == ("JL-GROUP-FX1",)
    assert res.edition == "jl-prep-2025"
    assert cats.resolve(line(PREP, D(2025, 12, 31), category="11"), hospital("220100")).edition == "jl-prep-2023"
    assert not cats.resolve(line(PREP, category="11"), hospital("330100")).in_catalog


def test_pooling_region_delisting_beats_the_province():
    """A pooling region's delisting row decides over its province's listing row; other cities keep it."""
    data = small(
        dual_channel=(
            listed("乙药", "220000", D(2025, 1, 1)),
            listed("乙药", "220100", D(2025, 6, 1), on=False),
        )
    )
    cats = CatalogSet(data)
    assert cats.resolve(line(CODE_B, D(2025, 5, 31)), hospital("220100")).dual_channel
    assert not cats.resolve(line(CODE_B, D(2025, 6, 1)), hospital("220100")).dual_channel
    assert cats.resolve(line(CODE_B, D(2025, 6, 1)), hospital("220200")).dual_channel


def test_provincial_vbp_beats_the_national_bid_standard(cats):
    """For 45mg, Jilin's 集采 price (1.10) wins over the national bid standard (1.36); 135mg stays national."""
    jl = cats.resolve(line(FENOFIBRIC, spec="45mg"), hospital("220100")).standard
    assert jl is not None
    assert (jl.amount_fen, jl.source, jl.region) == (110, StandardSource.VBP, "220000")
    other = cats.resolve(line(FENOFIBRIC, spec="45mg"), hospital("990100")).standard
    assert other is not None
    assert (other.amount_fen, other.source) == (136, StandardSource.BID)
    big = cats.resolve(line(FENOFIBRIC, spec="135mg"), hospital("220100")).standard
    assert big is not None
    assert (big.amount_fen, big.region) == (315, "000000")


def test_pooling_region_price_cap_beats_the_province(cats):
    """The bed-day cap is 35.00 in 220100 (its own row), 30.00 elsewhere in Jilin, none outside."""
    caps = {
        r: cats.resolve(line("001109000010000", category="01"), hospital(r)).standard
        for r in ("220100", "220200", "990100")
    }
    assert caps["220100"] is not None
    assert caps["220100"].amount_fen == 3500
    assert caps["220200"] is not None
    assert caps["220200"].amount_fen == 3000
    assert caps["990100"] is None


def test_provincial_lists_do_not_change_national_class(cats):
    """Being on a provincial list leaves the national class and 备注 as they are."""
    res = cats.resolve(line(EMPA_MET_III, D(2026, 3, 2)), hospital("220100"))
    plain = cats.resolve(line(EMPA_MET_III, D(2026, 3, 2)), hospital("990100"))
    assert res.two_diseases
    assert not plain.two_diseases
    assert (res.chrgitm_lv, res.remark, res.restrictions) == (plain.chrgitm_lv, plain.remark, plain.restrictions)


# ---------------------------------------------------------------- standards


def test_line_spec_picks_among_several_specs(cats):
    """135mg picks 3.15 元; no spec or an ambiguous one gives no standard and says why."""
    assert cats.resolve(line(FENOFIBRIC, spec="135mg"), hospital("990100")).standard.amount_fen == 315
    none = cats.resolve(line(FENOFIBRIC), hospital("990100"))
    assert none.standard is None
    assert none.notes[0].startswith("STANDARD_SPEC_NEEDED")
    amb = cats.resolve(line(FENOFIBRIC, spec="5mg"), hospital("990100"))
    assert amb.standard is None
    assert amb.notes[0].startswith("STANDARD_SPEC_UNMATCHED")


def test_text_standard_is_kept_as_a_note(cats):
    """治疗用碘[131I]化钠胶囊's "见备注2(…)" standard gives no number, and a STANDARD_AS_TEXT note."""
    code = "XV09FFX0066000000000000"
    res = cats.resolve(line(code), hospital())
    assert res.name == "治疗用碘[131I]化钠胶囊"
    assert res.standard is None
    assert any(n.startswith("STANDARD_AS_TEXT") for n in res.notes)


def test_confidential_standard_carries_the_number_for_computation(cats):
    """A "*" standard carries the confidential file's number for the engine, flagged confidential."""
    s = cats.resolve(line(SUCROFERRIC), hospital()).standard
    assert s is not None
    assert s.confidential
    assert s.amount_fen == 1234
    assert "1234" not in repr(s)


def test_a_confidential_number_from_the_fixture_is_said_on_the_line(cats):
    """Without the configured confidential file, the packaged fixture's invented number is used only with a
    FIXTURE_CONFIDENTIAL_STANDARD note on the line (it reaches the settlement's warnings); a real file's is not."""
    res = cats.resolve(line(SUCROFERRIC), hospital())
    assert any(n.startswith("FIXTURE_CONFIDENTIAL_STANDARD") for n in res.notes)
    real = CatalogSet(
        small(
            standards=(dataclasses.replace(std(None, code=CODE_A, start=dt.date(2024, 1, 1)), fixture=False),),
            confidential=(ConfidentialRow(CODE_A, "", "", 1000, "000000", D(2024, 1, 1), None, False),),
        )
    )
    assert not any("FIXTURE" in n for n in real.resolve(line(CODE_A, D(2025, 2, 1)), hospital()).notes)


def test_confidential_number_from_the_most_specific_region():
    """A provincial confidential number beats the national one for lines in that province."""
    data = small(
        standards=(std(None, code=CODE_A, start=dt.date(2024, 1, 1)),),
        confidential=(
            ConfidentialRow(CODE_A, "", "", 1000, "000000", D(2024, 1, 1), None, True),
            ConfidentialRow(CODE_A, "", "", 900, "220000", D(2024, 1, 1), None, True),
        ),
    )
    cats = CatalogSet(data)
    assert cats.resolve(line(CODE_A, D(2025, 2, 1)), hospital("220100")).standard.amount_fen == 900
    assert cats.resolve(line(CODE_A, D(2025, 2, 1)), hospital("990100")).standard.amount_fen == 1000


def test_without_a_confidential_source_the_number_is_absent():
    """Without a confidential file a "*" standard has no number (the engine then warns)."""
    cats = CatalogSet(small(standards=(std(None, code=CODE_A),)))
    s = cats.resolve(line(CODE_A, D(2025, 2, 1)), hospital()).standard
    assert s is not None
    assert s.confidential
    assert s.amount_fen is None


# ---------------------------------------------------------------- matching


def test_hospital_code_map(cats):
    """A line with only the hospital's own code resolves through the hospital's map."""
    res = cats.resolve(line(hospital_code="YP-0001", spec="50mg"), hospital())
    assert res.in_catalog
    assert res.name == "匹维溴铵"
    assert res.matched_by is MatchedBy.HOSPITAL_MAP


def test_code_map_is_per_hospital(cats):
    """Another hospital's identical in-house code does not resolve."""
    res = cats.resolve(line(hospital_code="YP-0001"), hospital(code="H99999999999"))
    assert not res.in_catalog


def test_national_code_first(cats):
    """A known national code wins over the hospital code on the same line."""
    res = cats.resolve(line(SUCROFERRIC, hospital_code="YP-0001"), hospital())
    assert res.name == "蔗糖羟基氧化铁咀嚼片"
    assert res.matched_by is MatchedBy.NATIONAL_CODE


def test_restrictions_from_the_real_remark(cats):
    """The fixture code of a real 2025 row carries the real 备注 parsed (age ≥ 12 + indication)."""
    res = cats.resolve(line(SUCROFERRIC), hospital())
    kinds = {r.kind: r.value for r in res.restrictions}
    assert kinds[RestrictionKind.AGE_MIN] == 12
    assert RestrictionKind.INDICATION in kinds


def test_work_injury_and_maternity_only(cats):
    """限工伤 and 限生育 fixture drugs (real codes from the NHSA lists) carry their fund restriction."""
    wi = cats.resolve(line("ZH01AAB0066010100716", category="11"), hospital())
    mat = cats.resolve(line("XG02ADD082D003010179504"), hospital())
    assert [r.kind for r in wi.restrictions] == [RestrictionKind.WORK_INJURY_ONLY]
    assert [r.kind for r in mat.restrictions] == [RestrictionKind.MATERNITY_ONLY]


def test_service_and_consumable_items(cats):
    """Service and consumable codes resolve in their own catalogs with their class and 先行自付 ratio."""
    bed = cats.resolve(line("001109000010000", category="01"), hospital())
    assert bed.section == "床位费"
    assert bed.chrgitm_lv is ChrgitmLv.A
    sheath = cats.resolve(line("C020101052FX0001", category="08"), hospital())
    assert str(sheath.selfpay_ratio) == "0.30"
    assert sheath.standard.amount_fen == 12000
    assert not cats.resolve(line("001109000010000", category="09"), hospital()).in_catalog


def test_item_rows_are_dated_and_regional():
    """A service row of a pooling region and date range overrides the national row only there and then."""
    from catalog.cat_helpers import edition

    data = small(
        editions=(*small().editions, edition("svc", D(2020, 1, 1), kind="service")),
        items=(
            ItemRow("svc", "000000", "001109000010000", "床位", "01", ChrgitmLv.A, D(2020, 1, 1), None, "", None, True),
            ItemRow("svc", "220100", "001109000010000", "床位", "01", ChrgitmLv.B, D(2025, 3, 1), D(2025, 3, 31), "", None, True),
        ),
    )  # fmt: skip
    cats = CatalogSet(data)
    bed = "001109000010000"
    assert cats.resolve(line(bed, D(2025, 3, 1), category="01"), hospital("220100")).chrgitm_lv is ChrgitmLv.B
    assert cats.resolve(line(bed, D(2025, 4, 1), category="01"), hospital("220100")).chrgitm_lv is ChrgitmLv.A
    assert cats.resolve(line(bed, D(2025, 3, 1), category="01"), hospital("220200")).chrgitm_lv is ChrgitmLv.A


def test_resolution_is_cached_but_equal_across_regions_sharing_rows(cats):
    """Two regions with no rows of their own resolve identically (they share their parent's data)."""
    a = cats.resolve(line(BENRALIZUMAB), hospital("990100"))
    b = cats.resolve(line(BENRALIZUMAB), hospital("110000"))
    assert a == b


def test_drug_b_sample_data_is_independent_of_code_a():
    """Hand-made data sets resolve only what they hold (guards the helpers used above)."""
    cats = CatalogSet(small())
    assert cats.resolve(line(CODE_A, D(2024, 6, 1)), hospital()).in_catalog
    assert not cats.resolve(line(CODE_B, D(2024, 6, 1)), hospital()).in_catalog
