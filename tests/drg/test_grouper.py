"""Hand-checked groupings on the real CHS-DRG 1.1 tables (each expectation read off the packaged lists)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from drg.drg_helpers import GROUPER, case, grouped

from onestop.drg import GroupStatus


@pytest.mark.parametrize(
    ("diagnoses", "procedures", "drg"),
    [
        # MDC E, medical: pneumonia J18.900 is on ES3's principal list; ES3 offers 1/3/5.
        (("J18.900",), (), "ES35"),
        # MDC F, medical with an unsplit DRG: acute MI I21.001 → FR1, whose only DRG is FR19.
        (("I21.001",), (), "FR19"),
        # MDC F, non-OR procedure: a percutaneous coronary procedure 00.6600x004 → FM2 (offers 1/5).
        (("I21.001",), ("00.6600x004",), "FM25"),
        # MDC G, surgical with a principal-diagnosis condition: perforated appendicitis + appendicectomy → GD1.
        (("K35.201",), ("47.0901",), "GD15"),
        # MDC R, treatment: lymphoma C83.300 with IV chemotherapy 99.2503 → RB2; without it → medical RS1.
        (("C83.300",), ("99.2503",), "RB25"),
        (("C83.300",), (), "RS15"),
        # MDC F, surgical: CABG 36.1000x001 → FC1 (offers 1/5).
        (("I35.000",), ("36.1000x001",), "FC15"),
        # MDC B: cerebral infarction → BR2 (offers 3/5); head injury → BY1.
        (("I63.900",), (), "BR25"),
        (("S06.000",), (), "BY15"),
        # MDC C: cataract with phacoemulsification → CB3; without surgery → CW1 (unsplit).
        (("H25.900",), ("13.4100x001",), "CB35"),
        (("H25.900",), (), "CW19"),
        # MDC I: hip fracture / knee arthrosis with joint replacement → IC2 (unsplit).
        (("S72.000",), ("81.5100",), "IC29"),
        (("M17.900",), ("81.5400",), "IC29"),
        # MDC K: type 2 diabetes → KS1. MDC L: urinary stone → LX1. MDC M: prostate hyperplasia → MZ1.
        (("E11.900",), (), "KS15"),
        (("N20.000",), (), "LX15"),
        (("N40.x00",), (), "MZ15"),
        # MDC T: depressive episode → TS1 (unsplit). MDC V: anaphylaxis-type reaction → VS1 (offers 3/5).
        (("F32.900",), (), "TS19"),
        (("T78.400",), (), "VS15"),
    ],
)
def test_mdc_families_by_hand(diagnoses: tuple[str, ...], procedures: tuple[str, ...], drg: str) -> None:
    """Principal diagnosis → MDC, treatment → ADRG, no CC → suffix 5 (or 9 where the ADRG is not split)."""
    r = grouped(*diagnoses, procedures=procedures)
    assert r.status is GroupStatus.GROUPED, r.trace
    assert r.drg == drg
    assert r.adrg == drg[:3]
    assert r.mdc == drg[0]


@pytest.mark.parametrize(
    ("diagnoses", "procedures", "drg"),
    [
        # MDC N: uterine leiomyoma with abdominal hysterectomy → NC1 (unsplit).
        (("D25.900",), ("68.4901",), "NC19"),
        # MDC O: caesarean section → OB1; the same principal without the operation → OZ1.
        (("O82.000",), ("74.1x01",), "OB15"),
        (("O82.000",), (), "OZ15"),
    ],
)
def test_female_mdc_families_by_hand(diagnoses: tuple[str, ...], procedures: tuple[str, ...], drg: str) -> None:
    """Female cases of MDC N and O group by the same rules (and pass the sex edit)."""
    r = grouped(*diagnoses, procedures=procedures, sex="2")
    assert r.status is GroupStatus.GROUPED, r.trace
    assert r.drg == drg


def test_mcc_takes_suffix_3_where_the_adrg_has_no_1() -> None:
    """BR2 offers only 3/5: an MCC (I50.900) gives BR23."""
    r = grouped("I63.900", "I50.900")
    assert (r.drg, r.cc_level) == ("BR23", "MCC")


def test_weight_comes_from_the_harbin_list() -> None:
    """ES35 weighs 0.3825 in the Harbin 2024 list; the weight is an exact Decimal."""
    r = grouped("J18.900")
    assert r.weight == Decimal("0.3825")


def test_mcc_and_cc_pick_the_suffix() -> None:
    """Heart failure I50.900 is an MCC for pneumonia (ES31); pneumonia J18.900 is a CC for COPD J44.100 (ET23)."""
    assert grouped("J18.900", "I50.900").drg == "ES31"
    r = grouped("J44.100", "J18.900")
    assert (r.drg, r.cc_level) == ("ET23", "CC")


def test_cc_cancelled_by_the_exclusion_table() -> None:
    """I50.900 (MCC, exclusion table 7-95) does not count when the principal I50.000 is in 7-95: FR25, not FR21.
    A CC whose table does not hold the principal (J18.900 → 7-101) still counts: FR23."""
    r = grouped("I50.000", "I50.900")
    assert r.drg == "FR25"
    assert any("excluded" in t and "7-95" in t for t in r.trace)
    assert grouped("I50.000", "J18.900").drg == "FR23"


def test_unsplit_adrg_ignores_cc() -> None:
    """FR1 only has FR19 in the list, so a CC does not change the DRG."""
    assert grouped("I21.001", "J18.900").drg == "FR19"


def test_combination_rules_of_the_breast_cancer_groups() -> None:
    """JA1 needs 手术表1 (reconstruction) with 手术表2 (radical excision); JA2 takes 手术1 alone, or 手术2 + 手术3
    (partial excision + axillary node dissection); the 主要诊断 list applies to both."""
    female = {"sex": "2"}
    assert grouped("C50.900", procedures=("85.7000x001", "85.4301"), **female).drg == "JA19"
    assert grouped("C50.900", procedures=("85.4301",), **female).drg == "JA25"
    assert grouped("C50.900", procedures=("85.2200", "40.2300"), **female).drg == "JA25"


def test_simultaneous_procedures_rule() -> None:
    """AC1 (胰/肾联合移植) needs a pancreas transplant 和 a kidney transplant; the kidney alone is AE1 (AE19).
    AC1 has no DRG in the Harbin list, so the combined case is ungroupable with the reason in the trace."""
    kidney = grouped("N18.500", procedures=("55.6901",))
    assert kidney.drg == "AE19"
    both = grouped("N18.500", procedures=("52.8000", "55.6901"))
    assert both.status is GroupStatus.UNGROUPABLE
    assert (both.adrg, both.drg) == ("00", "0000")
    assert "AC1" in both.reason


def test_ventilation_96_hours_is_pre_mdc() -> None:
    """96.7201 (呼吸机≥96h) or reported vent_hours ≥ 96 → AH1 ahead of the principal diagnosis's MDC;
    95 hours do not."""
    assert grouped("J18.900", procedures=("96.7201",)).drg == "AH19"
    assert grouped("J18.900", vent_hours=96).drg == "AH19"
    assert grouped("J18.900", vent_hours=95).drg == "ES35"


def test_ventilation_code_contradicting_hours_is_invalid() -> None:
    """Code 96.7201 says ≥ 96 h: reported vent_hours of 40 contradict it."""
    r = grouped("J18.900", procedures=("96.7201",), vent_hours=40)
    assert r.status is GroupStatus.INVALID


def test_newborn_rules() -> None:
    """Newborns under 29 days: RDS P22.000 → PR1; with ventilation (code 96.7101 or hours) → PK1;
    premature P07.300x001 → PS1–PS4 by birth weight; no weight → missing_data."""
    nb = {"age": 0, "age_days": 2}
    assert grouped("P22.000", **nb).drg == "PR15"
    assert grouped("P22.000", procedures=("96.7101",), **nb).drg == "PK19"
    assert grouped("P22.000", vent_hours=30, **nb).drg == "PK19"
    bands = {1200: "PS1", 1500: "PS2", 1999: "PS2", 2000: "PS3", 2499: "PS3", 2500: "PS4"}
    for weight, adrg in bands.items():
        assert grouped("P07.300x001", birth_weight_g=weight, **nb).adrg == adrg, weight
    missing = grouped("P07.300x001", **nb)
    assert missing.status is GroupStatus.MISSING_DATA
    assert "birth_weight_g" in missing.reason


def test_infant_with_newborn_origin_diagnosis_goes_to_pv1() -> None:
    """29 days ≤ age < 1 year with a principal on PV1's list → PV1; a 29-day-old is no longer a newborn."""
    r = grouped("A04.000x001", age=0, age_days=60)
    assert r.adrg == "PV1"
    assert grouped("P22.000", age=0, age_days=29).adrg != "PR1"


