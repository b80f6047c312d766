"""Soak: ``onestop serve --workers 2`` at 50% of its saturation throughput, with no errors and bounded memory.

Saturation is measured first (closed loop, 10-line Settle, unique request ids); the soak then sends
at half that rate, open loop, for 10 minutes in the full profile (``make proof``) and 15 s in ci.
Resident memory of every server process is sampled throughout; after the first sixth of the run
(warm-up: caches, connection pools) it may grow by at most ``RSS_GROWTH_BOUND_MIB``.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from reliability.profile import FULL
from reliability.serve_harness import free_port, serving

ROOT = Path(__file__).resolve().parents[2]
SOAK_S = 600.0 if FULL else 15.0
RSS_GROWTH_BOUND_MIB = 64.0
SAMPLE_EVERY_S = 5.0

pytestmark = [pytest.mark.slow] if FULL else []


def _bench() -> tuple[Any, Any]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench import bench_gateway, bench_load

    return bench_gateway, bench_load


@pytest.mark.timeout(int(SOAK_S) + 300)
def test_half_saturation_soak_has_no_errors_and_bounded_memory(tmp_path: Path):
    """At 50% of saturation for the whole soak: zero errors, RSS growth after warm-up within the bound."""
    bench_gateway, bench_load = _bench()
    bill = bench_gateway._bills()["settle10"]
    url = f"sqlite:///{tmp_path / 'soak.db'}"
    args = ("--example-insurer", "huiminbao")
    with serving(tmp_path, url, None, workers=2, port=free_port(), extra_args=args) as s:
        tree = bench_load.ServerTree(s.proc.pid)
        sat = bench_gateway._load("settle10", bill, s.target, 4, 5.0 if FULL else 2.0)
        assert sat["errors"] == 0, sat
        rate = max(sat["rps"] * 0.5, 1.0)
        result: dict[str, Any] = {}
        driver = threading.Thread(
            target=lambda: result.update(bench_gateway._load("settle10", bill, s.target, 4, SOAK_S, rate))
        )
        samples: list[float] = []
        driver.start()
        while driver.is_alive():
            samples.append(tree.rss_mib())
            time.sleep(SAMPLE_EVERY_S)
        driver.join()
        samples.append(tree.rss_mib())
        assert s.proc.poll() is None, f"the server died during the soak\n{s.server_log()}"
    warm = samples[max(1, len(samples) // 6) - 1]
    growth = max(samples) - warm
    print(
        f"soak {SOAK_S:.0f} s at {rate:.1f}/s (50% of {sat['rps']:.1f}/s): {result.get('rps', 0):.1f}/s, "
        f"errors {result.get('errors')}, p50 {result.get('p50_ms') or 0:.1f} ms, p99 {result.get('p99_ms') or 0:.1f} ms, "
        f"RSS {warm:.0f} → max {max(samples):.0f} MiB (growth {growth:.1f} MiB)"
    )
    assert result["errors"] == 0, result
    assert result["rps"] > 0
    assert growth <= RSS_GROWTH_BOUND_MIB, f"RSS grew {growth:.1f} MiB after warm-up: {samples}"
