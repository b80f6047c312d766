"""Run every benchmark of the project and write one report, ``bench/REPORT.md``.

Each ``bench/bench_<area>.py`` exposes ``run(profile: str) -> dict`` (``profile`` is ``"ci"`` for small
sizes or ``"full"``). Its figures are ratios to a baseline measured in the same run, because machines
are noisy and only ratios travel between them; absolute figures are kept for context. Areas are
discovered by file name, so a new ``bench_*.py`` joins the report without touching this file.

Every area runs in its own interpreter: one that raises, crashes or outlives its time limit is
reported as failed and the others still run::

    python -m bench                       # every area, full sizes
    python -m bench --quick               # every area, small sizes
    python -m bench --only engine,drg     # some areas
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: Words that mark a figure as a ratio to its same-run baseline (the figures that travel) …
_RATIO_MARKS = ("_ratio", "_to_", "_vs_", "_over_", "speedup", "slowdown")
#: … unless the name ends with a unit, which makes it an absolute figure.
_UNITS = ("_us", "_ms", "_s", "_ns", "_rps", "_mb", "_mib", "_kb", "_bytes", "_fen", "_pct", "_per_s")


@dataclass
class AreaResult:
    """What one area produced."""

    area: str
    seconds: float
    figures: dict[str, Any] | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when the area returned its figures."""
        return self.figures is not None and not self.error


