"""The ``onestop settle`` and ``onestop demo`` commands, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from onestop.cli import main

ROOT = Path(__file__).resolve().parents[2]
BILLS = ROOT / "examples" / "bills"


def test_settle_prints_settlement_json_in_fen():
    """Settling an example bill prints a Settlement whose totals add up, amounts as integers (fen)."""
    res = CliRunner().invoke(main, ["settle", str(BILLS / "work_injury_and_basic.json")])
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    t = s["totals"]
    assert isinstance(t["medfee_sumamt"], int)
    parts = (
        "basic_fund_fen",
        "work_injury_fund_fen",
        "maternity_fund_fen",
        "employer_fen",
        "commercial_fen",
        "account_fen",
        "final_patient_cash_fen",
    )
    assert sum(t[k] for k in parts) == t["medfee_sumamt"]
    assert s["work_injury"]["status"] == "recognised"
    assert s["versions"]["policy_label"] == "unverified example parameters"


def test_settle_refuses_bad_bill_naming_field_and_line(tmp_path):
    """A bad bill exits 2 and names the field and the line on stderr; nothing is printed on stdout."""
    doc = json.loads((BILLS / "outpatient_b_class.json").read_text(encoding="utf-8"))
    doc["lines"][1]["quantity"] = "1.23456"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    res = CliRunner().invoke(main, ["settle", str(bad)])
    assert res.exit_code == 2
    assert "lines[1].quantity (feedetl_sn 2)" in res.output


def test_settle_with_explicit_policy_file_and_accumulators(tmp_path):
    """--policy picks a policy file; --accumulators feeds year-to-date figures (a used-up cap means no 统筹)."""
    policy = ROOT / "src" / "onestop" / "policy" / "regions" / "changchun.yaml"
    acc = tmp_path / "acc.json"
    acc.write_text(json.dumps({"310:2026:pool_paid": 15_000_000}), encoding="utf-8")
    res = CliRunner().invoke(
        main, ["settle", str(BILLS / "stay_across_new_year.json"), "--policy", str(policy), "--accumulators", str(acc)]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["basic"]["hifp_pay"] == 0


def test_demo_settles_every_example(monkeypatch):
    """``onestop demo`` prints a cashier receipt for every example bill."""
    monkeypatch.chdir(ROOT)
    res = CliRunner().invoke(main, ["demo"])
    assert res.exit_code == 0, res.output
    assert res.output.count("final_patient_cash") == len(list(BILLS.glob("*.json")))
