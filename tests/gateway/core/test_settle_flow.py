"""The durable, idempotent settle flow at the service level, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from gateway.core.gwcore_helpers import HOSPITAL, Crash, FakeFund, bill_doc, fp, make_bill
from sqlalchemy import func, select

from onestop.errors import IdempotencyKeyReused, InvalidState, NotFound, PayerDeclined, PermissionDenied
from onestop.gateway import Caller, Gateway, LegStatus, SettlementStatus
from onestop.gateway.store import schema as t
from onestop.policy import policy_for
from onestop.testing import FakeInsurer, FakeStep

ME = Caller(HOSPITAL)
OTHER = Caller("H99999999999")
Open = Callable[..., Gateway]


def _count(gw: Gateway, table: Any) -> int:
    with gw.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _huiminbao() -> tuple[Any, FakeInsurer]:
    doc = bill_doc("inpatient_car_t_huiminbao.json")
    return doc, FakeInsurer.variant(name="huiminbao")()


def test_local_settle_is_one_transaction_and_replays_identically(open_gateway: Open) -> None:
    """Same (hospital, request_id, body) returns the stored outcome, equal and byte-identical; one execution."""
    gw = open_gateway()
    bill = make_bill(bill_doc())
    first = gw.settle(ME, "r-1", bill, fp(bill))
    assert first.status is SettlementStatus.SETTLED
    assert not first.replayed
    again = gw.settle(ME, "r-1", bill, fp(bill))
    assert again.replayed
    assert again.settlement == first.settlement
    assert again.settlement.model_dump_json() == first.settlement.model_dump_json()
    assert again.settlement_id == first.settlement_id
    assert _count(gw, t.settlements) == 1


def test_a_bill_that_calls_no_payer_is_stored_once_in_its_final_state(open_gateway: Open) -> None:
    """Without a payer call the key is stored answered and the settlement settled in the one transaction,
    the accumulators move once, and the person is not left claimed by it."""
    gw = open_gateway()
    bill = make_bill(bill_doc())
    out = gw.settle(ME, "r-final", bill, fp(bill))
    with gw.store.read() as conn:
        key = gw.store.key(conn, HOSPITAL, "r-final")
        row = gw.store.settlement(conn, out.settlement_id)
        journal = conn.execute(
            select(func.count())
            .select_from(t.accumulator_journal)
            .where(t.accumulator_journal.c.operation == f"{out.settlement_id}:settle")
        ).scalar_one()
        holders = set(conn.execute(select(t.person_locks.c.holder)).scalars())
    assert key is not None
    assert key.state == "done"
    assert key.response_json
    assert row is not None
    assert row._mapping["status"] == SettlementStatus.SETTLED.value
    assert row._mapping["settlement_json"] == out.settlement.model_dump_json()
    assert out.settlement.basic is not None
    assert row._mapping["fund_paid_fen"] == out.settlement.basic.fund_pay_sumamt
    assert journal == len({d.key for d in out.settlement.basic.accumulator_deltas if d.delta_fen}) > 0
    assert out.settlement_id not in holders


def test_a_line_dated_before_every_catalog_edition_names_the_line(open_gateway: Open) -> None:
    """With a policy that covers the date, a line before the first catalog edition is refused naming lines[i].date
    and its feedetl_sn, reason NO_EDITION_IN_FORCE."""
    from onestop.errors import BillOutOfScope

    gw = open_gateway(policies=lambda region, day: policy_for(region, dt.date(2026, 3, 2)))
    doc = bill_doc()
    doc["visit"].update(admission_date="2015-03-02", discharge_date="2015-03-02")
    for line in doc["lines"]:
        line["date"] = "2015-03-02"
    bill = make_bill(doc)
    with pytest.raises(BillOutOfScope) as err:
        gw.settle(ME, "old-line", bill, fp(bill))
    assert err.value.reason == "NO_EDITION_IN_FORCE"
    assert err.value.grpc_code == "FAILED_PRECONDITION"
    sn = doc["lines"][0]["feedetl_sn"]
    assert [v.field for v in err.value.violations] == [f"lines[0].date (feedetl_sn {sn})"]
    assert _count(gw, t.settlements) == 0


def test_same_request_id_other_body_is_refused_and_changes_nothing(open_gateway: Open) -> None:
    """A reused request id with another body raises IDEMPOTENCY_KEY_REUSED and executes nothing."""
    gw = open_gateway()
    bill = make_bill(bill_doc())
    gw.settle(ME, "r-1", bill, fp(bill))
    other = make_bill(bill_doc(), mdtrt_id="MZ-OTHER-1")
    with pytest.raises(IdempotencyKeyReused) as info:
        gw.settle(ME, "r-1", other, fp(other))
    assert info.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert info.value.grpc_code == "FAILED_PRECONDITION"
    assert _count(gw, t.settlements) == 1


def test_request_ids_are_scoped_by_hospital(open_gateway: Open) -> None:
    """Two hospitals using one request id get two independent settlements."""
    gw = open_gateway()
    a = make_bill(bill_doc())
    doc = bill_doc()
    doc["hospital"]["code"] = OTHER.hospital_code
    b = make_bill(doc)
    sa = gw.settle(ME, "same", a, fp(a))
    sb = gw.settle(OTHER, "same", b, fp(b))
    assert sa.settlement_id != sb.settlement_id
    assert not sb.replayed


def test_nothing_is_stored_for_a_rejected_request(open_gateway: Open) -> None:
    """A bill of another hospital, or one the engine refuses, leaves no row in any table."""
    gw = open_gateway()
    bill = make_bill(bill_doc())
    with pytest.raises(PermissionDenied):
        gw.settle(OTHER, "r-x", bill, fp(bill))
    doc = bill_doc()
    doc["patient"]["insured_region"] = "650100"  # no policy there
    doc["hospital"]["region"] = "650100"
    nowhere = make_bill(doc)
    with pytest.raises(Exception, match="policy"):
        gw.settle(ME, "r-y", nowhere, fp(nowhere))
    for table in (t.settlements, t.idempotency_keys, t.legs, t.lines, t.accumulator_journal):
        assert _count(gw, table) == 0, table.name


def test_accumulators_carry_over_and_reverse(open_gateway: Open) -> None:
    """A settled bill adds the person-year deltas once; its reversal applies the negated deltas."""
    gw = open_gateway()
    bill = make_bill(bill_doc("stay_across_new_year.json"))
    out = gw.settle(ME, "r-1", bill, fp(bill))
    person = gw._person(bill)
    with gw.store.read() as conn:
        after = gw.store.accumulators(conn, person)
    assert after
    assert all(v >= 0 for v in after.values())
    gw.settle(ME, "r-1", bill, fp(bill))  # replay: no second increment
    with gw.store.read() as conn:
        assert gw.store.accumulators(conn, person) == after
    rev = gw.reverse(ME, out.settlement_id, "rev-1")
    assert rev.status is SettlementStatus.REVERSED
    with gw.store.read() as conn:
        assert set(gw.store.accumulators(conn, person).values()) == {0}


def test_commercial_leg_pays_and_reversal_refunds_it_once(open_gateway: Open) -> None:
    """An adapter's approval is part of the answer; reverse cancels it with its own reference, idempotently."""
    doc, ins = _huiminbao()
    gw = open_gateway(insurers={"huiminbao": ins})
    bill = make_bill(doc)
    out = gw.settle(ME, "r-1", bill, fp(bill))
    leg = next(g for g in out.legs if g.kind.value == "commercial")
    assert leg.status is LegStatus.APPROVED
    assert leg.paid_fen > 0
    assert out.settlement.totals.commercial_fen == leg.paid_fen
    assert [c for c in ins.calls if c[0] == "settle"] == [("settle", leg.reference)]
    with gw.store.read() as conn:
        c = t.adapter_calls.c
        calls = conn.execute(select(c.flow, c.state, c.outcome).where(c.leg_reference == leg.reference)).all()
    assert [tuple(r) for r in calls] == [("settle", "done", "approved")]  # recorded sent, closed with the answer
    rev = gw.reverse(ME, out.settlement_id, "rev-1")
    assert ins.orders[leg.reference].cancelled
    assert rev.reversed_fen >= leg.paid_fen
    twice = gw.reverse(ME, out.settlement_id, "rev-2")
    assert twice.replayed
    assert twice.legs == rev.legs
    assert [c[0] for c in ins.calls].count("cancel") == 1


