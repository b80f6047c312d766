"""Coverage-design simulator: exact mode vs fast mode per claim, and fast mode vs a polars floor.

* exact: a synthetic population's bills through the engine's fund stages (``settle_funds`` +
  ``offer_for``) and each claim through ``onestop.products.adjudicate`` (the adapter's code) —
  100,000 claims (``full``) or 10,000 (``ci``).
* fast: the vectorised product layer over 1,000,000 claims (``full``; 100,000 for ``ci``): the
  exact run's fund results tiled ×10 with fresh member and claim ids.
* floor, same run, same claims: a polars sort of the claims by member and date and a grouped
  running sum of their remaining liability — the least any per-member accumulation must do.

Goals: fast ≥ 50× exact per claim; fast ≤ 20× the floor.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from onestop.products import load_design
from onestop.simulator import (
    Population,
    SyntheticParams,
    read_population,
    run_exact,
    run_fast,
    run_funds,
    synthesize,
    write_population,
)

_REM = [f"remaining_{c}_fen" for c in ("fulamt_ownpay", "cidl", "overlmt", "preselfpay", "deductible", "copay")]


def _design() -> Any:
    d = load_design("heilongjiang-upgraded-2025")
    return d.model_copy(update={"eligibility": d.eligibility.model_copy(update={"insured_regions": ("220000",)})})


def _tile(pop: Population, times: int) -> Population:
    """``times`` copies of ``pop`` with distinct member and claim ids (same fund results)."""

    def suffix(df: pl.DataFrame, cols: list[str], k: int) -> pl.DataFrame:
        return df.with_columns(*(pl.col(c) + f"#{k}" for c in cols))

    members = pl.concat([suffix(pop.members, ["member_id"], k) for k in range(times)])
    claims = pl.concat([suffix(pop.claims, ["member_id", "claim_id"], k) for k in range(times)])
    cells = pl.concat([suffix(pop.cells, ["claim_id"], k) for k in range(times)])
    return Population(members, claims, cells).sorted()


def _floor(claims: pl.DataFrame) -> float:
    t0 = time.perf_counter()
    out = claims.sort(["member_id", "discharge_date", "admission_date", "claim_id"]).with_columns(
        pl.sum_horizontal(_REM).cum_sum().over("member_id").alias("running")
    )
    assert out.height == claims.height
    return time.perf_counter() - t0


def _members_for_claims(n_claims: int) -> int:
    # About 0.83 claims per member-year with the default rates (inpatient 0.12 + outpatient 0.6, ×2 at 65+).
    return max(100, n_claims * 100 // 83)


def run(profile: str = "full") -> dict[str, object]:
    exact_claims = 100_000 if profile == "full" else 10_000
    design = _design()
    params = SyntheticParams(members=_members_for_claims(exact_claims), seed=1, car_t_uptake=Decimal("0.0001"))
    t0 = time.perf_counter()
    syn = synthesize(params)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    funded = run_funds(syn)
    t_funds = time.perf_counter() - t0
    pop = funded.population
    n = pop.n_claims
    t0 = time.perf_counter()
    exact = run_exact(pop, design, offers=funded.offers)
    t_adj = time.perf_counter() - t0
    t0 = time.perf_counter()
    same = run_fast(pop, design)
    t_fast_small = time.perf_counter() - t0
    agree = bool((same.paid == exact.paid).all() and (same.cell_paid == exact.cell_paid).all())

    big = _tile(pop, 10)
    with tempfile.TemporaryDirectory() as tmp:
        _, claims_file, _ = write_population(big, Path(tmp), fmt="parquet")
        members_file = claims_file.with_name(claims_file.name.replace(".claims.", ".members."))
        t0 = time.perf_counter()
        loaded = read_population(claims_file, members_file)
        t_read = time.perf_counter() - t0
        raw_claims = pl.read_parquet(claims_file)
    n_big = loaded.n_claims
    t_fast = min(_timed(lambda: run_fast(loaded, design)) for _ in range(2))
    t_floor = min(_floor(raw_claims) for _ in range(3))
    exact_us = (t_funds + t_adj) / n * 1e6
    fast_us = t_fast / n_big * 1e6
    return {
        "exact_claims": n,
        "exact_funds_us_per_claim": round(t_funds / n * 1e6, 1),
        "exact_adjudicate_us_per_claim": round(t_adj / n * 1e6, 1),
        "exact_us_per_claim": round(exact_us, 1),
        "exact_equals_fast_on_exact_population": agree,
        "fast_claims": n_big,
        "fast_s": round(t_fast, 3),
        "fast_us_per_claim": round(fast_us, 3),
        "floor_s": round(t_floor, 3),
        "read_population_s": round(t_read, 2),
        "synthesize_s": round(t_gen, 1),
        "fast_small_s": round(t_fast_small, 3),
        "fast_vs_exact_per_claim": round(exact_us / fast_us, 1),
        "fast_vs_adjudicate_only_per_claim": round((t_adj / n * 1e6) / fast_us, 1),
        "fast_to_floor_ratio": round(t_fast / t_floor, 2),
        "goal": "fast >= 50x exact per claim; fast <= 20x floor",
    }


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    json.dump(run(sys.argv[1] if len(sys.argv) > 1 else "full"), sys.stdout, indent=2)
    print()
