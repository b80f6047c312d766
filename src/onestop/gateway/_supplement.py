"""Supplementary settlement (补充结算) of a commercial leg left unpaid at the cashier.

The payer is offered what the patient still carries after the stored settlement (per line and
category), under a new leg reference ``<leg>:s<n>``; what it pays moves from the patient's cells to
the payer's. The settlement row is rewritten in the same transaction that stores the answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from onestop.domain.bill import Bill
from onestop.domain.offer import PAYABLE, AnswerStatus, Category, CommercialAnswer, LineOffer, Offer
from onestop.domain.settlement import Allocation, CommercialLeg, PayerKey, Settlement, SplitCategory
from onestop.engine import check_settlement, settle_funds
from onestop.errors import IntegrityViolation, InvalidState
from onestop.gateway import legs as lg
from onestop.gateway._base import _check_request_id, _Leg, _line_rows
from onestop.gateway.models import LegStatus, SettlementStatus, SettleOutcome
from onestop.gateway.store import schema as t
from onestop.money import Fen, allocate_ints
from onestop.testing.faults import crash_point

if TYPE_CHECKING:
    from onestop.gateway.service import Caller, Gateway

__all__ = ["apply_to_settlement", "recover_supplements", "supplement"]

_log = structlog.get_logger("onestop.gateway")

_PAYER_RANK = {PayerKey.WORK_INJURY: 1, PayerKey.EMPLOYER: 2, PayerKey.ACCOUNT: 4, PayerKey.PATIENT: 5}
_CAT_RANK = {c: i for i, c in enumerate(SplitCategory)}


def _cell_key(a: Allocation) -> tuple[int, str, int]:
    rank = 0 if a.payer.startswith("fund:") else _PAYER_RANK.get(a.payer, 3)
    return (rank, a.payer, _CAT_RANK[a.category])


def _patient_left(settlement: Settlement) -> dict[str, dict[Category, int]]:
    out: dict[str, dict[Category, int]] = {}
    for ln in settlement.lines:
        cats: dict[Category, int] = {}
        for a in ln.allocations:
            if a.payer == PayerKey.PATIENT and a.amount_fen:
                cat = Category(a.category.value)
                cats[cat] = cats.get(cat, 0) + a.amount_fen
        out[ln.feedetl_sn] = cats
    return out


def supplement_offer(base: Offer, settlement: Settlement) -> Offer:
    """``base`` (the engine's offer to the payer) with amounts replaced by what the patient still carries."""
    left = _patient_left(settlement)
    lines: list[LineOffer] = []
    for lo in base.lines:
        amounts = {c: Fen(v) for c, v in left.get(lo.feedetl_sn, {}).items() if v}
        if amounts:
            lines.append(lo.model_copy(update={"amounts": amounts}))
    totals: dict[Category, int] = {}
    for cats in left.values():
        for c, v in cats.items():
            totals[c] = totals.get(c, 0) + v
    order = list(Category)
    return base.model_copy(
        update={"lines": tuple(lines), "totals": {c: Fen(totals[c]) for c in sorted(totals, key=order.index)}}
    )


def apply_to_settlement(
    settlement: Settlement, offer: Offer, answer: CommercialAnswer, leg: CommercialLeg
) -> Settlement:
    """Move what ``answer`` pays from the patient's cells to the payer's; checked like the engine's answers.

    Raises:
        IntegrityViolation: The answer pays more than the patient carries on a line or category.
    """
    left = _patient_left(settlement)
    pay: dict[str, dict[Category, int]] = {sn: {} for sn in left}

    def bad(msg: str) -> IntegrityViolation:
        return IntegrityViolation(f"{answer.payer}: {msg}", payer=answer.payer, flow="settle")

    if answer.status in (AnswerStatus.APPROVED, AnswerStatus.PARTIAL):
        if answer.lines and answer.totals:
            raise bad("an answer is either per line or per category total, not both")
        for lp in answer.lines:
            if lp.feedetl_sn not in left:
                raise bad(f"line {lp.feedetl_sn!r} was not offered")
            for cat, amount in lp.amounts.items():
                if cat not in PAYABLE or amount > left[lp.feedetl_sn].get(cat, 0):
                    raise bad(f"line {lp.feedetl_sn}: pays more than offered in {cat.value}")
                pay[lp.feedetl_sn][cat] = pay[lp.feedetl_sn].get(cat, 0) + int(amount)
        sns = sorted(left)
        for cat, amount in answer.totals.items():
            avail = [left[sn].get(cat, 0) for sn in sns]
            if cat not in PAYABLE or amount > sum(avail):
                raise bad(f"pays more than offered in {cat.value}")
            if amount:
                for sn, part in zip(sns, allocate_ints(int(amount), avail, sns), strict=True):
                    if part:
                        pay[sn][cat] = pay[sn].get(cat, 0) + part
    elif answer.lines or any(answer.totals.values()):
        raise bad(f"a {answer.status.value} answer cannot carry payments")
    key = PayerKey.commercial(answer.payer)
    paid = 0
    new_lines = []
    for ln in settlement.lines:
        cells: dict[tuple[str, SplitCategory], int] = {}
        for a in ln.allocations:
            cells[(a.payer, a.category)] = cells.get((a.payer, a.category), 0) + int(a.amount_fen)
        for cat, moved in pay[ln.feedetl_sn].items():
            sc = SplitCategory(cat.value)
            cells[(PayerKey.PATIENT, sc)] -= moved
            cells[(key, sc)] = cells.get((key, sc), 0) + moved
            paid += moved
        allocs = sorted(
            (Allocation(payer=p, category=c, amount_fen=Fen(v)) for (p, c), v in cells.items() if v), key=_cell_key
        )
        new_lines.append(ln.model_copy(update={"allocations": tuple(allocs)}))
    status = answer.status
    if status is AnswerStatus.APPROVED and paid < offer.total:
        status = AnswerStatus.PARTIAL
    if status is AnswerStatus.PARTIAL and paid == 0:
        status = AnswerStatus.DECLINED
    new_leg = leg.model_copy(
        update={
            "reference": offer.reference,
            "status": status,
            "offered_fen": Fen(offer.total),
            "paid_fen": Fen(paid),
            "reason": answer.reason,
            "raw_code": answer.raw_code,
            "raw_message": answer.raw_message,
            "payer_claim_id": answer.payer_claim_id,
        }
    )
    commercial = tuple(new_leg if c is leg else c for c in settlement.commercial)
    totals = settlement.totals.model_copy(
        update={
            "commercial_fen": Fen(settlement.totals.commercial_fen + paid),
            "final_patient_cash_fen": Fen(settlement.totals.final_patient_cash_fen - paid),
        }
    )
    out = settlement.model_copy(update={"lines": tuple(new_lines), "commercial": commercial, "totals": totals})
    check_settlement(out)
    return out


def _coverage_index(bill: Bill, payer: str) -> int:
    return next(i for i, c in enumerate(bill.coverages) if c.payer == payer)


def _fingerprint(settlement_id: str, payer: str) -> bytes:
    return hashlib.sha256(f"supplement\x00{settlement_id}\x00{payer}".encode()).digest()


@dataclass
class _Plan:
    """What a supplement sends and where its answer goes (rebuilt identically on recovery)."""

    settlement: Settlement
    offer: Offer
    target: CommercialLeg
    legs: list[_Leg]


def _plan(gw: Gateway, m: Any, bill: Bill, legs: list[_Leg], payer: str, ref: str) -> _Plan:
    """The offer of supplement ``ref``: the engine's offer to ``payer`` cut to what the patient still carries."""
    settlement = Settlement.model_validate_json(m["settlement_json"])
    idx = _coverage_index(bill, payer)
    acc: dict[str, Any] = json.loads(m["accumulators_json"] or "{}")
    centre = settlement.basic if settlement.basic is not None and settlement.basic.source != "engine" else None
    state = settle_funds(
        bill, gw.catalogs, gw._policy(bill), acc, centre_basic=centre, treatment_policy=gw._treatment(bill)
    )
    offer = supplement_offer(state.offer_for(idx, reference=ref), settlement)
    target = next(c for c in reversed(settlement.commercial) if c.payer == payer)
    return _Plan(settlement, offer, target, legs)


def supplement(
    gw: Gateway, caller: Caller, settlement_id: str, payer: str, request_id: str, deadline: float | None = None
) -> SettleOutcome:
    """See :meth:`onestop.gateway.Gateway.supplement`."""
    _check_request_id(request_id)
    row = gw._own_row(caller, settlement_id)
    hospital = caller.hospital_code
    fp = _fingerprint(settlement_id, payer)
    doc = gw._replay(hospital, request_id, "supplement", fp, deadline)
    if doc is not None:
        return SettleOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(update={"replayed": True})
    m = row._mapping
    if m["status"] != SettlementStatus.SETTLED.value:
        raise InvalidState(f"a {m['status']} settlement cannot be supplemented")
    with gw.store.read() as conn:
        legs = [_Leg.from_row(r) for r in gw.store.legs(conn, settlement_id)]
        queue = {(q.reference, q.state) for q in gw.store.queue_entries(conn, settlement_id)}
    mine = [g for g in legs if g.kind == "commercial" and g.payer == payer]
    if not mine:
        raise InvalidState(f"the settlement has no commercial leg for {payer!r}")
    last = mine[-1]
    if last.status in (LegStatus.APPROVED.value, LegStatus.PARTIAL.value, LegStatus.CALLED.value):
        raise InvalidState(f"the {payer} leg is not unpaid (status {last.status})")
    if (last.reference, "open") in queue or last.status in (LegStatus.UNKNOWN.value, LegStatus.REVERSING.value):
        raise InvalidState(f"the {payer} leg is still being resolved; supplement it once it is cancelled")
    ins = gw._insurers.get(payer)
    if ins is None:
        raise InvalidState(f"payer {payer!r} is not configured")
    bill = Bill.model_validate_json(gw.store.open_bill(settlement_id, m["bill_json"]))
    ref = f"{lg.commercial_reference(settlement_id, _coverage_index(bill, payer), payer)}:s{len(mine)}"
    plan = _plan(gw, m, bill, legs, payer, ref)
    leg = _Leg(ref, len(legs), "commercial", payer, LegStatus.CALLED.value, offered_fen=plan.offer.total)
    try:
        with gw.store.write() as conn:
            gw.store.insert_key(conn, hospital, request_id, "supplement", fp, settlement_id)
            gw.store.insert_legs(conn, [leg.row(settlement_id)])
            gw.store.record_call(conn, settlement_id, ref, payer, "settle", ref)
    except IntegrityError:
        doc = gw._replay(hospital, request_id, "supplement", fp, deadline)
        if doc is None:
            raise InvalidState("a supplement of this leg is already running") from None
        return SettleOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(update={"replayed": True})
    cap = gw.config.call_policy.settle_timeout_s
    left = cap if deadline is None else max(0.001, min(cap, deadline))
    answer, to_cancel = lg.settle_commercial(gw._loop, ins, plan.offer, left)
    crash_point("in_adapter_call")
    return _finish(gw, settlement_id, plan, leg, answer, to_cancel, (hospital, request_id), release=False)


def _finish(
    gw: Gateway,
    settlement_id: str,
    plan: _Plan,
    leg: _Leg,
    answer: CommercialAnswer,
    to_cancel: bool,
    key: tuple[str, str] | None,
    *,
    release: bool,
) -> SettleOutcome:
    """Store a supplement's answer: leg, lines, settlement, resolver entry and the key, in one transaction.

    With ``release`` (recovery) a key whose supplement paid nothing is deleted rather than answered,
    so the hospital can ask again under the same request id.
    """
    ref = leg.reference
    try:
        new = apply_to_settlement(plan.settlement, plan.offer, answer, plan.target)
    except IntegrityViolation:
        answer = lg.unpaid_answer(plan.offer, AnswerStatus.UNKNOWN, "INTEGRITY_VIOLATION")
        to_cancel = True
        new = apply_to_settlement(plan.settlement, plan.offer, answer, plan.target)
    got = next(c for c in new.commercial if c.reference == ref)
    status = LegStatus.UNKNOWN if to_cancel else lg.leg_status(got.status)
    leg.set(status=status.value, paid_fen=int(got.paid_fen), reason=got.reason, payer_claim_id=got.payer_claim_id)
    leg.result_json = answer.model_dump_json()
    legs = [g for g in plan.legs if g.reference != ref] + [leg]
    outcome = SettleOutcome(
        settlement_id=settlement_id,
        status=SettlementStatus.SETTLED,
        settlement=new,
        replayed=False,
        legs=tuple(g.outcome() for g in legs),
    )
    with gw.store.write() as conn:
        gw.store.update_leg(
            conn,
            ref,
            status=leg.status,
            paid_fen=leg.paid_fen,
            reason=leg.reason,
            payer_claim_id=leg.payer_claim_id,
            result_json=leg.result_json,
        )
        gw.store.finish_calls(conn, ref, "settle", "done", answer.status.value)
        conn.execute(delete(t.lines).where(t.lines.c.settlement_id == settlement_id))
        gw.store.insert_lines(conn, _line_rows(settlement_id, new))
        gw.store.update_settlement(conn, settlement_id, settlement_json=new.model_dump_json())
        if to_cancel:
            gw.store.enqueue(
                conn,
                reference=ref,
                action="cancel",
                sid=settlement_id,
                payer=leg.payer,
                kind="commercial",
                offered_fen=plan.offer.total,
                reason=leg.reason or "OUTCOME_UNKNOWN",
            )
        if key is not None:
            if release and not leg.paid_fen:
                gw.store.forget_key(conn, *key)
            else:
                body = json.dumps({"outcome": json.loads(outcome.model_dump_json())})
                gw.store.complete_key(conn, key[0], key[1], body)
        crash_point("before_commit")
    crash_point("after_commit")
    return outcome


def recover_supplements(gw: Gateway) -> int:
    """Finish every supplement whose payer call was sent but whose answer was never stored.

    The leg (``called``, on a SETTLED settlement) is resolved by a query with its own reference,
    never re-sent; what the payer paid moves to it as in :func:`supplement`. The supplement's
    idempotency key is released: answered when the payer paid, deleted when it did not (the
    hospital may ask again), so it never stays ``running``.

    Returns:
        How many supplements were finished.
    """
    lc, sc, kc = t.legs.c, t.settlements.c, t.idempotency_keys.c
    with gw.store.read() as conn:
        stuck = list(
            conn.execute(
                select(lc.reference, lc.settlement_id, lc.payer)
                .join(t.settlements, sc.settlement_id == lc.settlement_id)
                .where(
                    lc.kind == "commercial",
                    lc.status == LegStatus.CALLED.value,
                    sc.status == SettlementStatus.SETTLED.value,
                )
                .order_by(lc.settlement_id, lc.seq)
            )
        )
    done = 0
    for ref, sid, payer in stuck:
        ins = gw._insurers.get(payer)
        if ins is None:
            _log.warning("gateway.supplement_unrecovered", settlement_id=sid, reason="PAYER_NOT_CONFIGURED")
            continue
        with gw.store.read() as conn:
            row = gw.store.settlement(conn, sid)
            legs = [_Leg.from_row(r) for r in gw.store.legs(conn, sid)]
            key_row = conn.execute(
                select(kc.hospital_code, kc.request_id).where(
                    kc.settlement_id == sid,
                    kc.operation == "supplement",
                    kc.state == "running",
                    kc.fingerprint == _fingerprint(sid, payer),
                )
            ).first()
        assert row is not None
        bill = Bill.model_validate_json(gw.store.open_bill(sid, row._mapping["bill_json"]))
        plan = _plan(gw, row._mapping, bill, legs, payer, ref)
        leg = next(g for g in legs if g.reference == ref)
        answer, to_cancel = lg.settle_commercial(
            gw._loop, ins, plan.offer, gw.config.call_policy.settle_timeout_s, resume=True
        )
        key = (key_row.hospital_code, key_row.request_id) if key_row is not None else None
        _finish(gw, sid, plan, leg, answer, to_cancel, key, release=True)
        _log.info("gateway.supplement_recovered", settlement_id=sid, reference=ref, status=leg.status)
        done += 1
    return done
