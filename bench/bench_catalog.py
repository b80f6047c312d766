"""Catalog resolution throughput: random (code, date, region) lookups vs one dict get per call.

``python -m bench.bench_catalog [ci|full]``. The baseline is a function that does one dict get
per call over the same keys, measured in the same run; the figure is the ratio.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from decimal import Decimal
from typing import Any

from onestop.catalog import default_catalogs, fixture_samples
from onestop.domain.bill import BillLine, Hospital
from onestop.domain.codes import ChargeCategory

SIZES = {"ci": 50_000, "full": 1_000_000}
REGIONS = ("220100", "220000", "330100", "990100", "110000", "000000")


def _lines(n: int, seed: int = 7) -> tuple[list[BillLine], list[Hospital]]:
    rng = random.Random(seed)
    samples = [s for s in fixture_samples() if s.national_code]
    hospitals = [Hospital(code="H22010100001", tier="三级", region=r) for r in REGIONS]
    # A pool of distinct lines (codes × dates) reused at random, as a hospital's bills are.
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=d) for d in range(0, 4 * 365, 3)]
    pool = [
        BillLine(
            feedetl_sn=str(i),
            national_code=s.national_code,
            name=s.name,
            spec=s.spec or "135mg",
            category=ChargeCategory(s.category),
            quantity=Decimal(1),
            unit_price=Decimal(1),
            amount_fen=100,
            date=day,
        )
        for i, (s, day) in enumerate((s, d) for s in samples for d in days)
    ]
    picks = [rng.randrange(len(pool)) for _ in range(n)]
    hosp = [hospitals[rng.randrange(len(hospitals))] for _ in range(n)]
    return [pool[i] for i in picks], hosp


def run(profile: str = "full") -> dict[str, object]:
    """Time ``CatalogSet.resolve`` against a one-dict-get baseline over the same random lines."""
    n = SIZES[profile]
    cats = default_catalogs()
    lines, hosps = _lines(n)
    # Baselines: one dict get per call. The strict one is keyed by the code alone (a cached str
    # hash); the fair one by the same (code, date, region) the resolver takes.
    by_code: dict[str, Any] = {line.national_code: line for line in lines}
    by_triple: dict[tuple[str, dt.date, str], Any] = {}
    for line, h in zip(lines, hosps, strict=True):
        by_triple[(line.national_code, line.date, h.region)] = line

    def baseline_code(line: BillLine, h: Hospital) -> Any:
        return by_code.get(line.national_code)

    def baseline_triple(line: BillLine, h: Hospital) -> Any:
        return by_triple.get((line.national_code, line.date, h.region))

    resolve = cats.resolve
    for line, h in zip(lines[:2000], hosps[:2000], strict=True):  # warm the caches once
        resolve(line, h)

    def timed(fn: Any) -> float:
        t0 = time.perf_counter()
        for line, h in zip(lines, hosps, strict=True):
            fn(line, h)
        return time.perf_counter() - t0

    base = min(timed(baseline_code) for _ in range(3))
    triple = min(timed(baseline_triple) for _ in range(3))
    ours = min(timed(resolve) for _ in range(3))
    return {
        "lookups": n,
        "ratio_vs_dict_get": round(ours / base, 2),
        "ratio_vs_dict_get_same_key": round(ours / triple, 2),
        "goal_ratio": 5.0,
        "resolve_ns_per_lookup": round(ours / n * 1e9),
        "baseline_ns_per_lookup": round(base / n * 1e9),
    }


if __name__ == "__main__":
    print(run(sys.argv[1] if len(sys.argv) > 1 else "full"))
