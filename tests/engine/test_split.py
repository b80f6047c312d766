"""Line split rules on the basic leg (domain.md §1.4): each rule's arithmetic in its docstring."""

from decimal import Decimal

from engine.fakes import OUT, bill, cidl, entry, line, restriction, standard

from onestop.catalog.resolution import HospitalPreparation, RestrictionKind, StandardSource
from onestop.domain import MedType
from onestop.engine._split import Reason, SplitContext, split_basic, split_no_ab

CTX = SplitContext(
    med_type=MedType.INPATIENT,
    age=40,
    facility_level=3,
    hospital_code="H0001",
    hospital_group="G1",
    default_b_ratio=Decimal("0.10"),
    b_overrides={},
    dual_channel_needs_filing=True,
    dual_channel_filing_id="",
)


def one(ln: dict, **over) -> object:
    return bill([ln], **over).lines[0]


def parts(s) -> tuple[int, int, int, int]:
    return (s.fulamt, s.overlmt, s.preselfpay, s.inscope)


def test_worked_example_over_standard_b_class():
    """Price 120.00, standard 110.00, 乙类 10% → 超限价 10.00, 先行自付 (120−10)×10% = 11.00, 政策范围内 99.00."""
    s = split_basic(one(line("1", "D1", "120.00")), entry("D1", "乙", standard=standard(11000)), CTX)
    assert parts(s) == (0, 1000, 1100, 9900)
    assert Reason.OVER_STANDARD in s.reasons


def test_b_ratio_precedence_region_over_catalog_over_default():
    """乙类 先行自付 ratio: the region's per-item override wins over the catalog row's, which wins over the default."""
    ln = one(line("1", "D1", "100.00"))
    plain = split_basic(ln, entry("D1", "乙"), CTX)
    assert plain.preselfpay == 1000  # region default 10%
    catalog_row = entry("D1", "乙", selfpay_ratio=Decimal("0.20"))
    assert split_basic(ln, catalog_row, CTX).preselfpay == 2000
    regional = SplitContext(**{**{f: getattr(CTX, f) for f in CTX.__slots__}, "b_overrides": {"D1": Decimal("0.05")}})
    assert split_basic(ln, catalog_row, regional).preselfpay == 500


def test_a_class_all_in_scope():
    """甲类 under its standard: 先行自付 0, all 100.00 in scope."""
    s = split_basic(one(line("1", "D1", "100.00")), entry("D1", "甲", standard=standard(11000)), CTX)
    assert parts(s) == (0, 0, 0, 10000)


def test_bid_drug_below_standard_paid_on_actual_price():
    """A bid drug priced 80.00 under a 110.00 standard: no 超限价; 乙类 10% of 80.00 = 8.00; in scope 72.00."""
    s = split_basic(one(line("1", "D1", "80.00")), entry("D1", "乙", standard=standard(11000)), CTX)
    assert parts(s) == (0, 0, 800, 7200)


def test_standard_applies_per_unit_times_quantity():
    """3 units at 50.00 against a 45.00 standard: 超限价 3 × 5.00 = 15.00; 乙 10% of 135.00 = 13.50; in scope 121.50."""
    s = split_basic(one(line("1", "D1", "50.00", "3")), entry("D1", "乙", standard=standard(4500)), CTX)
    assert parts(s) == (0, 1500, 1350, 12150)


def test_out_of_catalog_and_class_c_are_full_self_pay():
    """Out of catalog → 全自费 OUT_OF_CATALOG; 丙类 → 全自费 CLASS_C."""
    s = split_basic(one(line("1", "X", "10.00")), OUT, CTX)
    assert parts(s) == (1000, 0, 0, 0)
    assert s.reasons == [Reason.OUT_OF_CATALOG]
    s = split_basic(one(line("1", "C", "10.00")), entry("C", "丙"), CTX)
    assert parts(s) == (1000, 0, 0, 0)
    assert s.reasons == [Reason.CLASS_C]


def test_cidl_line_is_full_self_pay_with_reason():
    """A CIDL drug is never fund-payable: 全自费 with CIDL_NOT_FUND_PAYABLE, whatever the catalog says."""
    s = split_basic(one(line("1", "CART", "1200000.00")), entry("CART", "乙", cidl=cidl()), CTX)
    assert parts(s) == (120000000, 0, 0, 0)
    assert s.reasons == [Reason.CIDL]


def test_work_injury_and_maternity_only_drugs_refused_on_basic():
    """限工伤 / 限生育 drugs on a basic bill → 全自费; on their own leg they are paid with no 甲/乙 share."""
    wi = entry("W", "乙", restrictions=(restriction(RestrictionKind.WORK_INJURY_ONLY),))
    mat = entry("M", "乙", restrictions=(restriction(RestrictionKind.MATERNITY_ONLY),))
    ln = one(line("1", "W", "30.00"))
    assert split_basic(ln, wi, CTX).reasons == [Reason.WORK_INJURY_ONLY]
    assert split_basic(ln, mat, CTX).reasons == [Reason.MATERNITY_ONLY]
    s = split_no_ab(ln, wi, CTX, leg="work_injury")
    assert parts(s) == (0, 0, 0, 3000)
    assert split_no_ab(ln, wi, CTX, leg="maternity").reasons == [Reason.WORK_INJURY_ONLY]


