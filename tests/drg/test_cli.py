"""``onestop drg group CASES.csv > RESULT.csv [--trace TRACE.jsonl]`` as a user runs it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from onestop.cli import main
from onestop.drg import INPUT_OPTIONAL, INPUT_REQUIRED, OUTPUT_COLUMNS

HEADER = ",".join(INPUT_REQUIRED + INPUT_OPTIONAL)
ROWS = [
    # line 2: pneumonia, 职工, cost 1.5 × standard (0.3825 × 12,252.70 = 4,686.66 → 468,666 fen)
    "A1,1,50,,,呼吸科,7,1,J18.900|W19.x00,,,310,990100,2026-03-01,702999,,",
    # line 3: malformed age
    "A2,1,fifty,,,呼吸科,7,1,J18.900,,,310,990100,2026-03-01,,,",
    # line 4: region without a grouper
    "A3,2,40,,,呼吸科,7,1,J18.900,,,310,220100,2026-03-01,,,",
    # line 5: covered CIDL → special review
    "A4,1,52,,,血液科,20,1,C83.300,99.2503,,310,990100,2026-03-21,121000000,120000000,1",
    # line 6: empty sex → missing_data
    "A5,,52,,,血液科,20,1,C83.300,,,310,990100,2026-03-21,,,",
]


def _run(tmp_path: Path, text: str, *extra: str) -> tuple[int, list[dict[str, str]], str]:
    src = tmp_path / "cases.csv"
    src.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["drg", "group", str(src), *extra])
    rows = list(csv.DictReader(io.StringIO(res.stdout))) if res.exit_code == 0 else []
    return res.exit_code, rows, res.stderr


def test_results_one_row_per_case_in_the_fixed_columns(tmp_path: Path) -> None:
    """Every input row yields one output row with the fixed columns; the malformed row names its line and field
    and does not stop the others."""
    code, rows, err = _run(tmp_path, "\n".join([HEADER, *ROWS]) + "\n")
    assert code == 0
    assert list(rows[0]) == list(OUTPUT_COLUMNS)
    by_id = {r["case_id"]: r for r in rows}
    assert [r["status"] for r in rows] == ["grouped", "invalid", "no_grouper", "grouped", "missing_data"]
    a1 = by_id["A1"]
    assert (a1["mdc"], a1["adrg"], a1["drg"], a1["weight"]) == ("E", "ES3", "ES35", "0.3825")
    assert (a1["base_rate_fen"], a1["drg_payment_fen"]) == ("1225270", "468666")
    assert (a1["cost_ratio"], a1["cost_class"], a1["special_review"]) == ("1.5000", "normal", "0")
    assert "line 3" in by_id["A2"]["reason"]
    assert "age" in by_id["A2"]["reason"]
    assert "no grouper for region 220100" in by_id["A3"]["reason"]
    a4 = by_id["A4"]
    assert (a4["drg"], a4["special_review"]) == ("RB25", "1")
    assert "CIDL" in a4["reason"]
    assert "sex" in by_id["A5"]["reason"]
    assert "line 6" in by_id["A5"]["reason"]  # refused by the grouper, not the parser: the line is named all the same
    assert "5 cases" in err


def test_a_row_of_the_wrong_width_is_invalid_naming_its_line(tmp_path: Path) -> None:
    """A row with a surplus field (a comma inside a code) or cut short is invalid with its line and both widths,
    not grouped on shifted or empty fields; a badly shaped code refused by the grouper names its line too."""
    width = len(HEADER.split(","))
    rows = [ROWS[0] + ",extra", ROWS[0].rsplit(",", 8)[0], ROWS[0].replace("J18.900|", "j18.900|", 1)]
    code, out, _err = _run(tmp_path, "\n".join([HEADER, *rows]) + "\n")
    assert code == 0
    assert [r["status"] for r in out] == ["invalid", "invalid", "invalid"]
    assert out[0]["reason"] == f"invalid: line 2: {width + 1} fields, the header has {width}"
    assert out[1]["reason"] == f"invalid: line 3: {width - 8} fields, the header has {width}"
    assert out[2]["reason"].startswith("invalid: line 4: ")


def test_trace_file_has_one_json_line_per_case(tmp_path: Path) -> None:
    """--trace writes one JSON line per row with its line number and a non-empty trace."""
    trace = tmp_path / "trace.jsonl"
    code, _, _ = _run(tmp_path, "\n".join([HEADER, *ROWS]) + "\n", "--trace", str(trace))
    assert code == 0
    docs = [json.loads(x) for x in trace.read_text(encoding="utf-8").splitlines()]
    assert [d["line"] for d in docs] == [2, 3, 4, 5, 6]
    assert all(d["trace"] for d in docs)
    assert any("W19.x00" in t for t in docs[0]["trace"])
    assert not list(tmp_path.glob(".trace.jsonl.*"))


def test_missing_column_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    """A header without a required column stops the run with the file and column named; no trace file appears."""
    trace = tmp_path / "trace.jsonl"
    header = HEADER.replace("procedures,", "")
    src = tmp_path / "cases.csv"
    src.write_text(header + "\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["drg", "group", str(src), "--trace", str(trace)])
    assert res.exit_code != 0
    assert "procedures" in res.output + res.stderr
    assert "cases.csv" in res.output + res.stderr
    assert not trace.exists()
    assert not list(tmp_path.glob(".trace.jsonl.*"))


def test_region_and_date_options_fill_rows_without_them(tmp_path: Path) -> None:
    """Only required columns: --region/--date choose the grouper; without them rows answer missing_data."""
    text = ",".join(INPUT_REQUIRED) + "\nB1,1,50,,,呼吸科,7,1,J18.900,\n"
    _, rows, _ = _run(tmp_path, text, "--region", "990100", "--date", "2026-03-01")
    assert rows[0]["drg"] == "ES35"
    assert rows[0]["drg_payment_fen"] == ""  # no insutype: no base rate
    _, rows, _ = _run(tmp_path, text)
    assert rows[0]["status"] == "missing_data"
