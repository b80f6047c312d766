"""SettlementService over a real port and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest
from gateway.rpc.gwrpc_helpers import HOSPITAL_A, TOKEN_A, auth, bill_msg, details

from onestop.v1 import settlement_service_pb2 as pb

A = auth(TOKEN_A)


def _today_range() -> tuple[str, str]:
    today = dt.date.today()
    return (today - dt.timedelta(days=2)).isoformat(), (today + dt.timedelta(days=2)).isoformat()


def _list(stubs: Any, md: Any = A, **kw: Any) -> Any:
    lo, hi = _today_range()
    return stubs.settlement.ListSettlements(pb.ListSettlementsRequest(date_from=lo, date_to=hi, **kw), metadata=md)


def test_pre_settle_answers_a_settlement_and_stores_nothing(start: Any, rpc_db_url: str) -> None:
    """PreSettle is a trial: it answers the full settlement but leaves no record and no accumulator change."""
    _, stubs = start(rpc_db_url)
    trial = stubs.settlement.PreSettle(pb.PreSettleRequest(bill=bill_msg()), metadata=A)
    assert trial.settlement.totals.medfee_sumamt_fen > 0
    assert len(_list(stubs).settlements) == 0
    again = stubs.settlement.PreSettle(pb.PreSettleRequest(bill=bill_msg()), metadata=A)
    assert again.settlement == trial.settlement  # no accumulator moved between the two trials
    settled = stubs.settlement.Settle(pb.SettleRequest(request_id="r1", bill=bill_msg()), metadata=A)
    assert settled.settlement.totals == trial.settlement.totals


def test_settle_then_replay_answers_identical_settlement_bytes(start: Any, rpc_db_url: str) -> None:
    """The same request id and bill answers the stored settlement, byte for byte, marked replayed."""
    _, stubs = start(rpc_db_url)
    req = pb.SettleRequest(request_id="visit-1", bill=bill_msg("inpatient_car_t_huiminbao.json"))
    first = stubs.settlement.Settle(req, metadata=A)
    again = stubs.settlement.Settle(req, metadata=A)
    assert first.status == pb.SETTLEMENT_STATUS_SETTLED
    assert not first.replayed
    assert again.replayed
    assert again.settlement_id == first.settlement_id
    assert again.settlement.SerializeToString(deterministic=True) == first.settlement.SerializeToString(
        deterministic=True
    )
    assert len(_list(stubs).settlements) == 1


def test_settle_answer_carries_every_block_of_the_settlement(start: Any, rpc_db_url: str) -> None:
    """A CAR-T + 惠民保 answer carries lines by payer, the basic leg, the commercial leg and the totals."""
    _, stubs = start(rpc_db_url)
    out = stubs.settlement.Settle(
        pb.SettleRequest(request_id="cart", bill=bill_msg("inpatient_car_t_huiminbao.json")), metadata=A
    )
    s = out.settlement
    assert s.hospital_code == HOSPITAL_A
    total = sum(a.amount_fen for ln in s.lines for a in ln.allocations)
    assert total == s.totals.medfee_sumamt_fen
    cidl = [ln for ln in s.lines if ln.HasField("cidl_no")]
    assert cidl
    assert all(not a.payer.startswith("fund:") for ln in cidl for a in ln.allocations)
    assert s.basic.hifp_pay_fen >= 0
    assert s.basic.pool_prop_selfpay
    assert [c.payer for c in s.commercial] == ["huiminbao"]
    assert s.totals.commercial_fen == s.commercial[0].paid_fen > 0
    patient = sum(a.amount_fen for ln in s.lines for a in ln.allocations if a.payer == "patient")
    assert s.totals.final_patient_cash_fen == patient
    assert s.versions.policy_id
    assert {leg.kind for leg in out.legs} == {pb.LEG_KIND_BASIC, pb.LEG_KIND_COMMERCIAL}


def test_same_request_id_with_another_bill_is_refused(start: Any, rpc_db_url: str) -> None:
    """A request id reused with a different body is FAILED_PRECONDITION IDEMPOTENCY_KEY_REUSED."""
    _, stubs = start(rpc_db_url)
    stubs.settlement.Settle(pb.SettleRequest(request_id="k", bill=bill_msg()), metadata=A)
    other = bill_msg(mdtrt_id="ANOTHER-VISIT")
    with pytest.raises(grpc.RpcError) as err:
        stubs.settlement.Settle(pb.SettleRequest(request_id="k", bill=other), metadata=A)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)["ErrorInfo"].reason == "IDEMPOTENCY_KEY_REUSED"


def test_reverse_get_and_replay_of_the_reversal(start: Any, rpc_db_url: str) -> None:
    """Reverse undoes every leg, GetSettlement then shows REVERSED, and a repeated reversal replays."""
    _, stubs = start(rpc_db_url)
    s = stubs.settlement.Settle(
        pb.SettleRequest(request_id="s", bill=bill_msg("work_injury_and_basic.json")), metadata=A
    )
    rev = stubs.settlement.Reverse(pb.ReverseRequest(settlement_id=s.settlement_id, request_id="rev-1"), metadata=A)
    assert rev.status == pb.SETTLEMENT_STATUS_REVERSED
    assert rev.reversed_fen == sum(leg.paid_fen for leg in s.legs)
    assert all(leg.status in (pb.LEG_STATUS_REVERSED, pb.LEG_STATUS_CANCELLED) for leg in rev.legs)
    again = stubs.settlement.Reverse(pb.ReverseRequest(settlement_id=s.settlement_id, request_id="rev-1"), metadata=A)
    assert again.replayed
    assert again.reversed_fen == rev.reversed_fen
    got = stubs.settlement.GetSettlement(pb.GetSettlementRequest(settlement_id=s.settlement_id), metadata=A)
    assert got.settlement.status == pb.SETTLEMENT_STATUS_REVERSED
    assert got.settlement.settlement == s.settlement


def test_list_pages_through_a_hospital_s_settlements(start: Any, rpc_db_url: str) -> None:
    """ListSettlements pages oldest first; following next_page_token visits each settlement once."""
    _, stubs = start(rpc_db_url)
    ids = {
        stubs.settlement.Settle(
            pb.SettleRequest(request_id=f"r{i}", bill=bill_msg(mdtrt_id=f"MDTRT-{i}")), metadata=A
        ).settlement_id
        for i in range(5)
    }
    seen: list[str] = []
    token = ""
    while True:
        page = _list(stubs, page_size=2, page_token=token)
        assert len(page.settlements) <= 2
        seen += [r.settlement_id for r in page.settlements]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(ids)


def test_reconcile_totals_per_payer_and_fund_type(start: Any, rpc_db_url: str) -> None:
    """Reconcile sums the day's settlements per payer and insutype, net of reversals that day."""
    _, stubs = start(rpc_db_url)
    a = stubs.settlement.Settle(pb.SettleRequest(request_id="a", bill=bill_msg()), metadata=A)
    b = stubs.settlement.Settle(
        pb.SettleRequest(request_id="b", bill=bill_msg("inpatient_car_t_huiminbao.json")), metadata=A
    )
    stubs.settlement.Reverse(pb.ReverseRequest(settlement_id=a.settlement_id, request_id="ra"), metadata=A)
    day = stubs.settlement.GetSettlement(pb.GetSettlementRequest(settlement_id=b.settlement_id), metadata=A)
    rep = stubs.settlement.Reconcile(pb.ReconcileRequest(day=day.settlement.settle_date), metadata=A)
    assert rep.count == 2
    assert sorted(rep.settlement_ids) == sorted([a.settlement_id, b.settlement_id])
    hmb = [ln for ln in rep.lines if ln.payer == "commercial:huiminbao"]
    assert len(hmb) == 1
    assert hmb[0].settled_fen == b.settlement.totals.commercial_fen
    assert all(ln.net_fen == ln.settled_fen - ln.reversed_fen for ln in rep.lines)
    assert sum(ln.net_fen for ln in rep.lines) == sum(
        al.amount_fen for ln in b.settlement.lines for al in ln.allocations if al.payer != "patient"
    )


def test_ping_names_the_authenticated_hospital(start: Any) -> None:
    """Ping does nothing but authenticate: it echoes the caller's hospital."""
    _, stubs = start()
    assert stubs.settlement.Ping(pb.PingRequest(), metadata=A).hospital_code == HOSPITAL_A


def test_bad_dates_in_list_and_reconcile_name_the_field(start: Any) -> None:
    """A malformed date is INVALID_ARGUMENT with a field violation naming it."""
    _, stubs = start()
    with pytest.raises(grpc.RpcError) as err:
        stubs.settlement.Reconcile(pb.ReconcileRequest(day="2026-13-01"), metadata=A)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in details(err.value)["BadRequest"].field_violations] == ["day"]
    with pytest.raises(grpc.RpcError) as err:
        stubs.settlement.ListSettlements(pb.ListSettlementsRequest(date_from="x", date_to="2026-01-01"), metadata=A)
    assert [v.field for v in details(err.value)["BadRequest"].field_violations] == ["date_from"]
