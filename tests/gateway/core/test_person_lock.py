"""One person's settlements are priced one after another, also across gateway processes on one database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from gateway.core.gwcore_helpers import HOSPITAL, deductible_doc, fp, make_bill

from onestop.gateway import Caller, Gateway, SettlementStatus, SettleOutcome
from onestop.sdk import SettleInput, SettleResult
from onestop.testing import FakeInsurer

ME = Caller(HOSPITAL)
Open = Callable[..., Gateway]
DEDUCTIBLE_KEY = "310:2026:deductible_used_general_outpatient"
DEDUCTIBLE_FEN = 30000


class _GatedInsurer(FakeInsurer.variant(name="huiminbao")):  # type: ignore[misc]
    """Holds its settle call open until the test lets it answer."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    async def settle(self, inp: SettleInput) -> SettleResult:
        self.entered.set()
        await asyncio.to_thread(self.release.wait, 20)
        result: SettleResult = await super().settle(inp)
        return result


def _deductible_charged(out: SettleOutcome) -> int:
    assert out.settlement.basic is not None
    return sum(d.delta_fen for d in out.settlement.basic.accumulator_deltas if d.key == DEDUCTIBLE_KEY)


def test_a_second_process_waits_for_the_pending_settlement_of_the_same_person(open_gateway: Open) -> None:
    """While one gateway's settlement of a person is between intent and outcome, another gateway on the same
    database does not price that person's next bill on the old year-to-date figures: the deductible is
    charged exactly once across the two."""
    ins = _GatedInsurer()
    gw_a = open_gateway(insurers={"huiminbao": ins})
    gw_b = open_gateway()  # its own engine and connections: another process as far as the database knows
    assert gw_a.store.engine is not gw_b.store.engine
    saw_busy = threading.Event()
    hold = gw_b.store.hold_person

    def spy(*args: Any, **kwargs: Any) -> str | None:
        busy = hold(*args, **kwargs)
        if busy is not None:
            saw_busy.set()
        return busy

    gw_b.store.hold_person = spy  # type: ignore[method-assign]
    bill_a = make_bill(deductible_doc("MZ-A", huiminbao=True))
    bill_b = make_bill(deductible_doc("MZ-B"))
    results: dict[str, SettleOutcome] = {}

    def run(name: str, gw: Gateway, bill: Any) -> None:
        results[name] = gw.settle(ME, f"r-{name}", bill, fp(bill))

    ta = threading.Thread(target=run, args=("a", gw_a, bill_a))
    ta.start()
    assert ins.entered.wait(20)
    tb = threading.Thread(target=run, args=("b", gw_b, bill_b))
    tb.start()
    while tb.is_alive() and not saw_busy.wait(0.01):
        pass  # without the lock, B finishes here on the figures A has not yet added to
    ins.release.set()
    ta.join(30)
    tb.join(30)
    assert results["a"].status is SettlementStatus.SETTLED
    assert results["b"].status is SettlementStatus.SETTLED
    assert saw_busy.is_set()
    assert _deductible_charged(results["a"]) == DEDUCTIBLE_FEN
    assert _deductible_charged(results["b"]) == 0
    with gw_a.store.read() as conn:
        assert gw_a.store.accumulators(conn, gw_a._person(bill_a))[DEDUCTIBLE_KEY] == DEDUCTIBLE_FEN


def test_concurrent_settlements_of_one_person_from_two_gateways_charge_the_deductible_once(open_gateway: Open) -> None:
    """Local-engine bills of one person settled at once through two gateways (own engines, several threads
    each): every one is priced on the figures the previous ones left, so the deductible is charged once."""
    gws = [open_gateway(), open_gateway()]
    n = 6
    start = threading.Barrier(n)
    results: list[SettleOutcome] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        bill = make_bill(deductible_doc(f"MZ-{i}"))
        start.wait(20)
        try:
            results.append(gws[i % 2].settle(ME, f"r-{i}", bill, fp(bill)))
        except BaseException as exc:  # reported below, with the results
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    assert len(results) == n
    assert sorted(_deductible_charged(r) for r in results) == [0] * (n - 1) + [DEDUCTIBLE_FEN]
    person = gws[0]._person(make_bill(deductible_doc("MZ-0")))
    with gws[0].store.read() as conn:
        acc = gws[0].store.accumulators(conn, person)
    assert acc[DEDUCTIBLE_KEY] == DEDUCTIBLE_FEN
    assert acc["310:2026:pool_paid_general_outpatient"] == sum(r.settlement.totals.basic_fund_fen for r in results)
