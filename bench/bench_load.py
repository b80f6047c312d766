"""Load benchmark, in-process leg: what the payer path and injected faults cost per settlement.

Figures are ratios to the same-run baseline, the engine alone settling the same seeded bills with
in-process payers (no SDK, no faults):

* ``sdk_path_ratio``: engine + InsurerCaller + Resolver + fund ChannelCaller, no faults;
* ``faults_30pct_ratio``: the same path with 30% of payer calls faulted, resolver passes included.

The server legs of the load proof (``onestop serve --workers 2`` with a multi-process client and
h2load, SQLite and PostgreSQL) need the gateway and are not measured here.
``python -m bench.bench_load`` prints the figures.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1] / "tests"


def _setup() -> tuple[object, object]:
    if str(_TESTS) not in sys.path:
        sys.path.insert(0, str(_TESTS))
    from onestop.catalog import default_catalogs
    from onestop.policy import policy_for

    return default_catalogs(), policy_for("990100", dt.date(2026, 3, 1))


def _engine_only(n: int, catalogs: object, policy: object) -> float:
    import random

    from reliability.saga import bill_doc

    from onestop.domain import AnswerStatus, CommercialAnswer, parse_bill_json
    from onestop.engine import settle

    def decline(offer: object) -> CommercialAnswer:
        o = offer  # an in-process payer that declines: the cheapest honest answer
        return CommercialAnswer(reference=o.reference, payer=o.payer, status=AnswerStatus.DECLINED)  # type: ignore[attr-defined]

    rng = random.Random(1)
    docs = [json.dumps(bill_doc(rng, 1, k)) for k in range(n)]
    t0 = time.perf_counter()
    for d in docs:
        settle(parse_bill_json(d), catalogs, policy, payers={"alpha": decline, "beta": decline})  # type: ignore[arg-type]
    return time.perf_counter() - t0


def _saga(n: int, rate: float, catalogs: object, policy: object) -> float:
    import structlog
    from reliability.saga import run

    from onestop.testing.faults import FaultPlan

    # Per-call log lines would measure the terminal, not the path; restored for the benchmarks after this one.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(50))
    try:
        t0 = time.perf_counter()
        run(1, n, FaultPlan(1, rate=rate), catalogs=catalogs, policy=policy, fund_plan=FaultPlan(2, rate=rate))
        return time.perf_counter() - t0
    finally:
        structlog.reset_defaults()


def run(profile: str = "full") -> dict[str, object]:
    """Measure and return the figures (``ci``: 100 settlements; ``full``: 2,000)."""
    n = 100 if profile == "ci" else 2_000
    catalogs, policy = _setup()
    base = _engine_only(n, catalogs, policy)
    sdk = _saga(n, 0.0, catalogs, policy)
    faults = _saga(n, 0.3, catalogs, policy)
    return {
        "settlements": n,
        "baseline_engine_ms_per_settlement": round(base / n * 1000, 3),
        "sdk_path_ratio": round(sdk / base, 2),
        "faults_30pct_ratio": round(faults / base, 2),
    }


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "full"), indent=2))
