"""Cost of the policy calculators and of loading a policy file, as ratios to baselines of the same run.

* ``compute_basic`` (called once per benefit kind per bill) against one ``apply_ratio`` call, the
  unit of fund arithmetic: a simple 职工 inpatient bill (统筹 only) and a fully layered 居民 bill
  (统筹, 大病 with 倾斜, 公务员, 救助).
* ``parse_policy`` of the textbook region against ``yaml.safe_load`` of the same file (what reading
  the YAML alone costs).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml

from onestop.money import apply_ratio
from onestop.policy import Accumulators, compute_basic, parse_policy, policy_for


def _best(fn: Any, reps: int) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def run(profile: str = "full") -> dict[str, object]:
    """Measure and return the figures (``profile="ci"`` uses fewer repetitions)."""
    reps = 20_000 if profile == "full" else 2_000
    policy = policy_for("990100", dt.date(2026, 3, 1))
    acc = Accumulators(year=2026)
    ratio = Decimal("0.80")

    def simple() -> object:
        return compute_basic(
            policy,
            insutype="310",
            psn_type="11",
            tier="三级",
            kind="inpatient",
            civil_servant=False,
            assistance="none",
            inscope_fen=1_000_000,
            personal_outside_fen=0,
            accumulators=acc,
        )

    def layered() -> object:
        return compute_basic(
            policy,
            insutype="390",
            psn_type="15",
            tier="三级",
            kind="inpatient",
            civil_servant=True,
            assistance="dibao",
            inscope_fen=10_000_000,
            personal_outside_fen=50_000,
            accumulators=acc,
        )

    t_unit = _best(lambda: apply_ratio(900_000, ratio), reps)
    t_simple = _best(simple, reps)
    t_layered = _best(layered, reps)
    text = resources.files("onestop.policy").joinpath("regions", "textbook.yaml").read_text(encoding="utf-8")
    load_reps = max(20, reps // 200)
    t_yaml = _best(lambda: yaml.safe_load(text), load_reps)
    t_parse = _best(lambda: parse_policy(yaml.safe_load(text), source="textbook.yaml"), load_reps)
    return {
        "apply_ratio_us": round(t_unit * 1e6, 2),
        "compute_basic_simple_us": round(t_simple * 1e6, 1),
        "compute_basic_layered_us": round(t_layered * 1e6, 1),
        "compute_basic_simple_to_apply_ratio": round(t_simple / t_unit, 1),
        "compute_basic_layered_to_apply_ratio": round(t_layered / t_unit, 1),
        "yaml_safe_load_ms": round(t_yaml * 1e3, 2),
        "load_policy_ms": round(t_parse * 1e3, 2),
        "load_policy_to_yaml_ratio": round(t_parse / t_yaml, 2),
    }


if __name__ == "__main__":
    json.dump(run(sys.argv[1] if len(sys.argv) > 1 else "full"), sys.stdout, indent=2)
    print()