def test_a_reversal_is_cut_to_the_callers_deadline_and_the_slow_leg_left_to_the_resolver(open_gateway: Open) -> None:
    """An insurer whose cancel hangs: with a 0.3 s deadline the reversal answers (the payers' own bound is a
    minute), the reversal stands, and the leg stays reversing on the resolver's queue instead of holding the call."""
    import time

    from onestop.sdk import CallPolicy

    doc, ins = _huiminbao()
    gw = open_gateway(insurers={"huiminbao": ins}, call_policy=CallPolicy(timeout_s=60.0, settle_timeout_s=60.0))
    bill = make_bill(doc)
    out = gw.settle(ME, "r-dl", bill, fp(bill))
    ins.script("cancel", FakeStep(delay_s=3_600))  # on the insurer's fake clock: it never answers
    t0 = time.monotonic()
    rev = gw.reverse(ME, out.settlement_id, "rev-dl", deadline=0.3)
    assert time.monotonic() - t0 < 30  # not the two minutes the policy alone would allow
    leg = next(g for g in rev.legs if g.kind.value == "commercial")
    assert leg.status is LegStatus.REVERSING
    with gw.store.read() as conn:
        queued = {(q.reference, q.state) for q in gw.store.queue_entries(conn, out.settlement_id)}
    assert (leg.reference, "open") in queued
    assert gw.get(ME, out.settlement_id).status is SettlementStatus.REVERSED