def test_indication_restriction_needs_attestation():
    """A 备注 indication restriction is paid only with hosp_appr_flag 1; 0 → 全自费; 2 → 全自费 (patient chose)."""
    res = entry("R", "乙", restrictions=(restriction(RestrictionKind.INDICATION),))
    assert split_basic(one(line("1", "R", "10.00", hosp_appr_flag="1")), res, CTX).inscope == 900
    assert split_basic(one(line("1", "R", "10.00", hosp_appr_flag="0")), res, CTX).reasons == [Reason.INDICATION]
    assert split_basic(one(line("1", "R", "10.00", hosp_appr_flag="2")), res, CTX).reasons == [Reason.SELF_PAY_CHOSEN]


def test_children_age_setting_and_facility_restrictions():
    """限儿童 at age 40, 限门诊 on an inpatient visit, 限三级 at a level-2 hospital → each 全自费 with its reason."""
    ln = one(line("1", "R", "10.00"))
    kid = entry("R", restrictions=(restriction(RestrictionKind.CHILDREN),))
    assert split_basic(ln, kid, CTX).reasons == [Reason.AGE]
    child_ctx = SplitContext(**{**{f: getattr(CTX, f) for f in CTX.__slots__}, "age": 6})
    assert split_basic(ln, kid, child_ctx).inscope == 1000
    outp = entry("R", restrictions=(restriction(RestrictionKind.OUTPATIENT_ONLY),))
    assert split_basic(ln, outp, CTX).reasons == [Reason.SETTING]
    lvl = entry("R", restrictions=(restriction(RestrictionKind.FACILITY_LEVEL, 3),))
    lvl2 = SplitContext(**{**{f: getattr(CTX, f) for f in CTX.__slots__}, "facility_level": 2})
    assert split_basic(ln, lvl, lvl2).reasons == [Reason.FACILITY]
    assert split_basic(ln, lvl, CTX).inscope == 1000


def test_hospital_preparation_payable_at_producer_and_approved_group_only():
    """医疗机构制剂: payable at the producer; elsewhere only inside an approved group; else 全自费."""
    ln = one(line("1", "P", "20.00"))
    own = entry("P", hospital_preparation=HospitalPreparation(("H0001",), False, ()))
    other = entry("P", hospital_preparation=HospitalPreparation(("H0009",), False, ()))
    grp = entry("P", hospital_preparation=HospitalPreparation(("H0009",), True, ("G1",)))
    assert split_basic(ln, own, CTX).inscope == 2000
    assert split_basic(ln, other, CTX).reasons == [Reason.PREPARATION]
    assert split_basic(ln, grp, CTX).inscope == 2000


def test_dual_channel_purchase_needs_list_prescription_and_filing():
    """双通道 (med_type 41): on the list + e-prescription + 备案 (where required) → paid; missing any → 全自费."""
    pharm = SplitContext(**{**{f: getattr(CTX, f) for f in CTX.__slots__}, "med_type": MedType.PHARMACY})
    filed = SplitContext(**{**{f: getattr(pharm, f) for f in CTX.__slots__}, "dual_channel_filing_id": "BA1"})
    on_list = entry("N", "乙", negotiated=True, dual_channel=True)
    with_rx = one(line("1", "N", "100.00", e_prescription_id="RX1"))
    no_rx = one(line("1", "N", "100.00"))
    assert split_basic(with_rx, on_list, filed).inscope == 9000
    assert split_basic(no_rx, on_list, filed).reasons == [Reason.DUAL_CHANNEL]
    assert split_basic(with_rx, on_list, pharm).reasons == [Reason.DUAL_CHANNEL]
    off_list = entry("N", "乙", negotiated=True, dual_channel=False)
    assert split_basic(with_rx, off_list, filed).reasons == [Reason.DUAL_CHANNEL]


def test_a_region_that_does_not_require_an_e_prescription_pays_without_one():
    """dual_channel.requires_e_prescription: false — a 双通道 purchase without an e-prescription is paid."""
    no_rx_needed = SplitContext(
        **{
            **{f: getattr(CTX, f) for f in CTX.__slots__},
            "med_type": MedType.PHARMACY,
            "dual_channel_filing_id": "BA1",
            "dual_channel_needs_e_prescription": False,
        }
    )
    on_list = entry("N", "乙", negotiated=True, dual_channel=True)
    assert split_basic(one(line("1", "N", "100.00")), on_list, no_rx_needed).inscope == 9000


def test_transition_window_paid_at_original_standard():
    """A removed negotiated drug inside its window: paid at its original standard (150.00 → 超限价 10.00)."""
    import datetime as dt

    res = entry(
        "T",
        "乙",
        negotiated=True,
        standard=standard(15000, source=StandardSource.NEGOTIATED),
        transition_until=dt.date(2026, 6, 30),
    )
    s = split_basic(one(line("1", "T", "160.00")), res, CTX)
    assert parts(s) == (0, 1000, 1500, 13500)
    assert Reason.TRANSITION in s.reasons
    assert any(w.startswith("NEGOTIATED_PRICE_ABOVE_STANDARD") for w in s.warnings)


def test_per_item_selfpay_ratio_overrides_region_default():
    """A catalog/province per-item 先行自付 ratio of 15% beats the region's 10%: 100.00 → 15.00 / 85.00."""
    s = split_basic(one(line("1", "D", "100.00")), entry("D", "乙", selfpay_ratio=Decimal("0.15")), CTX)
    assert parts(s) == (0, 0, 1500, 8500)


def test_confidential_standard_used_but_flagged():
    """A confidential standard prices the line (超限价 computed) and marks the split confidential."""
    res = entry(
        "S", "乙", negotiated=True, standard=standard(9000, source=StandardSource.NEGOTIATED, confidential=True)
    )
    s = split_basic(one(line("1", "S", "100.00")), res, CTX)
    assert s.overlmt == 1000
    assert s.std_confidential