def test_age_zero_without_age_days_is_missing_data() -> None:
    """Age 0 needs age_days: the newborn rules cannot be decided without it."""
    r = grouped("J18.900", age=0)
    assert r.status is GroupStatus.MISSING_DATA
    assert "age_days" in r.reason


def test_hiv_principal_goes_to_mdc_y() -> None:
    """B20.000x001 is on YR1's list: MDC Y."""
    r = grouped("B20.000x001")
    assert (r.mdc, r.adrg) == ("Y", "YR1")


def test_ambiguous_when_an_or_procedure_does_not_fit_the_mdc() -> None:
    """Pneumonia (MDC E) with an appendicectomy: no ADRG of MDC E takes 47.0901 → 歧义组 EQY."""
    r = grouped("J18.900", procedures=("47.0901",))
    assert r.status is GroupStatus.AMBIGUOUS
    assert (r.mdc, r.drg) == ("E", "EQY")


def test_unknown_principal_is_ungroupable() -> None:
    """A principal diagnosis the tables do not use (K35.900 is not in the 医保版 2.0 lists) → ADRG 00 / DRG 0000."""
    r = grouped("K35.900")
    assert r.status is GroupStatus.UNGROUPABLE
    assert (r.adrg, r.drg) == ("00", "0000")
    assert "not used by this grouper" in r.reason