def discover() -> list[str]:
    """The areas: every ``bench/bench_<area>.py``, sorted by name."""
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def machine() -> dict[str, str]:
    """CPU model, cores, Python version and OS of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for row in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count() or "?"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
    }


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists of figures as one flat ``{dotted.name: value}`` mapping."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            name = str(v.get("name", i)) if isinstance(v, dict) else str(i)
            rest = {k: x for k, x in v.items() if k != "name"}
            out.update(flatten(rest, f"{prefix}.{name}" if prefix else name))
    else:
        out[prefix or "value"] = value
    return out


def is_ratio(name: str) -> bool:
    """True for a figure named as a ratio to a same-run baseline."""
    low = name.lower().rsplit(".", 1)[-1]
    if low.endswith(_UNITS):
        return False
    return low.endswith(("_x", "ratio")) or any(mark in low for mark in _RATIO_MARKS)


def _child(area: str, profile: str, out: str) -> int:
    """Run one area in this interpreter and write its figures (or its error) as JSON to ``out``."""
    import importlib
    import traceback

    sys.path.insert(0, str(ROOT))
    try:
        mod = importlib.import_module(f"bench.bench_{area}")
        figures = mod.run(profile)
        doc: dict[str, Any] = {"figures": figures}
    except BaseException as exc:
        traceback.print_exc()
        doc = {"error": f"{type(exc).__name__}: {exc}"}
    Path(out).write_text(json.dumps(doc, default=str, ensure_ascii=False), encoding="utf-8")
    return 0


def run_area(area: str, profile: str, timeout_s: float) -> AreaResult:
    """Run ``area`` in a child interpreter; a crash, a raise or a time-out is a failed result."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "figures.json"
        cmd = [sys.executable, "-m", "bench", "--child", area, profile, str(out)]
        try:
            proc = subprocess.run(cmd, cwd=ROOT, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return AreaResult(area, time.perf_counter() - t0, error=f"timed out after {timeout_s:.0f} s")
        seconds = time.perf_counter() - t0
        if not out.exists():
            return AreaResult(area, seconds, error=f"the area's process exited with {proc.returncode}, no figures")
        doc = json.loads(out.read_text(encoding="utf-8"))
    if "error" in doc:
        return AreaResult(area, seconds, error=str(doc["error"]))
    figures = doc["figures"]
    if not isinstance(figures, dict):
        figures = flatten(figures)
    return AreaResult(area, seconds, figures=figures)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def render(results: list[AreaResult], profile: str, when: dt.datetime, host: dict[str, str]) -> str:
    """The Markdown report: a summary, then each area's ratios and its absolute figures."""
    lines = [
        "# Benchmark report",
        "",
        f"Run on {when.strftime('%Y-%m-%d %H:%M %Z').strip()} with profile `{profile}` (`python -m bench"
        + (" --quick" if profile == "ci" else "")
        + "`).",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {_cell(v)} |" for k, v in host.items()),
        "",
        "Every area measures its own baseline in the same run; the **ratios** to it are the figures to compare",
        "between runs and machines. Absolute figures are for context only.",
        "",
        "## Summary",
        "",
        "| area | status | time (s) | ratios to the same-run baseline |",
        "|---|---|---|---|",
    ]
    for r in results:
        if r.ok:
            assert r.figures is not None
            flat = flatten(r.figures)
            ratios = [f"{k} = {_cell(v)}" for k, v in flat.items() if is_ratio(k)]
            shown = "; ".join(ratios[:4]) + (f"; … ({len(ratios)} in all)" if len(ratios) > 4 else "")
            lines.append(f"| [{r.area}](#{r.area}) | ok | {r.seconds:.0f} | {_cell(shown) or '—'} |")
        else:
            lines.append(f"| [{r.area}](#{r.area}) | **failed** | {r.seconds:.0f} | {_cell(r.error)} |")
    for r in results:
        lines += ["", f"## {r.area}", ""]
        if not r.ok:
            lines.append(f"**Failed**: {_cell(r.error)}")
            continue
        assert r.figures is not None
        flat = flatten(r.figures)
        ratios = {k: v for k, v in flat.items() if is_ratio(k)}
        rest = {k: v for k, v in flat.items() if not is_ratio(k)}
        if ratios:
            lines += ["| ratio to the same-run baseline | value |", "|---|---|"]
            lines += [f"| {k} | {_cell(v)} |" for k, v in ratios.items()]
            lines.append("")
        if rest:
            lines += ["| figure (context) | value |", "|---|---|"]
            lines += [f"| {k} | {_cell(v)} |" for k, v in rest.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: run the selected areas and write the report; 0 unless no area could run."""
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["--child"]:
        return _child(*args_in[1:4])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (the ci profile)")
    parser.add_argument("--profile", choices=["ci", "full"], default=None, help="explicit profile")
    parser.add_argument("--only", action="append", default=[], help="area name(s), comma-separated; repeatable")
    parser.add_argument(
        "--out",
        default=None,
        help="report path (default bench/REPORT.md for a full run of every area, bench/REPORT-partial.md otherwise)",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per area before it is failed")
    parser.add_argument("--list", action="store_true", help="print the discovered areas and exit")
    args = parser.parse_args(args_in)
    profile = args.profile or ("ci" if args.quick else "full")
    areas = discover()
    if args.list:
        print("\n".join(areas))
        return 0
    wanted = {a.strip().removeprefix("bench_") for arg in args.only for a in arg.split(",") if a.strip()}
    unknown = wanted - set(areas)
    if unknown:
        parser.error(f"--only: no such area {sorted(unknown)}; known: {', '.join(areas)}")
    selected = [a for a in areas if not wanted or a in wanted]
    # The committed report is the full profile over every area; a partial run must not replace it.
    if args.out is None:
        full = profile == "full" and len(selected) == len(areas)
        args.out = str(HERE / ("REPORT.md" if full else "REPORT-partial.md"))
    when = dt.datetime.now(dt.UTC)
    results: list[AreaResult] = []
    for area in selected:
        print(f"== {area} ({profile})", flush=True)
        r = run_area(area, profile, args.timeout)
        results.append(r)
        status = "ok" if r.ok else f"FAILED: {r.error}"
        print(f"   {status} ({r.seconds:.1f} s)", flush=True)
        if r.ok:
            print(json.dumps(r.figures, indent=2, default=str, ensure_ascii=False), flush=True)
    Path(args.out).write_text(render(results, profile, when, machine()), encoding="utf-8")
    print(f"wrote {args.out}: {sum(r.ok for r in results)} of {len(results)} areas ok")
    return 0 if any(r.ok for r in results) or not results else 1


if __name__ == "__main__":
    sys.exit(main())
