"""A supplementary settlement interrupted inside the payer call is finished by recovery, never re-sent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gateway.core.gwcore_helpers import HOSPITAL, Crash, bill_doc, fp, make_bill

from onestop.gateway import Caller, Gateway, LegStatus
from onestop.testing import FakeInsurer, FakeStep

ME = Caller(HOSPITAL)
Open = Callable[..., Gateway]


def _interrupted(open_gateway: Open, *, effect: bool) -> tuple[Gateway, FakeInsurer, str, str]:
    """A settlement whose 惠民保 leg was declined, then a supplement that dies inside the payer call.

    With ``effect`` the payer paid before the process died (the answer is lost); without, it died
    before the payer acted.
    """
    ins = FakeInsurer.variant(name="huiminbao")()
    gw = open_gateway(insurers={"huiminbao": ins}, recover_on_open=False)
    ins.script("settle", FakeStep(raw_status="REJ"), FakeStep(after=effect, raise_=Crash("in_adapter_call")))
    bill = make_bill(bill_doc("inpatient_car_t_huiminbao.json"))
    out = gw.settle(ME, "r-1", bill, fp(bill))
    assert out.settlement.totals.commercial_fen == 0
    with pytest.raises(Crash):
        gw.supplement(ME, out.settlement_id, "huiminbao", "sup-1")
    leg = gw.get(ME, out.settlement_id).legs[-1]
    assert leg.status is LegStatus.CALLED
    with gw.store.read() as conn:
        key = gw.store.key(conn, HOSPITAL, "sup-1")
    assert key is not None
    assert key.state == "running"
    return gw, ins, out.settlement_id, leg.reference


def test_recovery_resolves_a_paid_supplement_by_query_and_answers_its_key(open_gateway: Open) -> None:
    """The payer paid but the answer was lost: recovery queries by the supplement's reference, moves the
    payment off the patient, stores the answer under the request id, and sends no second settle."""
    gw, ins, sid, ref = _interrupted(open_gateway, effect=True)
    before = gw.get(ME, sid).settlement
    assert before is not None
    fresh = open_gateway(insurers={"huiminbao": ins}, recover_on_open=False)
    assert fresh.recover() == 1
    assert [c for c in ins.calls if c[1] == ref] == [("settle", ref), ("query", ref)]
    rec = fresh.get(ME, sid)
    assert rec.legs[-1].status is LegStatus.APPROVED
    assert rec.settlement is not None
    paid = rec.settlement.totals.commercial_fen
    assert paid == rec.legs[-1].paid_fen > 0
    assert rec.settlement.totals.final_patient_cash_fen == before.totals.final_patient_cash_fen - paid
    again = fresh.supplement(ME, sid, "huiminbao", "sup-1")
    assert again.replayed
    assert again.settlement == rec.settlement
    assert fresh.recover() == 0


def test_recovery_releases_the_key_of_a_supplement_the_payer_never_saw(open_gateway: Open) -> None:
    """The process died before the payer acted: the leg is closed as declined after a query, the key is
    released, and the hospital's retry under the same request id settles under a new reference."""
    _gw, ins, sid, ref = _interrupted(open_gateway, effect=False)
    fresh = open_gateway(insurers={"huiminbao": ins}, recover_on_open=False)
    assert fresh.recover() == 1
    rec = fresh.get(ME, sid)
    assert rec.legs[-1].status is LegStatus.DECLINED
    assert rec.settlement is not None
    assert rec.settlement.totals.commercial_fen == 0
    with fresh.store.read() as conn:
        assert fresh.store.key(conn, HOSPITAL, "sup-1") is None
    retry = fresh.supplement(ME, sid, "huiminbao", "sup-1")
    assert not retry.replayed
    assert retry.legs[-1].reference == ref[: -len("1")] + "2"
    assert retry.legs[-1].status is LegStatus.APPROVED
    assert retry.settlement.totals.commercial_fen > 0
    assert [c[0] for c in ins.calls if c[1] == ref] == ["settle", "query"]
