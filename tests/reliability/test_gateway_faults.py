"""Seeded payer faults through the real Gateway (service level), on SQLite and PostgreSQL.

Two commercial insurers and the basic-fund channel are wrapped in ``FaultyInsurer`` /
``FaultyChannel`` and configured into :class:`onestop.gateway.Gateway`; seeded bills are settled,
some are reversed, then resolver passes run. The promises (reliability.md §6):

* nothing lost — every request has a stored settlement row, and asking again replays its answer;
* nothing paid twice — each commercial and fund leg was sent to its payer exactly once;
* every settlement terminal (settled / failed / reversed), every leg closed or on the queue in
  ``manual`` state with a reason; what each insurer and the fund hold live is what the gateway says;
* compensation — a settlement whose fund leg does not stand leaves nothing at any payer, and a
  cancellation that keeps failing is retried pass after pass and then lands on the manual queue.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from reliability.fund_centre import FundCentre
from reliability.profile import FULL, size
from reliability.saga import PAYERS, bill_doc
from reliability.serve_harness import DATA_KEY, fresh_pg_database
from sqlalchemy import text

from onestop.catalog import default_catalogs
from onestop.domain import Bill, parse_bill_json
from onestop.errors import OnestopError
from onestop.gateway import Caller, Gateway, GatewayConfig, LegStatus, SettlementStatus
from onestop.policy import policy_for
from onestop.sdk import CallPolicy
from onestop.testing import FakeClock, FakeInsurer
from onestop.testing.faults import Fault, FaultPlan, FaultyChannel, FaultyInsurer

pytestmark = [pytest.mark.slow] if FULL else []

ME = Caller("H0001")
CATALOGS = default_catalogs()
FUND_POLICY = policy_for("990100", dt.date(2026, 3, 1))  # every seeded bill is a March 2026 stay
TERMINAL = {SettlementStatus.SETTLED, SettlementStatus.FAILED, SettlementStatus.REVERSED}
OPEN_LEG = {LegStatus.NEW, LegStatus.CALLED, LegStatus.UNKNOWN, LegStatus.REVERSING}
PAID = {LegStatus.APPROVED, LegStatus.PARTIAL}


def _fp(bill: Bill) -> bytes:
    return hashlib.sha256(bill.model_dump_json().encode()).digest()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """An SQLite file, or a fresh PostgreSQL database (skipped when the server is unreachable)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gw.db'}"
        return
    url, drop = fresh_pg_database()
    yield url
    drop()


class Rig:
    """A Gateway over fault-wrapped payers, and the payers' own ledgers behind the faults."""

    def __init__(self, url: str, plan: FaultPlan, fund_plan: FaultPlan) -> None:
        self.clock = FakeClock()
        self.insurers = {p: FakeInsurer.variant(name=p)(clock=self.clock) for p in PAYERS}
        self.faulty = {p: FaultyInsurer(self.insurers[p], plan, clock=self.clock) for p in PAYERS}
        self.fund = FundCentre(CATALOGS, FUND_POLICY)
        self.faulty_fund = FaultyChannel(self.fund, fund_plan, clock=self.clock)
        self.gw = Gateway.open(
            GatewayConfig(
                database_url=url,
                catalogs=CATALOGS,
                insurers=dict(self.faulty),
                channels={"fund": self.faulty_fund},  # type: ignore[dict-item]
                fund_routes={"basic": "fund"},
                call_policy=CallPolicy(timeout_s=10.0, settle_timeout_s=30.0),
                clock=self.clock,
                pseudonym_key=b"reliability",
                data_key=DATA_KEY,
            )
        )

    def resolve(self, passes: int, max_attempts: int) -> int:
        """Resolver passes on the fake clock (60 s, then every 300 s); returns the passes run."""
        for k in range(passes):
            self.clock.advance(60.0 if k == 0 else 300.0)
            self.gw.resolve_pending(max_attempts=max_attempts)
            if not self.queue(state="open"):
                return k + 1
        return passes

    def queue(self, state: str | None = None) -> list[Any]:
        """Rows of the resolver queue (optionally in one state)."""
        with self.gw.store.read() as conn:
            rows = conn.execute(text("SELECT * FROM resolver_queue")).mappings().all()
        return [r for r in rows if state is None or r["state"] == state]

    def live_commercial(self, payer: str, reference: str) -> int:
        """What the insurer itself holds paid (0 when cancelled or never booked)."""
        order = self.insurers[payer].orders.get(reference)
        return 0 if order is None or order.cancelled else int(order.result.paid_fen)

    def close(self) -> None:
        self.gw.close()


