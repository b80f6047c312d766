"""DRG grouping throughput over generated cases built from the real CHS-DRG 1.1 code tables.

Baseline (same run, same rows): merely parsing the CSV rows into validated ``Case`` objects. Measured:
grouping the parsed cases (one core), and the whole batch path (parse + group + pay). Also the cold load
time of the tables and the memory their indexes hold. Goal: ≥ 20,000 cases/s grouping on one core.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import sys
import time
import tracemalloc

from onestop.drg import ChsDrg11Grouper, GroupStatus, load_tables, parse_case_row, pay, settings_for
from onestop.drg.synthetic import synthetic_csv

SIZES = {"ci": 10_000, "full": 100_000}
GOAL_CASES_PER_S = 20_000


def _load() -> tuple[float, float]:
    """Cold load time (s) and the memory (MiB) the loaded indexes hold."""
    load_tables.cache_clear()
    gc.collect()
    t0 = time.perf_counter()
    load_tables("harbin-2024")
    seconds = time.perf_counter() - t0
    load_tables.cache_clear()
    gc.collect()
    tracemalloc.start()
    tables = load_tables("harbin-2024")
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del tables
    return seconds, held / 2**20


def run(profile: str = "full") -> dict[str, object]:
    """Time parse-only, group-only and parse + group + pay over the same generated rows."""
    n = SIZES[profile]
    load_s, load_mib = _load()
    grouper = ChsDrg11Grouper(load_tables("harbin-2024"))
    text = synthetic_csv(n, seed=42)
    settings = settings_for("990100", dt.date(2026, 3, 1))

    gc.collect()
    t0 = time.perf_counter()
    for i, row in enumerate(csv.DictReader(io.StringIO(text))):
        parse_case_row(row, i + 2)
    parse_s = time.perf_counter() - t0

    cases = [parse_case_row(row, i + 2) for i, row in enumerate(csv.DictReader(io.StringIO(text)))]

    gc.collect()
    t0 = time.perf_counter()
    results = [grouper.group(c) for c in cases]
    group_s = time.perf_counter() - t0

    gc.collect()
    t0 = time.perf_counter()
    for i, row in enumerate(csv.DictReader(io.StringIO(text))):
        case = parse_case_row(row, i + 2)
        pay(grouper.group(case), case, settings)
    batch_s = time.perf_counter() - t0

    grouped = sum(r.status is GroupStatus.GROUPED for r in results)
    group_rate = n / group_s
    return {
        "cases": n,
        "grouped_share": round(grouped / n, 3),
        "group_cases_per_s": round(group_rate),
        "goal_group_cases_per_s": GOAL_CASES_PER_S,
        "goal_met": group_rate >= GOAL_CASES_PER_S,
        "parse_only_cases_per_s": round(n / parse_s),
        "ratio_group_vs_parse_time": round(group_s / parse_s, 2),
        "parse_group_pay_cases_per_s": round(n / batch_s),
        "ratio_parse_group_pay_vs_parse_time": round(batch_s / parse_s, 2),
        "tables_load_s": round(load_s, 2),
        "tables_memory_mib": round(load_mib, 1),
    }


if __name__ == "__main__":
    print(run(sys.argv[1] if len(sys.argv) > 1 else "full"))
