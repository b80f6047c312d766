"""SDK call overhead: what the caller's rules (timeout, logging, integrity checks) cost per payer call.

Figures are ratios to a baseline measured in the same run:

* ``caller_vs_direct_settle``: settle through ``InsurerCaller`` ÷ the adapter's own settle (FakeInsurer,
  in memory, so the figure is the SDK's overhead alone — a real insurer's network time dwarfs both);
* ``integrity_vs_result_parse``: ``payment_problems`` on a per-line answer ÷ parsing that answer from JSON;
* ``lost_answer_resolution_vs_settle``: a settle whose answer is lost (timeout → query) ÷ a normal settle.

``python -m bench.bench_sdk [ci|full]``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import structlog

from onestop.domain.codes import ChargeCategory, ChrgitmLv
from onestop.domain.offer import PAYABLE, AnswerStatus, Category, LinePayment, Offer
from onestop.money import Fen
from onestop.sdk import Capabilities, InsurerCaller, InsurerFlow, PaymentResult, SettleInput, payment_problems
from onestop.sdk.testing import LoseAnswer, sample_offer
from onestop.testing import FakeClock, FakeInsurer

_SIZES = {"ci": (200, 50), "full": (3000, 300)}


def _offer_with_lines(n: int, ref: str) -> Offer:
    rows = [
        (f"L{i:05d}", "bench line", ChargeCategory.WESTERN_DRUG, ChrgitmLv.B, True, None,
         {Category.PRESELFPAY: 100 + i, Category.COPAY: 1000 + i})
        for i in range(n)
    ]  # fmt: skip
    return sample_offer("fake", lines=rows, reference=ref)


def _time(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, time.perf_counter() - t0)
    return best / repeat


def run(profile: str = "full") -> dict[str, object]:
    """Run the SDK benchmark; returns ratios (and absolute microseconds for context)."""
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())  # measure the events, not terminal I/O
    calls, lines = _SIZES[profile]
    offers = [sample_offer("fake", reference=f"bench-{i}") for i in range(calls * 3)]

    async def direct(batch: list[Any]) -> None:
        fake = FakeInsurer()
        for o in batch:
            await fake.settle(SettleInput(offer=o))

    async def via_caller(batch: list[Any]) -> None:
        fake = FakeInsurer()
        caller = InsurerCaller(fake, clock=FakeClock())
        for o in batch:
            await caller.settle(SettleInput(offer=o))

    async def lost(batch: list[Any]) -> None:
        fake = FakeInsurer()
        caller = InsurerCaller(LoseAnswer(fake), clock=FakeClock())
        for o in batch:
            await caller.settle(SettleInput(offer=o))

    def timed(coro_fn: Any, batch: list[Any]) -> float:
        t0 = time.perf_counter()
        asyncio.run(coro_fn(batch))
        return (time.perf_counter() - t0) / len(batch)

    t_direct = min(timed(direct, offers[i * calls : (i + 1) * calls]) for i in range(3))
    t_caller = min(timed(via_caller, offers[i * calls : (i + 1) * calls]) for i in range(3))
    t_lost = min(timed(lost, offers[i * calls : (i + 1) * calls]) for i in range(3))

    big = _offer_with_lines(lines, "bench-big")
    caps = Capabilities(flows=frozenset(InsurerFlow), categories=PAYABLE)
    pays = tuple(
        LinePayment(feedetl_sn=lo.feedetl_sn, amounts={Category.COPAY: Fen(int(lo.amounts[Category.COPAY]))})
        for lo in big.lines
    )

    result = PaymentResult(reference=big.reference, payer="fake", status=AnswerStatus.PARTIAL, lines=pays)
    wire = result.model_dump_json()
    t_parse = _time(lambda: PaymentResult.model_validate_json(wire), 20)
    t_check = _time(lambda: payment_problems(big, result, caps), 20)
    assert payment_problems(big, result, caps) == []
    return {
        "caller_vs_direct_settle": round(t_caller / t_direct, 2),
        "lost_answer_resolution_vs_settle": round(t_lost / t_caller, 2),
        "integrity_vs_result_parse": round(t_check / t_parse, 2),
        "direct_settle_us": round(t_direct * 1e6, 1),
        "caller_settle_us": round(t_caller * 1e6, 1),
        "integrity_check_lines": lines,
        "integrity_check_us": round(t_check * 1e6, 1),
        "calls": calls,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "full"), indent=2))
