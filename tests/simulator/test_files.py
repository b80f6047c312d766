"""Population files: a faithful round trip, the gateway export's columns, and errors naming file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal
from simulator.sim_helpers import assert_same, changchun, funded

from onestop.errors import InvalidRequest
from onestop.simulator import read_population, run_exact, run_fast, write_population
from onestop.simulator._files import lines_path_for


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_written_population_reads_back_equal(tmp_path, fmt):
    """What write_population writes, read_population reads back table for table (cells included)."""
    pop = funded().population
    members, claims, lines = write_population(pop, tmp_path, fmt=fmt)
    assert lines == lines_path_for(claims)
    ticks: list[tuple[str, int, int]] = []
    back = read_population(claims, members, progress=lambda *t: ticks.append(t))
    assert ticks == [("read population", 1, 4)] * 4  # members, claims, lines, cells: a bar can follow
    assert_frame_equal(back.members, pop.members)
    assert_frame_equal(back.claims, pop.claims)
    assert_frame_equal(back.cells, pop.cells)
    d = changchun("heilongjiang-upgraded-2025")
    assert_same(run_exact(back, d), run_fast(pop, d))


def _write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


MEMBERS = """
member_id,insured_region,insutype,psn_type,sex,birth_year
m1,220100,310,11,1,1970
m2,220100,390,13,2,1990
"""
CLAIMS = """
settlement_id,member_id,hospital_code,hospital_tier,region,insured_region,insutype,med_type,settle_date,admission_date,discharge_date,principal_diagnosis,medfee_sumamt_fen,fund_paid_fen,commercial_paid_fen,account_paid_fen,patient_cash_fen,remaining_fulamt_ownpay_fen,remaining_cidl_fen,remaining_overlmt_fen,remaining_preselfpay_fen,remaining_deductible_fen,remaining_copay_fen
s1,m1,H1,三级,220100,220100,310,21,2026-03-20,2026-03-01,2026-03-20,C83.300,121000000,500000,0,0,120500000,100000,120000000,0,0,200000,200000
s2,m2,H1,三级,220100,220100,390,11,2026-04-02,2026-04-02,2026-04-02,K35.800,30000,10000,0,0,20000,0,0,0,5000,15000,0
"""
LINES = """
settlement_id,feedetl_sn,national_code,name,charge_category,item_kind,chrgitm_lv,in_catalog,cidl,cidl_no,standard_confidential,quantity,unit_price_fen,amount_fen,fund_fen
s1,1,,阿基仑赛注射液,09,drug,03,false,true,10,false,1,120000000,120000000,0
s1,2,001,床位费,01,service,01,true,false,,false,20,3500,1000000,500000
"""


def test_reads_the_gateway_export_as_written(tmp_path):
    """The export's three files read as is: a CIDL line becomes a CIDL cell, the rest of the claim one residual line."""
    m = _write(tmp_path / "april.members.csv", MEMBERS)
    c = _write(tmp_path / "april.claims.csv", CLAIMS)
    _write(tmp_path / "april.lines.csv", LINES)
    pop = read_population(c, m)
    assert pop.members.get_column("age").to_list() == [56, 36]  # first admission year − birth year
    s1 = pop.cells.filter(pop.cells["claim_id"] == "s1")
    assert s1.select("line_sn", "category", "amount_fen", "cidl_no").rows() == [
        ("1", "cidl", 120_000_000, 10),
        ("~rest", "fulamt_ownpay", 100_000, None),
        ("~rest", "deductible", 200_000, None),
        ("~rest", "copay", 200_000, None),
    ]
    s2 = pop.cells.filter(pop.cells["claim_id"] == "s2")
    assert s2.select("detail", "category", "amount_fen").rows() == [
        (False, "preselfpay", 5000),
        (False, "deductible", 15000),
    ]
    d = changchun("heilongjiang-upgraded-2025")
    r = run_exact(pop, d)
    assert_same(r, run_fast(pop, d))
    assert int(r.paid[:, 0].sum()) == 100_000_000  # CAR-T: (120万 − 1.2万) × 100 % capped at 100万


@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        (
            "claims",
            lambda t: t.replace("2026-04-02,2026-04-02,2026-04-02", "2026-04-02,2026-13-02,2026-04-02"),
            "april.claims.csv:3: admission_date: a date YYYY-MM-DD, got '2026-13-02'",
        ),
        (
            "claims",
            lambda t: t.replace(",5000,15000,0", ",-5,15000,0"),
            "april.claims.csv:3: remaining_preselfpay_fen: must be ≥ 0, got -5",
        ),
        (
            "claims",
            lambda t: t.replace("s2,m2,", "s2,m9,"),
            "april.claims.csv:3: member_id: 'm9' is not in the members file",
        ),
        ("claims", lambda t: t.replace("s2,m2,", "s1,m2,"), "april.claims.csv:3: settlement_id: 's1' appears twice"),
        (
            "claims",
            lambda t: t.replace("admission_date", "admitted"),
            "april.claims.csv: admission_date: required column missing",
        ),
        (
            "members",
            lambda t: t.replace("m2,220100,390,13,2,1990", "m2,220100,390,13,2,nineteen"),
            "april.members.csv:3: birth_year: a year, got 'nineteen'",
        ),
        (
            "lines",
            lambda t: t.replace("1000000,500000", "1000000,abc"),
            "april.lines.csv:3: fund_fen: integer fen, got 'abc'",
        ),
        (
            "lines",
            lambda t: t.replace("s1,2,", "s7,2,"),
            "april.lines.csv:3: settlement_id: 's7' is not in the claims file",
        ),
        (
            "lines",
            lambda t: t.replace("120000000,120000000,0", "130000000,130000000,0"),
            "april.lines.csv: claim s1: lines carry 130000000 fen of cidl, the claim's remaining_cidl_fen is 120000000",
        ),
    ],
)
def test_bad_input_names_file_line_and_column(tmp_path, file, edit, message):
    """Each bad value is reported as FILE:LINE: column: problem, and nothing is returned."""
    texts = {"members": MEMBERS, "claims": CLAIMS, "lines": LINES}
    texts[file] = edit(texts[file].strip())
    paths = {k: _write(tmp_path / f"april.{k}.csv", v) for k, v in texts.items()}
    with pytest.raises(InvalidRequest) as exc:
        read_population(paths["claims"], paths["members"])
    assert message in str(exc.value)


def test_missing_or_unsupported_file_is_named(tmp_path):
    """A missing file and an unsupported extension are named in the error."""
    m = _write(tmp_path / "m.csv", MEMBERS)
    with pytest.raises(InvalidRequest, match=r"nope\.csv: no such file"):
        read_population(tmp_path / "nope.csv", m)
    bad = _write(tmp_path / "c.json", "{}")
    with pytest.raises(InvalidRequest, match=r"c\.json: must end in \.csv or \.parquet"):
        read_population(bad, m)