def _drive(rig: Rig, seed: int, n: int, reverse_share: float) -> dict[str, tuple[Bill, str]]:
    """Settle ``n`` seeded bills (and reverse some); request_id → (bill, settlement_id or "")."""
    rng = random.Random(seed)
    sent: dict[str, tuple[Bill, str]] = {}
    for k in range(n):
        bill = parse_bill_json(json.dumps(bill_doc(rng, seed, k)))
        rid = f"s{seed}-{k}"
        try:
            out = rig.gw.settle(ME, rid, bill, _fp(bill))
            sid = out.settlement_id
        except OnestopError:
            sid = ""  # refused or failed: the row must exist all the same (checked below)
        sent[rid] = (bill, sid)
        if sid and out.status is SettlementStatus.SETTLED and rng.random() < reverse_share:
            # An unfinished reversal stays on the queue; the resolver finishes it.
            with contextlib.suppress(OnestopError):
                rig.gw.reverse(ME, sid, f"r{seed}-{k}")
    return sent


def _breaches(rig: Rig, sent: dict[str, tuple[Bill, str]]) -> list[str]:
    bad: list[str] = []
    manual = {r["reference"]: r for r in rig.queue(state="manual")}
    with rig.gw.store.read() as conn:
        rows = {r.request_id: r for r in conn.execute(text("SELECT * FROM settlements"))}
    for rid, (bill, _sid) in sent.items():
        row = rows.get(rid)
        if row is None:
            bad.append(f"{rid}: accepted but no stored row (lost)")
            continue
        try:
            again = rig.gw.settle(ME, rid, bill, _fp(bill))
        except OnestopError:
            again = None  # a stored refusal is replayed as the same error
        if again is not None and not again.replayed:
            bad.append(f"{rid}: asked again and executed again")
        rec = rig.gw.get(ME, row.settlement_id)
        if rec.status not in TERMINAL:
            bad.append(f"{rid}: left {rec.status}")
        fund_leg = next((g for g in rec.legs if g.kind.value == "basic"), None)
        if fund_leg is not None and fund_leg.reference:
            sends = rig.faulty_fund.attempts("settle", fund_leg.reference)
            if sends > 1:
                bad.append(f"{fund_leg.reference}: fund settle sent {sends} times")
            live = rig.fund.live(fund_leg.reference)
            should = rec.status is SettlementStatus.SETTLED
            if live != should and fund_leg.reference not in manual:
                bad.append(f"{fund_leg.reference}: fund live={live} but the settlement is {rec.status}")
        for leg in rec.legs:
            if leg.kind.value != "commercial":
                continue
            sends = rig.faulty[leg.payer].attempts("settle", leg.reference)
            if sends > 1:
                bad.append(f"{leg.reference}: commercial settle sent {sends} times")
            if leg.reference in manual:
                continue
            never_sent = leg.status is LegStatus.NEW and sends == 0 and rec.status is SettlementStatus.FAILED
            if leg.status in OPEN_LEG and not never_sent:
                bad.append(f"{leg.reference}: leg left {leg.status}, not on the manual queue")
            live = rig.live_commercial(leg.payer, leg.reference)
            says = int(leg.paid_fen) if rec.status is SettlementStatus.SETTLED and leg.status in PAID else 0
            if live != says:
                bad.append(f"{leg.reference}: insurer holds {live} fen, the gateway says {says} ({rec.status})")
    for ref, row in manual.items():
        if not (row["reason"] or row["last_error"]):
            bad.append(f"{ref}: on the manual queue without a reason")
    return bad


@pytest.mark.parametrize("seed", [11, 29] if FULL else [11])
@pytest.mark.timeout(3600 if FULL else 300)
def test_seeded_faults_through_the_gateway_lose_nothing_and_pay_nothing_twice(db_url: str, seed: int):
    """30% of payer calls faulted (every kind): after the resolver, every settlement terminal and matched."""
    plan = FaultPlan(seed, rate=0.3)
    rig = Rig(db_url, plan, FaultPlan(seed + 1, rate=0.15))
    try:
        sent = _drive(rig, seed, size(40, 2_500), reverse_share=0.2)
        passes = rig.resolve(10, max_attempts=10)
        faults = Counter(
            f"{i.payer}:{i.flow}:{i.fault}" for f in [*rig.faulty.values(), rig.faulty_fund] for i in f.injected
        )
        bad = _breaches(rig, sent)
        with rig.gw.store.read() as conn:
            statuses = Counter(r.status for r in conn.execute(text("SELECT status FROM settlements")))
        print(
            f"gateway faults seed {seed}: {len(sent)} settlements {dict(statuses)}, {sum(faults.values())} faults "
            f"injected, {len(rig.queue(state='manual'))} on the manual queue after {passes} passes"
        )
        assert not bad, f"seed {seed}, {passes} passes, faults {dict(faults)}:\n" + "\n".join(bad[:20])
        assert sum(faults.values()) > 0, "the plan injected no fault: the run proves nothing"
    finally:
        rig.close()


