"""CSV import formats: every bad row reported as file:line + reason, nothing returned unless all valid."""

import pytest

from onestop.catalog.csvformat import KINDS, read_csv
from onestop.domain.codes import ChrgitmLv
from onestop.errors import InvalidRequest

HEADER = "edition,med_list_codg,catalog_no,drug_genname,drug_dosform,drug_spec,section,chrgitm_lv,memo,category_code,fixture\n"
EDITIONS = {"nrdl-2025": "drug", "svc": "service"}


def write(tmp_path, text, name="f.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def violations(exc: pytest.ExceptionInfo[InvalidRequest]) -> dict[str, str]:
    return {v.field.rsplit(":", 1)[1]: v.description for v in exc.value.violations}


def test_good_file_loads_typed_rows(tmp_path):
    """A valid drug file gives typed rows (class as ChrgitmLv, fixture flag as bool)."""
    p = write(tmp_path, HEADER + "nrdl-2025,XA01AFX0001000000000000,1,甲药,片剂,,西药部分,甲,,XA01A,1\n")
    (row,) = read_csv(p, "drug", EDITIONS)
    assert row.lv is ChrgitmLv.A
    assert row.fixture is True
    assert row.name == "甲药"


def test_every_bad_row_is_reported_with_its_line(tmp_path):
    """Bad class, bad code, missing name, unknown edition and a duplicate: each named by line number."""
    body = (
        "# a comment line before the header\n"
        + HEADER
        + "nrdl-2025,XA01AFX0001000000000000,1,甲药,,,西药部分,甲,,,1\n"
        + "nrdl-2025,XA01AFX0002000000000000,2,乙药,,,西药部分,丁,,,1\n"
        + "nrdl-2025,BAD,3,,,,西药部分,乙,,,1\n"
        + "nrdl-2099,XA01AFX0004000000000000,4,丙药,,,西药部分,乙,,,1\n"
        + "nrdl-2025,XA01AFX0001000000000000,1,甲药,,,西药部分,甲,,,1\n"
    )
    p = write(tmp_path, body)
    with pytest.raises(InvalidRequest) as exc:
        read_csv(p, "drug", EDITIONS)
    got = violations(exc)
    assert set(got) == {"4", "5", "6", "7"}
    assert "chrgitm_lv" in got["4"]
    assert "med_list_codg" in got["5"]
    assert "drug_genname is required" in got["5"]
    assert "nrdl-2099" in got["6"]
    assert "duplicate of line 3" in got["7"]
    assert all(v.field.startswith(str(p)) for v in exc.value.violations)


def test_a_negotiated_drug_must_be_b_class(tmp_path):
    """Negotiated drugs are paid as 乙类: a 甲 row in the 协议期内谈判药品 section is refused on its line."""
    body = HEADER + "nrdl-2025,XA01AFX0001000000000000,1,谈判药,,,协议期内谈判药品部分,甲,,,1\n"
    with pytest.raises(InvalidRequest) as exc:
        read_csv(write(tmp_path, body), "drug", EDITIONS)
    assert "乙类" in violations(exc)["2"]
    ok = HEADER + "nrdl-2025,XA01AFX0001000000000000,1,谈判药,,,协议期内谈判药品部分,乙,,,1\n"
    assert read_csv(write(tmp_path, ok, "ok.csv"), "drug", EDITIONS)[0].lv is ChrgitmLv.B


def test_header_problems_are_reported_on_the_header_line(tmp_path):
    """Missing and unknown columns are named, at the header's line."""
    p = write(tmp_path, "# c\nedition,med_list_codg,colour\nx,y,z\n")
    with pytest.raises(InvalidRequest) as exc:
        read_csv(p, "drug", EDITIONS)
    ((line, why),) = violations(exc).items()
    assert line == "2"
    assert "missing column(s)" in why
    assert "colour" in why


def test_money_is_exact_yuan_and_star_is_confidential(tmp_path):
    """Standards take exact yuan (≤ 2 decimals) or "*"; 1.234 and a float exponent are refused."""
    head = "med_list_codg,drug_genname,hilist_lmtpric_type,hilist_pric_uplmt_amt,begndate\n"
    ok = write(tmp_path, head + ",甲药,bid,12.30,2025-01-01\n,乙药,negotiated,*,2025-01-01\n", "ok.csv")
    a, b = read_csv(ok, "standard")
    assert (a.amount_fen, a.confidential) == (1230, False)
    assert (b.amount_fen, b.confidential) == (None, True)
    bad = write(
        tmp_path, head + ",甲药,bid,1.234,2025-01-01\n,乙药,bid,1e3,2025-01-01\n,丙药,cheap,1,2025-01-01\n", "bad.csv"
    )
    with pytest.raises(InvalidRequest) as exc:
        read_csv(bad, "standard")
    assert set(violations(exc)) == {"2", "3", "4"}


def test_dates_must_be_ordered(tmp_path):
    """An enddate before its begndate is refused."""
    head = "insu_admdvs,drug_genname,begndate,enddate\n"
    p = write(tmp_path, head + "220000,甲药,2025-02-01,2025-01-01\n")
    with pytest.raises(InvalidRequest) as exc:
        read_csv(p, "dual-channel")
    assert "before begndate" in violations(exc)["2"]


def test_bom_and_blank_lines_are_accepted(tmp_path):
    """A UTF-8 BOM (Excel) and blank lines do not break a file."""
    p = tmp_path / "bom.csv"
    p.write_bytes(
        ("\ufeff" + "fixmedins_code,medins_list_codg,med_list_codg\nH1,YP1,XA01AFX0001000000000000\n\n").encode()
    )
    (row,) = read_csv(p, "hospital-map")
    assert (row.hospital, row.hospital_code) == ("H1", "YP1")


def test_not_utf8_is_refused(tmp_path):
    """A GBK file is refused with a line-1 error rather than loaded as garbage."""
    p = tmp_path / "gbk.csv"
    p.write_bytes("fixmedins_code,medins_list_codg,med_list_codg\n测试,YP1,X\n".encode("gbk"))
    with pytest.raises(InvalidRequest):
        read_csv(p, "hospital-map")


def test_every_kind_documents_its_columns():
    """Every import kind has columns; every column has a name and an attribute."""
    for kind in KINDS.values():
        assert kind.columns
        assert all(c.name and c.attr for c in kind.columns)


def test_a_hospital_map_row_must_name_a_national_code(tmp_path):
    """A hospital's item mapped to something that is no national code is refused on its line."""
    head = "fixmedins_code,medins_list_codg,med_list_codg,fixture\n"
    body = head + "H1,YP-1,XA03AFX0001000000000000,1\nH1,YP-2,NOTACODE,1\nH1,YP-3,Z22FXPREP0001,1\n"
    with pytest.raises(InvalidRequest) as exc:
        read_csv(write(tmp_path, body), "hospital-map", EDITIONS)
    assert set(violations(exc)) == {"3"}
    assert "NOTACODE" in violations(exc)["3"]
