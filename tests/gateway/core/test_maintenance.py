"""One maintenance pass: the resolver closes what is open, expired idempotency keys are reaped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from gateway.core.gwcore_helpers import HOSPITAL, bill_doc, fp, make_bill
from sqlalchemy import update

from onestop.gateway import Caller, Gateway, LegStatus
from onestop.gateway.models import MaintenanceReport
from onestop.gateway.store import schema as t
from onestop.gateway.store import utcnow
from onestop.testing import FakeInsurer, FakeStep

ME = Caller(HOSPITAL)
Open = Callable[..., Gateway]


def _age(gw: Gateway, request_id: str, days: int) -> None:
    k = t.idempotency_keys.c
    with gw.store.write() as conn:
        conn.execute(
            update(t.idempotency_keys)
            .where(k.request_id == request_id)
            .values(created_at=utcnow() - dt.timedelta(days=days))
        )


def test_maintenance_resolves_open_legs_and_reaps_only_expired_finished_keys(open_gateway: Open) -> None:
    """An unknown commercial leg is cancelled by the pass; a finished key past the retention is deleted (its
    request id may run again), a younger one and a still-running one are kept; a second pass does nothing."""
    ins = FakeInsurer.variant(name="huiminbao")()
    gw = open_gateway(insurers={"huiminbao": ins}, idempotency_retention=dt.timedelta(days=7))
    ins.script("settle", FakeStep(after=True, raise_=ConnectionResetError("lost")))
    ins.script("query", *(FakeStep(raise_=ConnectionResetError("down")) for _ in range(3)))
    doc = bill_doc("inpatient_car_t_huiminbao.json")
    unknown = make_bill(doc)
    out = gw.settle(ME, "old", unknown, fp(unknown))
    assert out.legs[-1].status is LegStatus.UNKNOWN
    young = make_bill(bill_doc())
    gw.settle(ME, "young", young, fp(young))
    with gw.store.write() as conn:
        gw.store.insert_key(conn, HOSPITAL, "stuck", "settle", b"\x00" * 32, "none")
    _age(gw, "old", 8)
    _age(gw, "stuck", 30)
    _age(gw, "young", 6)

    assert gw.maintenance() == MaintenanceReport(resolved=1, reaped_keys=1)
    assert gw.get(ME, out.settlement_id).legs[-1].status is LegStatus.CANCELLED
    with gw.store.read() as conn:
        assert gw.store.key(conn, HOSPITAL, "old") is None
        assert gw.store.key(conn, HOSPITAL, "young") is not None
        assert gw.store.key(conn, HOSPITAL, "stuck") is not None
    assert gw.maintenance() == MaintenanceReport(resolved=0, reaped_keys=0)


def test_the_housekeeper_runs_passes_on_its_interval_and_survives_a_failing_one() -> None:
    """`onestop serve` keeps the gateway with a Housekeeper: passes run every interval, a pass that raises
    is logged and the next one still runs, and stop() ends the thread."""
    import threading

    from onestop.gateway.server import Housekeeper

    calls: list[int] = []
    third = threading.Event()

    class _Gw:
        def maintenance(self) -> MaintenanceReport:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("database briefly away")
            if len(calls) >= 3:
                third.set()
            return MaintenanceReport(resolved=0, reaped_keys=0)

    keeper = Housekeeper(_Gw(), 0.01)  # type: ignore[arg-type]
    try:
        assert third.wait(10), calls
    finally:
        keeper.stop()
    assert keeper.passes >= 3
    assert not keeper._thread.is_alive()


def test_a_leg_past_the_attempt_budget_is_on_the_manual_queue_listed_and_reported(
    open_gateway: Open, db_url: str
) -> None:
    """A commercial leg whose cancel keeps failing lands on the manual queue after the budget: the pass
    reports it, Gateway.resolver_queue lists it with the payer, reference and last error, and `onestop queue`
    prints it and exits 1 (so a cron job alerts)."""
    import json

    from click.testing import CliRunner

    from onestop.cli import main

    ins = FakeInsurer.variant(name="huiminbao")()
    gw = open_gateway(insurers={"huiminbao": ins})
    ins.script("settle", FakeStep(after=True, raise_=ConnectionResetError("lost")))
    ins.script("query", *(FakeStep(raise_=ConnectionResetError("down")) for _ in range(10)))
    ins.script("cancel", *(FakeStep(raise_=ConnectionResetError("down")) for _ in range(10)))
    bill = make_bill(bill_doc("inpatient_car_t_huiminbao.json"))
    out = gw.settle(ME, "to-manual", bill, fp(bill))
    assert out.legs[-1].status is LegStatus.UNKNOWN
    assert gw.resolver_queue() == ()

    report = gw.maintenance(max_attempts=1)
    assert report.manual == 1
    (entry,) = gw.resolver_queue()
    assert (entry.state, entry.action, entry.payer, entry.kind) == ("manual", "cancel", "huiminbao", "commercial")
    assert entry.settlement_id == out.settlement_id
    assert entry.reference == out.legs[-1].reference
    assert entry.last_error
    assert gw.resolver_queue("open") == ()

    res = CliRunner().invoke(main, ["queue", "--database-url", db_url])
    assert res.exit_code == 1, res.output
    assert entry.reference in res.output
    res = CliRunner().invoke(main, ["queue", "--database-url", db_url, "--state", "all", "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    assert [r["reference"] for r in rows] == [entry.reference]


def test_an_abandoned_intent_is_taken_by_maintenance_after_the_lease_and_by_one_gateway_only(
    open_gateway: Open,
) -> None:
    """A process died inside the insurer call: a second gateway that did not recover on open leaves the young
    intent alone (it could be live), takes it once it is older than the lease, claims it by compare-and-set
    (a second claimer loses), and finishes it by query, never sending the settle again."""
    from gateway.core.gwcore_helpers import Crash

    from onestop.gateway import SettlementStatus

    ins = FakeInsurer.variant(name="huiminbao")()
    first = open_gateway(insurers={"huiminbao": ins}, recover_on_open=False)
    ins.script("settle", FakeStep(after=True, raise_=Crash("in_adapter_call")))
    bill = make_bill(bill_doc("inpatient_car_t_huiminbao.json"))
    with pytest.raises(Crash):
        first.settle(ME, "abandoned", bill, fp(bill))
    with first.store.read() as conn:
        (sid,) = first.store.pending_settlements(conn)

    other = open_gateway(insurers={"huiminbao": ins}, recover_on_open=False, intent_lease=dt.timedelta(seconds=30))
    assert other.maintenance().recovered == 0
    assert other.get(ME, sid).status is SettlementStatus.PENDING

    s = t.settlements.c
    with other.store.write() as conn:
        conn.execute(
            update(t.settlements).where(s.settlement_id == sid).values(updated_at=utcnow() - dt.timedelta(minutes=1))
        )
    cutoff = utcnow() - dt.timedelta(seconds=30)
    with other.store.write() as conn:
        assert other.store.claim_intent(conn, sid, untouched_since=cutoff)
    with other.store.write() as conn:
        assert not other.store.claim_intent(conn, sid, untouched_since=cutoff)  # another gateway's claim loses
    assert other.maintenance().recovered == 0  # claimed just now: not stale any more

    with other.store.write() as conn:
        conn.execute(
            update(t.settlements).where(s.settlement_id == sid).values(updated_at=utcnow() - dt.timedelta(minutes=1))
        )
    assert other.maintenance().recovered == 1
    rec = other.get(ME, sid)
    assert rec.status is SettlementStatus.SETTLED
    ref = rec.legs[-1].reference
    assert [c for c in ins.calls if c[1] == ref] == [("settle", ref), ("query", ref)]
    assert other.maintenance().recovered == 0