def test_a_fund_leg_that_does_not_stand_leaves_nothing_at_any_payer(db_url: str):
    """The fund declines every settle: each settlement fails and no insurer holds anything for it."""
    plan = FaultPlan(3, rate=0.0)
    fund_plan = FaultPlan(3, rate=1.0, weights={Fault.DECLINE: 1}, flows=frozenset({"settle"}))
    rig = Rig(db_url, plan, fund_plan)
    try:
        sent = _drive(rig, 3, 6, reverse_share=0.0)
        with rig.gw.store.read() as conn:
            statuses = [r.status for r in conn.execute(text("SELECT status FROM settlements"))]
        assert statuses == ["failed"] * 6
        held = {ref: rig.live_commercial(p, ref) for p in PAYERS for ref in rig.insurers[p].orders}
        assert not any(held.values()), f"an insurer holds money for a failed settlement: {held}"
        assert not _breaches(rig, sent)
    finally:
        rig.close()


def test_a_cancellation_that_keeps_failing_lands_on_the_manual_queue_with_its_reason(db_url: str):
    """Reversal with every insurer cancel failing: retried each pass, then ``manual`` with the last error."""
    rig = Rig(db_url, FaultPlan(5, rate=0.0), FaultPlan(5, rate=0.0))
    try:
        sent = _drive(rig, 5, 3, reverse_share=0.0)
        settled = [sid for _b, sid in sent.values() if sid]
        assert settled
        sticky = FaultPlan(5, rate=1.0, weights={Fault.UNAVAILABLE: 1}, flows=frozenset({"cancel"}), sticky_rate=1.0)
        for f in rig.faulty.values():
            f.plan = sticky
        for k, sid in enumerate(settled):
            with contextlib.suppress(OnestopError):
                rig.gw.reverse(ME, sid, f"rev-{k}")
        budget = 4
        rig.resolve(budget + 2, max_attempts=budget)
        manual = rig.queue(state="manual")
        refs = {leg.reference for sid in settled for leg in rig.gw.get(ME, sid).legs if leg.kind.value == "commercial"}
        paid_refs = {r for r in refs if any(rig.insurers[p].orders.get(r) for p in PAYERS)}
        assert {r["reference"] for r in manual} >= {
            r for r in paid_refs if any(rig.live_commercial(p, r) for p in PAYERS)
        }
        assert manual, "a cancel that always fails must end on the manual queue"
        for row in manual:
            assert row["attempts"] >= budget
            assert row["reason"] or row["last_error"]
            tries = sum(f.attempts("cancel", row["reference"]) for f in rig.faulty.values())
            assert tries >= budget, f"{row['reference']}: only {tries} cancel attempts before manual"
        assert not _breaches(rig, sent)
    finally:
        rig.close()


def test_a_fund_reversal_that_keeps_failing_lands_on_the_manual_queue_with_its_reason(db_url: str):
    """Reversal with every fund-channel undo failing: each fund leg is retried each pass, then ``manual`` with its
    reason; the fund still holds the leg (a person must close it) and nothing else is out of line."""
    rig = Rig(db_url, FaultPlan(5, rate=0.0), FaultPlan(5, rate=0.0))
    try:
        sent = _drive(rig, 5, 3, reverse_share=0.0)
        settled = [sid for _b, sid in sent.values() if sid]
        assert settled
        rig.faulty_fund.plan = FaultPlan(
            5, rate=1.0, weights={Fault.UNAVAILABLE: 1}, flows=frozenset({"cancel", "reversal"}), sticky_rate=1.0
        )
        for k, sid in enumerate(settled):
            with contextlib.suppress(OnestopError):
                rig.gw.reverse(ME, sid, f"rev-{k}")
        budget = 4
        rig.resolve(budget + 2, max_attempts=budget)
        fund_manual = [r for r in rig.queue(state="manual") if r["kind"] != "commercial"]
        fund_refs = {leg.reference for sid in settled for leg in rig.gw.get(ME, sid).legs if leg.kind.value == "basic"}
        assert {r["reference"] for r in fund_manual} == fund_refs
        for row in fund_manual:
            assert row["attempts"] >= budget
            assert row["reason"] or row["last_error"]
            assert rig.fund.live(row["reference"]), "the fund leg was never undone, so the fund still holds it"
        assert not _breaches(rig, sent)
    finally:
        rig.close()