def test_unknown_secondary_codes_are_ignored_with_a_note() -> None:
    """External-cause W19.x00 is absent from the tables: ignored, noted, and the grouping is unchanged."""
    r = grouped("J18.900", "W19.x00", procedures=("99.9999",))
    assert r.drg == "ES35"
    assert any("W19.x00" in t and "ignored" in t for t in r.trace)
    assert any("99.9999" in t and "ignored" in t for t in r.trace)


@pytest.mark.parametrize(
    ("sex", "diagnoses", "procedures"),
    [("1", ("O80.000",), ()), ("2", ("C61.x00",), ()), ("1", ("N83.200",), ()), ("2", ("J18.900",), ("60.2900",))],
)
def test_sex_conflicts(sex: str, diagnoses: tuple[str, ...], procedures: tuple[str, ...]) -> None:
    """Codes of the labelled sex-specific fixture conflict with the other sex."""
    r = grouped(*diagnoses, procedures=procedures, sex=sex)
    assert r.status is GroupStatus.SEX_CONFLICT
    assert "fixture" in r.reason


def test_unknown_sex_skips_the_sex_edit() -> None:
    """Sex 9 (unspecified) cannot conflict."""
    assert grouped("O80.000", sex="9").status is not GroupStatus.SEX_CONFLICT


@pytest.mark.parametrize(("diagnoses", "procedures"), [(("j18.900",), ()), (("J18.900",), ("appendix",))])
def test_malformed_codes_are_invalid(diagnoses: tuple[str, ...], procedures: tuple[str, ...]) -> None:
    """A code of the wrong shape is invalid input, named in the reason."""
    r = grouped(*diagnoses, procedures=procedures)
    assert r.status is GroupStatus.INVALID
    assert "invalid" in r.reason


def test_missing_sex_age_or_diagnoses() -> None:
    """Empty sex, age or diagnoses → missing_data naming each."""
    r = GROUPER.group(case(sex=None, age=None))
    assert r.status is GroupStatus.MISSING_DATA
    assert "sex" in r.reason
    assert "age" in r.reason
    assert "diagnoses" in r.reason


def test_every_result_has_a_trace_ending_in_its_reason() -> None:
    """The trace is the explanation: never empty, and its last entry is the one-line reason."""
    for r in (grouped("J18.900"), grouped("K35.900"), grouped("J18.900", procedures=("47.0901",))):
        assert r.trace
        assert r.trace[-1] == r.reason


def test_the_trace_says_why_an_adrg_listing_the_cases_procedure_was_not_taken():
    """Ischaemic colitis with an appendicectomy: GD1 (perforated appendicitis) lists 47.0901 but not the principal,
    and the trace says so before naming GD2, the ADRG taken."""
    r = grouped("K55.900x004", procedures=("47.0901",))
    assert r.drg == "GD25"
    missed = [t for t in r.trace if t.startswith("ADRG GD1")]
    assert missed == [
        "ADRG GD1 伴穿孔、化脓、坏疽等阑尾切除术 not taken (lists 47.0901): principal K55.900x004 is not in its diagnosis list"
    ]
    assert r.trace.index(missed[0]) < next(i for i, t in enumerate(r.trace) if t.startswith("ADRG GD2"))
