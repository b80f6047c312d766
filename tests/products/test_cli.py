"""`onestop settle --payers` and `onestop demo` with the shipped 惠民保 designs, as a user runs them."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from click.testing import CliRunner

from onestop.cli import main

ROOT = Path(__file__).resolve().parents[2]
CAR_T = ROOT / "examples" / "bills" / "inpatient_car_t_huiminbao.json"


def _payers(tmp_path: Path, design_ref: str) -> Path:
    path = tmp_path / "payers.yaml"
    path.write_text(f"huiminbao:\n  products: [{design_ref}]\n", encoding="utf-8")
    return path


def test_settle_with_payers_pays_car_t_under_the_heilongjiang_upgraded_plan(tmp_path: Path):
    """The CAR-T example settles with the upgraded plan: 100 % above the 1.2万 deductible, capped at 100万."""
    design = resources.files("onestop.products").joinpath("designs", "heilongjiang-upgraded-2025.yaml")
    res = CliRunner().invoke(main, ["settle", str(CAR_T), "--payers", str(_payers(tmp_path, str(design)))])
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    assert s["totals"]["commercial_fen"] == 100_000_000
    (leg,) = [c for c in s["commercial"] if c["payer"] == "huiminbao"]
    assert (leg["status"], leg["reason"]) == ("partial", "CAP_REACHED")
    t = s["totals"]
    assert t["medfee_sumamt"] - t["commercial_fen"] - t["basic_fund_fen"] == t["final_patient_cash_fen"]


def test_settle_with_a_bad_design_file_names_file_line_and_field(tmp_path: Path):
    """A payers file pointing at a bad design exits 2 naming the design file, its line and the field."""
    bad = tmp_path / "bad.yaml"
    text = resources.files("onestop.products").joinpath("designs", "tianjin-2025.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("premium_fen: 8900", "premium_fen: -1"), encoding="utf-8")
    line = next(i for i, ln in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if "premium_fen: -1" in ln)
    res = CliRunner().invoke(main, ["settle", str(CAR_T), "--payers", str(_payers(tmp_path, "bad.yaml"))])
    assert res.exit_code == 2
    assert f"bad.yaml:{line}: premium_fen" in res.output


def test_demo_settles_the_car_t_example_with_the_shipped_design(monkeypatch):
    """`onestop demo` prints the CAR-T bill paid by huiminbao under heilongjiang-upgraded-2025."""
    monkeypatch.chdir(ROOT)
    res = CliRunner().invoke(main, ["demo"])
    assert res.exit_code == 0, res.output
    car_t = res.output.split("=== inpatient_car_t_huiminbao.json", 1)[1].split("===", 1)[0]
    assert "商保 huiminbao/heilongjiang-upgraded-2025: partial 支付 1000000.00" in car_t
