"""The one benchmark report: every area discovered, ratios apart from context, failures reported, not fatal."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_report_writer", ROOT / "bench" / "__main__.py")
assert _spec is not None
assert _spec.loader is not None
bench_main = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench_main  # dataclasses look their module up
_spec.loader.exec_module(bench_main)


def test_every_bench_file_is_an_area():
    """Areas are discovered from bench/bench_*.py, never from a hard-coded list."""
    files = sorted(p.stem.removeprefix("bench_") for p in (ROOT / "bench").glob("bench_*.py"))
    assert bench_main.discover() == files
    assert "engine" in files


def test_a_failing_area_is_reported_and_the_report_still_written():
    """An area whose process fails yields a failed result naming the cause; the report lists it as failed."""
    bad = bench_main.run_area("no_such_area_for_the_test", "ci", 120)
    assert not bad.ok
    assert "ModuleNotFoundError" in bad.error
    good = bench_main.AreaResult("engine", 1.0, figures={"x_to_baseline_ratio": 2.5, "baseline_us": 3.0})
    text = bench_main.render([good, bad], "ci", dt.datetime(2026, 1, 2, tzinfo=dt.UTC), bench_main.machine())
    assert "| [no_such_area_for_the_test](#no_such_area_for_the_test) | **failed**" in text
    assert "| x_to_baseline_ratio | 2.5 |" in text
    assert "2026-01-02" in text
    assert "| cores |" in text
    assert "| python | CPython" in text


def test_ratios_are_told_apart_from_absolute_figures():
    """A figure with a unit is context; one named as a ratio to a baseline is a ratio."""
    assert bench_main.is_ratio("w2_settle10_to_ping_ratio")
    assert bench_main.is_ratio("caller_vs_direct_settle")
    assert not bench_main.is_ratio("apply_ratio_us")
    assert not bench_main.is_ratio("w2_ping_rps")


def test_nested_figures_are_flattened_with_dotted_names():
    """Areas that return nested dicts or lists of named rows still land in the tables."""
    flat = bench_main.flatten({"a": {"b": 1}, "rows": [{"name": "n10", "us": 2}]})
    assert flat == {"a.b": 1, "rows.n10.us": 2}
