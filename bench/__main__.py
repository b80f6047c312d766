"""Run every benchmark of the project and write bench/REPORT.md.

Each ``bench/bench_<area>.py`` exposes ``run(profile) -> dict`` whose figures are ratios against
a baseline measured in the same run (machines are noisy; absolute numbers are printed for
context only). ``python -m bench [--profile ci|full] [--only area,...]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}; {os.cpu_count()} CPUs; Python {platform.python_version()}; {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--profile", default="full", choices=["ci", "full"])
    parser.add_argument("--only", default="", help="comma-separated areas, e.g. catalog,engine")
    parser.add_argument("--out", default=str(HERE / "REPORT.md"))
    args = parser.parse_args(argv)
    only = {a.strip() for a in args.only.split(",") if a.strip()}
    areas = sorted(
        m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_")
    )
    results: dict[str, object] = {}
    for area in areas:
        if only and area not in only:
            continue
        print(f"== {area} ({args.profile})", flush=True)
        t0 = time.perf_counter()
        mod = importlib.import_module(f"bench.bench_{area}")
        try:
            results[area] = mod.run(args.profile)
        except Exception as exc:  # a broken benchmark is reported, the others still run
            results[area] = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(results[area], indent=2, default=str, ensure_ascii=False), flush=True)
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    lines = [
        "# Benchmark report",
        "",
        f"Run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} with profile `{args.profile}` on: {_machine()}.",
        "",
        "Every figure is a ratio against a baseline measured in the same run; absolute figures are for context.",
        "",
    ]
    for area, figures in results.items():
        lines += [f"## {area}", "", "| figure | value |", "|---|---|"]
        if isinstance(figures, dict):
            for k, v in figures.items():
                lines.append(f"| {k} | {v} |")
        lines.append("")
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if any(isinstance(f, dict) and "error" in f for f in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