def test_payer_calls_are_logged_under_their_settlement(open_gateway: Open) -> None:
    """The SDK's adapter.call events, made on the payer loop's thread, carry the settlement id of the settle that
    made them — and a later call on the same thread does not inherit it."""
    import structlog
    from structlog.testing import LogCapture

    doc, ins = _huiminbao()
    gw = open_gateway(insurers={"huiminbao": ins})
    cap = LogCapture()
    old = structlog.get_config()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, cap], cache_logger_on_first_use=False)
    try:
        bill = make_bill(doc)
        out = gw.settle(ME, "r-log", bill, fp(bill))
        gw.pre_settle(ME, bill)
    finally:
        structlog.configure(**old)
    calls = [e for e in cap.entries if e["event"] == "adapter.call"]
    settle_calls = [e for e in calls if e.get("flow") == "settle"]
    assert settle_calls
    assert all(e.get("settlement_id") == out.settlement_id for e in settle_calls)
    assert all("settlement_id" not in e for e in calls if e.get("flow") == "pre_settle")


def test_declined_and_unknown_commercial_legs_leave_the_patient_paying(open_gateway: Open) -> None:
    """A declined leg says why; an unknown one is unpaid now, queued, and the resolver cancels it."""
    doc, ins = _huiminbao()
    gw = open_gateway(insurers={"huiminbao": ins})
    ins.script("settle", FakeStep(raw_status="REJ"))
    bill = make_bill(doc)
    out = gw.settle(ME, "r-1", bill, fp(bill))
    leg = next(g for g in out.legs if g.kind.value == "commercial")
    assert leg.status is LegStatus.DECLINED
    assert leg.paid_fen == 0
    assert leg.reason
    assert out.settlement.totals.commercial_fen == 0

    ins.script("settle", FakeStep(after=True, raise_=ConnectionResetError("lost")))
    ins.script("query", FakeStep(raise_=ConnectionResetError("down")), FakeStep(raise_=ConnectionResetError("down")))
    ins.script("query", FakeStep(raise_=ConnectionResetError("down")))
    bill2 = make_bill(doc, mdtrt_id="ZY-UNKNOWN-1")
    out2 = gw.settle(ME, "r-2", bill2, fp(bill2))
    leg2 = next(g for g in out2.legs if g.kind.value == "commercial")
    assert leg2.status is LegStatus.UNKNOWN
    assert leg2.paid_fen == 0
    assert out2.settlement.totals.commercial_fen == 0
    assert ins.orders[leg2.reference].result.paid_fen > 0  # the insurer booked it
    assert gw.resolve_pending() == 1
    assert ins.orders[leg2.reference].cancelled
    assert gw.get(ME, out2.settlement_id).legs[-1].status is LegStatus.CANCELLED
    assert [c for c in ins.calls if c[0] == "settle" and c[1] == leg2.reference] == [("settle", leg2.reference)]


def test_concurrent_duplicates_execute_once(open_gateway: Open) -> None:
    """Many threads settling one key: exactly one payer call, every answer the same settlement."""
    doc, ins = _huiminbao()
    gw = open_gateway(insurers={"huiminbao": ins})
    bill = make_bill(doc)
    results: list[Any] = []

    def go() -> None:
        try:
            results.append(gw.settle(ME, "dup", bill, fp(bill)))
        except Exception as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=go) for _ in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.settlement_id for r in results}) == 1
    assert len({r.settlement.model_dump_json() for r in results}) == 1
    assert sum(1 for c in ins.calls if c[0] == "settle") == 1
    assert sum(1 for r in results if not r.replayed) == 1


