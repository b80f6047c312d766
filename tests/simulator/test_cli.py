"""``onestop simulate``: designs by file or code, synthetic or file populations, errors naming file and line."""

from __future__ import annotations

import json

from click.testing import CliRunner
from simulator.sim_helpers import funded

from onestop.cli import main
from onestop.products import shipped_designs
from onestop.simulator import write_population

_DESIGN = """
code: cc-simple
name: 长春测试
source: test
policy_period: {start: 2026-01-01, end: 2026-12-31}
premium_fen: 9900
eligibility: {insured_regions: ["220000"], insutypes: ["310", "390"]}
deductibles: {main: 1000000}
limits: {main: 100000000}
liabilities:
  - id: all
    kind: in_catalog
    categories: [fulamt_ownpay, cidl, overlmt, preselfpay, deductible, copay]
    deductible: main
    limit: main
    ratio: 0.70
"""


def _design_file(tmp_path, text=_DESIGN, name="a.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_synthetic_run_writes_summary_and_report(tmp_path):
    """A synthetic run with two designs writes summary.json (fen) and report.html, and prints a line per design."""
    a = _design_file(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "simulate",
            "--design",
            str(a),
            "--design",
            "tianjin-2025",
            "--synthetic",
            "300",
            "--seed",
            "4",
            "--out",
            str(out),
            "--mode",
            "exact",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [d["code"] for d in summary["designs"]] == ["cc-simple", "tianjin-2025"]
    assert summary["mode"] == "exact"
    assert summary["population"]["members"] == 300
    assert summary["designs"][0]["enrolled_members"] == 300
    assert "tianjin-2025 admits no member" in res.output  # Tianjin's eligibility admits no Changchun member
    assert (out / "report.html").is_file()


def test_assumptions_of_the_synthetic_population_are_set_from_the_command_line(tmp_path):
    """--assume NAME=VALUE reaches the synthetic population (CAR-T uptake shows in the summary's assumptions and
    CAR-T cells); an unknown name or a value out of bounds is refused naming it, and nothing is written."""
    a = _design_file(tmp_path)
    out = tmp_path / "out"
    args = ["simulate", "--design", str(a), "--synthetic", "2000", "--seed", "3", "--out", str(out)]
    res = CliRunner().invoke(main, [*args, "--assume", "car_t_uptake=0.004", "--assume", "cidl_drugs=[10,11]"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["assumptions"]["car_t_uptake"] == "0.004"
    assert summary["designs"][0]["car_t"]["cells"] > 0
    for bad, said in (("car_t_uptake=2", "car_t_uptake"), ("bogus=1", "no assumption 'bogus'"), ("seed", "NAME=VALUE")):
        other = tmp_path / f"bad-{bad[:4]}"
        res = CliRunner().invoke(main, [*args[:-1], str(other), "--assume", bad])
        assert res.exit_code == 2
        assert said in res.output
        assert not other.exists()


def test_file_population_in_both_modes_gives_the_same_summary(tmp_path):
    """--claims/--members read the files; exact and fast mode print and write the same figures."""
    m, c, _ = write_population(funded().population, tmp_path / "pop")
    a = _design_file(tmp_path)
    runs = {}
    for mode in ("exact", "fast"):
        out = tmp_path / mode
        res = CliRunner().invoke(
            main,
            [
                "simulate",
                "--design",
                str(a),
                "--claims",
                str(c),
                "--members",
                str(m),
                "--out",
                str(out),
                "--mode",
                mode,
            ],
        )
        assert res.exit_code == 0, res.output
        runs[mode] = json.loads((out / "summary.json").read_text(encoding="utf-8"))["designs"]
    for d in runs["exact"]:
        d["mode"] = "fast"
    assert runs["exact"] == runs["fast"]


def test_bad_design_is_reported_with_file_and_line(tmp_path):
    """A design that does not validate fails with its file name, line and field; nothing is written."""
    bad = _design_file(tmp_path, _DESIGN.replace("ratio: 0.70", "ratio: 1.70"), "bad.yaml")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["simulate", "--design", str(bad), "--synthetic", "10", "--out", str(out)])
    assert res.exit_code != 0
    assert "bad.yaml:16: liabilities[0].ratio" in res.output
    assert not out.exists()


def test_bad_claims_file_is_reported_with_file_line_and_column(tmp_path):
    """A bad value in a claims file fails naming FILE:LINE: column."""
    m, c, _ = write_population(funded().population, tmp_path / "pop")
    text = c.read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace(",2026-", ",2026-99-", 1)
    c.write_text("\n".join(text) + "\n", encoding="utf-8")
    res = CliRunner().invoke(
        main,
        [
            "simulate",
            "--design",
            str(_design_file(tmp_path)),
            "--claims",
            str(c),
            "--members",
            str(m),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code != 0
    assert "population.claims.csv:4: admission_date: a date YYYY-MM-DD" in res.output


def test_population_source_must_be_one_or_the_other(tmp_path):
    """--synthetic with --claims, or neither, is a usage error."""
    a = str(_design_file(tmp_path))
    both = CliRunner().invoke(main, ["simulate", "--design", a, "--synthetic", "5", "--claims", "x.csv", "--out", "o"])
    assert both.exit_code == 2
    assert "not both" in both.output
    neither = CliRunner().invoke(main, ["simulate", "--design", a, "--out", "o"])
    assert neither.exit_code == 2


def test_ray_engine_is_refused_with_the_reason(tmp_path):
    """--engine ray explains that the distributed runner is Dask."""
    res = CliRunner().invoke(
        main,
        [
            "simulate",
            "--design",
            str(_design_file(tmp_path)),
            "--synthetic",
            "5",
            "--out",
            str(tmp_path / "o"),
            "--engine",
            "ray",
        ],
    )
    assert res.exit_code == 1
    assert "use --engine dask" in res.output


def test_shipped_codes_are_accepted_as_designs():
    """A shipped design code is a valid --design value."""
    assert "tianjin-2025" in shipped_designs()


def test_the_example_designs_of_the_docs_enrol_the_synthetic_population(tmp_path):
    """The docs' first command: both example designs admit every synthetic member, pay something, and the
    CAR-T variant carries its extra liability; exact and fast agree on them."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "examples" / "designs"
    designs = [str(root / "changchun-example-base.yaml"), str(root / "changchun-example-car-t.yaml")]
    payouts = {}
    for mode in ("exact", "fast"):
        out = tmp_path / mode
        args = ["simulate", "--design", designs[0], "--design", designs[1], "--synthetic", "400", "--seed", "7"]
        res = CliRunner().invoke(main, [*args, "--out", str(out), "--mode", mode])
        assert res.exit_code == 0, res.output
        assert "admits no member" not in res.output
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        base, car_t = summary["designs"]
        assert base["enrolled_members"] == car_t["enrolled_members"] == 400
        assert base["payout_fen"] > 0
        assert "car_t" in [li["id"] for li in car_t["liabilities"]]
        assert "car_t" not in [li["id"] for li in base["liabilities"]]
        payouts[mode] = (base["payout_fen"], car_t["payout_fen"])
    assert payouts["exact"] == payouts["fast"]
