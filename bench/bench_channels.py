"""A full outpatient settle through the nhsa-platform channel over loopback HTTP, as a ratio to the engine alone.

Baseline (same run, same bill): ``onestop.engine.settle`` of the bill in process, no payer. Measured:
``NhsaPlatformChannel.settle`` through the SDK's ``ChannelCaller`` against a running
``FakeNhsaCentre`` on 127.0.0.1 — sign-in once, then per visit 2201 挂号, 2203 就诊信息, 2204 fee
detail upload (per-line split checked line by line), 2207 settle (the journal written before the
send, the platform's identities checked on the answer). Each visit is a new bill (its own visit
and person), because the platform refuses a visit it already settled.

The fake platform runs in the same process and settles with the same engine, so the channel's
figure contains one engine settle on the platform side, four signed HTTP round trips, JSON both
ways and the yuan↔fen checks: the ratio is the price of going through the platform's interface
instead of computing locally. Both sides are timed in wall-clock time per settle (the HTTP side
waits on a socket, so CPU time would hide it), interleaved bill by bill so that noise falls on both;
median and p90 of each, and their ratios.

Figures on the project's 2-core VM (300 settles after 10 warm-up): channel median ≈ 10.3 ms, p90 ≈
17 ms; engine alone median ≈ 0.26 ms, p90 ≈ 0.32 ms; ratio ≈ 40× at the median, ≈ 53× at p90 (4
messages per settle). Most of the channel's time is the HTTP round trips and the fake platform's
own work on its server thread, which shares the interpreter with the client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from typing import Any

import structlog
from onestop_nhsa_platform import NhsaPlatformChannel
from onestop_nhsa_platform.testing import config_for, outpatient_bill

from onestop.catalog import default_catalogs
from onestop.domain.offer import AnswerStatus
from onestop.engine import settle
from onestop.policy import policy_for
from onestop.sdk import ChannelCaller, ChannelSettleInput
from onestop.testing import FakeNhsaCentre


def _p90(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=10, method="inclusive")[-1]


async def _measure(n: int, warmup: int) -> tuple[list[float], list[float], int]:
    catalogs = default_catalogs()
    policy = policy_for("220100", dt.date(2026, 3, 2))
    centre = FakeNhsaCentre()
    centre.start()
    chan_s: list[float] = []
    eng_s: list[float] = []
    try:
        first = outpatient_bill()
        centre.admit(first.hospital)
        ch = NhsaPlatformChannel(config_for(centre, timeout_s=10.0))
        caller = ChannelCaller(ch)
        try:
            for i in range(warmup + n):
                bill = outpatient_bill(visit_no=f"MZ-BENCH-{i:06d}", psn_no=f"BENCH-PSN-{i:06d}")
                centre.enrol(bill.patient)
                t0 = time.perf_counter()
                res = await caller.settle(
                    ChannelSettleInput(reference=f"bench-{i}", bill=bill), reversal_reference=f"bench-{i}:rev"
                )
                t1 = time.perf_counter()
                settle(bill, catalogs, policy)
                t2 = time.perf_counter()
                if res.status is not AnswerStatus.APPROVED:
                    raise RuntimeError(f"settle {i} was not approved: {res.reason} {res.raw_message}")
                if i >= warmup:
                    chan_s.append(t1 - t0)
                    eng_s.append(t2 - t1)
        finally:
            await ch.aclose()
        messages = len(centre.ledger.messages)
    finally:
        centre.stop()
    return chan_s, eng_s, messages


def run(profile: str = "full") -> dict[str, object]:
    """Run the channel benchmark; returns ratios (and absolute milliseconds for context)."""
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())  # measure the events, not terminal I/O
    n = 300 if profile == "full" else 40
    warmup = 10
    chan, eng, messages = asyncio.run(_measure(n, warmup))
    out: dict[str, Any] = {
        "settles": n,
        "messages_per_settle": round((messages - 1) / (n + warmup), 2),  # the one 9001 sign-in aside
        "channel_median_ms": round(statistics.median(chan) * 1e3, 2),
        "channel_p90_ms": round(_p90(chan) * 1e3, 2),
        "engine_median_ms": round(statistics.median(eng) * 1e3, 3),
        "engine_p90_ms": round(_p90(eng) * 1e3, 3),
        "median_channel_to_engine_ratio": round(statistics.median(chan) / statistics.median(eng), 1),
        "p90_channel_to_engine_ratio": round(_p90(chan) / _p90(eng), 1),
        "clock": "wall clock per settle, interleaved with the engine on the same bill",
    }
    return out


if __name__ == "__main__":
    json.dump(run(sys.argv[1] if len(sys.argv) > 1 else "full"), sys.stdout, indent=2)
    print()