def test_hospital_reads_only_its_own(open_gateway: Open) -> None:
    """Get, reverse and list by another hospital see nothing (NotFound, same as a missing id)."""
    gw = open_gateway()
    bill = make_bill(bill_doc())
    out = gw.settle(ME, "r-1", bill, fp(bill))
    with pytest.raises(NotFound):
        gw.get(OTHER, out.settlement_id)
    with pytest.raises(NotFound):
        gw.get(ME, "no-such-id")
    with pytest.raises(NotFound):
        gw.reverse(OTHER, out.settlement_id, "rev")
    far = (dt.date(2000, 1, 1), dt.date(2100, 1, 1))
    assert gw.list(OTHER, *far, 10, "").items == ()
    mine = gw.list(ME, *far, 10, "")
    assert [r.settlement_id for r in mine.items] == [out.settlement_id]
    assert gw.get(ME, out.settlement_id).settlement == out.settlement


def test_list_pages_and_reconcile_totals(open_gateway: Open) -> None:
    """Pages cover every settlement once; reconciliation nets reversals per payer."""
    day = dt.date(2026, 4, 10)
    gw = open_gateway(today=lambda: day)
    ids = []
    for k in range(5):
        bill = make_bill(bill_doc(), mdtrt_id=f"MZ-{k}")
        ids.append(gw.settle(ME, f"r-{k}", bill, fp(bill)).settlement_id)
    seen: list[str] = []
    token = ""
    while True:
        page = gw.list(ME, day, day, 2, token)
        seen += [r.settlement_id for r in page.items]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 5
    rep = gw.reconcile(ME, day)
    assert rep.count == 5
    gw.reverse(ME, ids[0], "rev-0")
    rep2 = gw.reconcile(ME, day)
    funds = [ln for ln in rep2.lines if ln.payer == "account"]
    assert funds
    assert all(ln.net_fen == ln.settled_fen - ln.reversed_fen for ln in funds)
    assert all(ln.reversed_count == 1 for ln in funds)
    assert sum(ln.settled_count for ln in funds) >= 5
    # The detail (3202 对明细账): one row per settlement that day and one per reversal, each adding up.
    assert [d.kind for d in rep2.details].count("settled") == 5
    assert [(d.kind, d.settlement_id) for d in rep2.details if d.kind == "reversed"] == [("reversed", ids[0])]
    assert {d.mdtrt_id for d in rep2.details} == {f"MZ-{k}" for k in range(5)}
    for d in rep2.details:
        assert d.fund_fen + d.account_fen + d.commercial_fen + d.patient_cash_fen == d.medfee_sumamt
    per_payer = {ln.payer: ln for ln in rep2.lines}
    assert sum(d.account_fen for d in rep2.details if d.kind == "settled") == per_payer["account"].settled_fen


def test_reverse_refuses_a_failed_settlement_and_fund_failure_replays(open_gateway: Open, catalogs: Any) -> None:
    """A declined fund leg fails the settlement; the replay raises the same error; it cannot be reversed."""
    bill = make_bill(bill_doc())
    policy = policy_for(bill.patient.insured_region, bill.visit.discharge_date)
    fund = FakeFund(catalogs, policy, decline=True)
    gw = open_gateway(channels={"fakefund": fund}, fund_routes={"basic": "fakefund"})
    with pytest.raises(PayerDeclined):
        gw.settle(ME, "r-1", bill, fp(bill))
    with pytest.raises(PayerDeclined):
        gw.settle(ME, "r-1", bill, fp(bill))
    assert sum(fund.settles.values()) == 1
    sid = gw.list(ME, dt.date(2000, 1, 1), dt.date(2100, 1, 1), 10, "").items[0].settlement_id
    assert gw.get(ME, sid).status is SettlementStatus.FAILED
    with pytest.raises(InvalidState):
        gw.reverse(ME, sid, "rev")


def test_a_call_answered_then_undone_is_logged_with_its_answer(open_gateway: Open, catalogs: Any) -> None:
    """Work-injury channel declines, so the basic leg the other channel approved is cancelled: each settle call's
    row in adapter_calls says what its payer answered (approved, declined), not what became of the leg."""
    bill = make_bill(bill_doc("work_injury_and_basic.json"))
    policy = policy_for(bill.patient.insured_region, bill.visit.discharge_date)

    class DecliningWorkInjury(FakeFund):
        name = "fakewi"
        capabilities = FakeFund.capabilities.model_copy(update={"legs": frozenset({"work_injury"})})

    fund, wi = FakeFund(catalogs, policy), DecliningWorkInjury(catalogs, policy, decline=True)
    gw = open_gateway(
        channels={"fakefund": fund, "fakewi": wi}, fund_routes={"basic": "fakefund", "work_injury": "fakewi"}
    )
    with pytest.raises(PayerDeclined):
        gw.settle(ME, "r-undo", bill, fp(bill))
    assert not any(fund.ledger.values())  # the approved basic leg was cancelled
    with gw.store.read() as conn:
        c = t.adapter_calls.c
        rows = conn.execute(select(c.payer, c.state, c.outcome).where(c.flow == "settle")).all()
    assert sorted(tuple(r) for r in rows) == [("fakefund", "done", "approved"), ("fakewi", "done", "declined")]


def test_fund_channel_settles_and_is_undone_with_its_own_reference(open_gateway: Open, catalogs: Any) -> None:
    """Basic through a channel: the centre's leg is adopted; reversal cancels it at the channel."""
    bill = make_bill(bill_doc())
    policy = policy_for(bill.patient.insured_region, bill.visit.discharge_date)
    fund = FakeFund(catalogs, policy)
    gw = open_gateway(channels={"fakefund": fund}, fund_routes={"basic": "fakefund"})
    out = gw.settle(ME, "r-1", bill, fp(bill))
    assert out.settlement.basic is not None
    assert out.settlement.basic.source == "nhsa-platform"
    ref = next(g.reference for g in out.legs if g.kind.value == "basic")
    assert fund.ledger[ref] is True
    gw.reverse(ME, out.settlement_id, "rev")
    assert fund.ledger[ref] is False
    assert fund.settles == {ref: 1}


def test_crash_after_the_payer_call_is_recovered_by_query(open_gateway: Open, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between the insurer's approval and the commit: recovery queries, never re-sends, and completes."""
    doc, ins = _huiminbao()
    gw = open_gateway(insurers={"huiminbao": ins}, recover_on_open=False)
    bill = make_bill(doc)

    def crash(name: str) -> None:
        if name == "in_adapter_call":
            raise Crash(name)

    monkeypatch.setattr("onestop.gateway._settle.crash_point", crash)
    with pytest.raises(Crash):
        gw.settle(ME, "r-1", bill, fp(bill))
    monkeypatch.setattr("onestop.gateway._settle.crash_point", lambda name: None)
    assert gw.list(ME, dt.date(2000, 1, 1), dt.date(2100, 1, 1), 10, "").items[0].status is SettlementStatus.PENDING
    gw2 = open_gateway(insurers={"huiminbao": ins})  # recovery on open
    out = gw2.settle(ME, "r-1", bill, fp(bill))
    assert out.replayed
    assert out.status is SettlementStatus.SETTLED
    leg = next(g for g in out.legs if g.kind.value == "commercial")
    assert leg.status is LegStatus.APPROVED
    assert leg.paid_fen > 0
    assert [c[0] for c in ins.calls].count("settle") == 1
    assert [c[0] for c in ins.calls].count("query") == 1


def test_supplement_pays_a_leg_that_was_declined_at_the_cashier(open_gateway: Open) -> None:
    """A declined leg can be settled later: the patient's share moves to the payer, the totals still conserve."""
    doc, ins = _huiminbao()
    gw = open_gateway(insurers={"huiminbao": ins})
    ins.script("settle", FakeStep(raw_status="REJ"))
    bill = make_bill(doc)
    out = gw.settle(ME, "r-1", bill, fp(bill))
    assert out.settlement.totals.commercial_fen == 0
    sup = gw.supplement(ME, out.settlement_id, "huiminbao", "sup-1")
    paid = sup.settlement.totals.commercial_fen
    assert paid > 0
    assert sup.settlement.totals.final_patient_cash_fen == out.settlement.totals.final_patient_cash_fen - paid
    assert sup.legs[-1].status is LegStatus.APPROVED
    assert gw.get(ME, out.settlement_id).settlement == sup.settlement
    again = gw.supplement(ME, out.settlement_id, "huiminbao", "sup-1")
    assert again.replayed
    assert again.settlement == sup.settlement
    with pytest.raises(InvalidState):
        gw.supplement(ME, out.settlement_id, "huiminbao", "sup-2")
    assert [c[0] for c in ins.calls].count("settle") == 2
