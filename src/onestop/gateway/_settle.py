"""Pre-settle, settle and the driven flow (fresh and on recovery): intent, payer legs, outcome.

Durable ordering (``docs/gateway-storage.md``): the intent (key, settlement, legs with their
references) is committed before any payer call; every payer call is recorded before it is sent;
the outcome, the accumulator deltas and the idempotency answer are committed in one transaction.
A bill that needs no payer call (local engine, no configured insurer) is one transaction.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from onestop import errors
from onestop.domain.bill import Bill
from onestop.domain.offer import AnswerStatus, CommercialAnswer
from onestop.domain.settlement import Settlement
from onestop.engine import FundsState, apply_commercial, check_settlement, finalize, settle_funds
from onestop.errors import (
    IntegrityViolation,
    OnestopError,
    PayerDeclined,
    PayerError,
    PayerTimeout,
)
from onestop.gateway import legs as lg
from onestop.gateway._base import (
    _PAID,
    _STANDING,
    Caller,
    GatewayBase,
    RequestInProgress,
    _acc_deltas,
    _check_request_id,
    _error_json,
    _Flow,
    _fund_leg_paid,
    _fund_paid,
    _Leg,
    _line_rows,
    _log,
    bill_in_scope,
)
from onestop.gateway.models import (
    LegStatus,
    SettlementStatus,
    SettleOutcome,
)
from onestop.sdk import (
    ChannelSettleInput,
    ChannelSettleResult,
    PreSettleInput,
)
from onestop.testing.faults import crash_point

__all__ = ["Settling"]


def _answer_json(outcome: SettleOutcome, settlement_json: str) -> str:
    """The stored answer ``{"outcome": …}``: the outcome's JSON with its settlement's, serialised once, spliced in.

    Read back by ``model_validate_json``, so key order does not matter; re-encoding a parsed copy cost
    10 ms on a 500-line bill, and serialising the settlement a second time half of that.
    """
    rest = outcome.model_dump_json(exclude={"settlement"})
    return '{"outcome":' + rest[:-1] + ',"settlement":' + settlement_json + "}}"


@dataclass(frozen=True, slots=True)
class _OutcomeRows:
    """What the outcome transaction writes, computed and serialised before it starts (shorter lock)."""

    lines: list[dict[str, Any]]
    deltas: dict[str, int]
    settlement_json: str
    fund_paid: int
    answer_json: str

    @classmethod
    def of(cls, sid: str, settlement: Settlement, outcome: SettleOutcome) -> _OutcomeRows:
        settlement_json = settlement.model_dump_json()
        return cls(
            lines=_line_rows(sid, settlement),
            deltas=_acc_deltas(settlement),
            settlement_json=settlement_json,
            fund_paid=_fund_paid(settlement),
            answer_json=_answer_json(outcome, settlement_json),
        )


class Settling(GatewayBase):
    """Pre-settle and settle (see :class:`onestop.gateway.Gateway`)."""

    # -- pre-settle -------------------------------------------------------------------------------

    def pre_settle(self, caller: Caller, bill: Bill, *, deadline: float | None = None) -> Settlement:
        """A trial settlement: no side effect, nothing stored, no accumulator changed.

        Commercial payers are asked for a trial (``pre_settle``) where they offer it; a payer
        without the flow, or one that fails, is shown as paying nothing with the reason.

        Args:
            caller: The calling hospital (must be the bill's hospital).
            bill: The validated bill.
            deadline: Seconds the caller still waits (payer calls are cut to fit).

        Raises:
            PermissionDenied: The bill names another hospital.
            BillOutOfScope: No catalog edition or regional policy covers the bill (FAILED_PRECONDITION).
        """
        with bill_in_scope(bill):
            return self._pre_settle(caller, bill, deadline)

    def _pre_settle(self, caller: Caller, bill: Bill, deadline: float | None) -> Settlement:
        self._own(caller, bill)
        timeout_at = time.monotonic() + deadline if deadline is not None else None
        policy = self._policy(bill)
        with self.store.read() as conn:
            acc = self.store.accumulators(conn, self._person(bill))
        state = settle_funds(bill, self.catalogs, policy, acc, treatment_policy=self._treatment(bill))
        for idx, cov in enumerate(bill.coverages):
            offer = state.offer_for(idx)
            caller_ = self._insurers.get(cov.payer)
            if caller_ is None:
                answer = lg.unpaid_answer(offer, AnswerStatus.DECLINED, "PAYER_NOT_CONFIGURED")
            else:
                cap = self.config.call_policy.timeout_s
                left = cap if timeout_at is None else max(0.001, min(cap, timeout_at - time.monotonic()))
                try:
                    trial = self._loop.run(caller_.pre_settle(PreSettleInput(offer=offer)), left)
                    answer = trial.to_answer()
                    if answer.status not in _PAID and answer.status is not AnswerStatus.DECLINED:
                        answer = lg.unpaid_answer(offer, answer.status, answer.reason or "OUTCOME_UNKNOWN")
                except errors.UnsupportedFlow:
                    answer = lg.unpaid_answer(offer, AnswerStatus.DECLINED, "TRIAL_NOT_OFFERED")
                except (PayerError, TimeoutError, OSError) as exc:
                    answer = lg.unpaid_answer(offer, AnswerStatus.UNKNOWN, getattr(exc, "reason", "OUTCOME_UNKNOWN"))
            try:
                state = apply_commercial(state, answer, offer=offer)
            except IntegrityViolation:
                state = apply_commercial(
                    state, lg.unpaid_answer(offer, AnswerStatus.UNKNOWN, "INTEGRITY_VIOLATION"), offer=offer
                )
        settlement = finalize(state)
        check_settlement(settlement)
        return settlement

    # -- settle ----------------------------------------------------------------------------------

    def settle(
        self, caller: Caller, request_id: str, bill: Bill, fingerprint: bytes, *, deadline: float | None = None
    ) -> SettleOutcome:
        """Settle a bill once per (hospital, request_id).

        Args:
            caller: The calling hospital (must be the bill's hospital).
            request_id: The client's idempotency key.
            bill: The validated bill.
            fingerprint: sha256 of the canonical request body.
            deadline: Seconds the caller still waits.

        Returns:
            The outcome; ``replayed=True`` with the stored settlement for a repeated identical request.

        Raises:
            IdempotencyKeyReused: Same (hospital, request_id) with another fingerprint.
            RequestInProgress: The same request is still executing (retry with the same id).
            PayerError: A fund leg failed (the settlement is FAILED; a replay raises the same error).
            BillOutOfScope: No catalog edition or regional policy covers the bill (FAILED_PRECONDITION);
                nothing is stored.
        """
        with bill_in_scope(bill):
            return self._settle(caller, request_id, bill, fingerprint, deadline)

    def _settle(
        self, caller: Caller, request_id: str, bill: Bill, fingerprint: bytes, deadline: float | None
    ) -> SettleOutcome:
        self._own(caller, bill)
        _check_request_id(request_id)
        hospital = caller.hospital_code
        person = self._person(bill)
        # One read answers a repeated request, or gives a new one the accumulators it is first priced on.
        with self.store.read() as conn:
            key = self.store.key(conn, hospital, request_id)
            seen = self.store.accumulators(conn, person) if key is None else None
        if key is not None:
            doc = self._answer_of(key, hospital, request_id, "settle", fingerprint, deadline)
            if doc is not None:
                return SettleOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(
                    update={"replayed": True}
                )
        timeout_at = time.monotonic() + deadline if deadline is not None else None
        policy = self._policy(bill)
        sid = uuid.uuid4().hex
        # Payer calls (and every other event of this settlement) are logged under its id.
        with structlog.contextvars.bound_contextvars(settlement_id=sid), self._person_lock(person):
            started = self._start(
                caller, request_id, bill, fingerprint, policy, person, timeout_at, deadline, seen, sid=sid
            )
            if isinstance(started, SettleOutcome):
                return started
            try:
                return self._drive(started[0], resume=False, priced=started[1])
            finally:
                self._notify()

    def _start(
        self,
        caller: Caller,
        request_id: str,
        bill: Bill,
        fingerprint: bytes,
        policy: Any,
        person: str,
        timeout_at: float | None,
        deadline: float | None,
        seen: dict[str, int] | None = None,
        *,
        sid: str,
    ) -> SettleOutcome | tuple[_Flow, FundsState]:
        """Price and record the intent under the person-year lock; the outcome too when no payer is called.

        The accumulators are read inside the write transaction that holds the person's year rows, and
        the intent is written only with a price computed on exactly those accumulators, so a settlement
        in another process is priced after this one's deltas (or waits while this one's intent is
        pending). The price is usually computed before the transaction, on ``seen`` (the accumulators as
        last committed), and only checked there. A bill that calls no payer is written once, already
        settled: key answered, settlement SETTLED, lines and deltas, in the one transaction. Returns the
        outcome (local bill or replay), or the flow to drive.
        """
        hospital = caller.hospital_code
        years = sorted({bill.visit.admission_date.year, bill.visit.discharge_date.year})
        wait_until = time.monotonic() + (min(deadline, 30.0) if deadline is not None else 30.0)
        # Priced before the write transaction, so the engine and the serialisation do not hold the
        # (SQLite: database-wide) write lock; checked again under the lock.
        if seen is None:
            with self.store.read() as conn:
                seen = self.store.accumulators(conn, person)
        priced = self._price(sid, hospital, request_id, bill, policy, person, seen, timeout_at)
        while True:
            local: SettleOutcome | None = None
            try:
                with self.store.write() as conn:
                    claimed = priced[2] is None
                    busy = self.store.hold_person(conn, person, years, sid, claim=claimed)
                    if busy is None:
                        acc = self.store.accumulators(conn, person)
                        if acc != priced[0].acc:
                            # Another settlement of this person committed since: price again, under the lock.
                            priced = self._price(sid, hospital, request_id, bill, policy, person, acc, timeout_at)
                        flow, intent, local, rows, state = priced
                        if local is None or rows is None:
                            if not claimed:  # re-priced into a bill that calls a payer: it will be pending
                                self.store.hold_person(conn, person, years, sid)
                            self.store.insert_key(conn, hospital, request_id, "settle", fingerprint, sid)
                            self.store.insert_settlement(conn, **intent)
                        else:
                            self.store.insert_key(
                                conn, hospital, request_id, "settle", fingerprint, sid, response_json=rows.answer_json
                            )
                            self.store.insert_settlement(
                                conn,
                                **{
                                    **intent,
                                    "status": SettlementStatus.SETTLED.value,
                                    "settlement_json": rows.settlement_json,
                                    "fund_paid_fen": rows.fund_paid,
                                },
                            )
                        self.store.insert_legs(conn, [leg.row(sid) for leg in flow.legs])
                        for leg in flow.legs:
                            leg.dirty = False
                        if local is not None:
                            self._write_outcome(conn, flow, local.settlement, local, rows, fresh=True)
            except IntegrityError:
                doc = self._replay(hospital, request_id, "settle", fingerprint, deadline)
                if doc is None:
                    raise RequestInProgress("the request collided with itself; retry it") from None
                return SettleOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(
                    update={"replayed": True}
                )
            if busy is None:
                if local is not None:
                    crash_point("after_commit")
                    return local
                return flow, state
            # Another process's settlement of this person is between intent and outcome.
            doc = self._replay(hospital, request_id, "settle", fingerprint, deadline)
            if doc is not None:
                return SettleOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(
                    update={"replayed": True}
                )
            left = wait_until - time.monotonic()
            if left <= 0:
                raise RequestInProgress(
                    "another settlement of this person is in progress", metadata={"settlement_id": busy}
                )
            _log.debug("gateway.person_busy", held_by=busy)
            with self._done:
                self._done.wait(min(left, 0.05))

    def _price(
        self,
        sid: str,
        hospital: str,
        request_id: str,
        bill: Bill,
        policy: Any,
        person: str,
        acc: dict[str, int],
        timeout_at: float | None,
    ) -> tuple[_Flow, dict[str, Any], SettleOutcome | None, _OutcomeRows | None, FundsState]:
        """The flow, its intent row and, when no payer is called, its outcome and rows, priced on ``acc`` (pure).

        Raises what the engine raises for a bill it refuses, before anything is written.
        """
        state = settle_funds(bill, self.catalogs, policy, acc, treatment_policy=self._treatment(bill))
        legs = self._plan(sid, bill, state)
        flow = _Flow(sid, hospital, request_id, bill, policy, acc, person, legs, timeout_at)
        intent = self._intent_values(flow)
        local = rows = None
        if not any(leg.status == LegStatus.NEW.value for leg in flow.legs):
            local = self._local_outcome(flow, state)
            rows = _OutcomeRows.of(sid, local.settlement, local)
        return flow, intent, local, rows, state

    def _plan(self, sid: str, bill: Bill, state: FundsState) -> list[_Leg]:
        legs: list[_Leg] = []
        for kind in lg.fund_kinds(bill, state):
            if kind in self._channels:
                name = self.config.fund_routes[kind]
                legs.append(_Leg(lg.fund_reference(sid, kind), len(legs), kind, name, LegStatus.NEW.value))
            else:
                legs.append(_Leg(lg.fund_reference(sid, kind), len(legs), kind, "local", LegStatus.APPROVED.value))
        for idx, cov in enumerate(bill.coverages):
            ref = lg.commercial_reference(sid, idx, cov.payer)
            configured = cov.payer in self._insurers
            status = LegStatus.NEW if configured else LegStatus.DECLINED
            leg = _Leg(ref, len(legs), "commercial", cov.payer, status.value)
            if not configured:
                leg.reason = "PAYER_NOT_CONFIGURED"
            legs.append(leg)
        return legs

    def _intent_values(self, flow: _Flow) -> dict[str, Any]:
        b = flow.bill
        return {
            "settlement_id": flow.sid,
            "hospital_code": flow.hospital,
            "request_id": flow.request_id,
            "mdtrt_id": b.visit.mdtrt_id,
            "member_ref": flow.person,
            "insured_region": b.patient.insured_region,
            "insutype": b.patient.insutype.value,
            "med_type": b.visit.med_type.value,
            "settle_date": self._today(),
            "status": SettlementStatus.PENDING.value,
            "medfee_sumamt": sum(ln.amount_fen for ln in b.lines),
            "fund_paid_fen": 0,
            "bill_json": self.store.seal_bill(flow.sid, b.model_dump_json()),
            "accumulators_json": json.dumps(flow.acc, sort_keys=True),
            "error_reason": "",
        }

    def _local_outcome(self, flow: _Flow, state: FundsState) -> SettleOutcome:
        """The fast path: no payer call, so the outcome is computed now and stored with the intent."""
        for idx, _cov in enumerate(flow.bill.coverages):
            leg = self._commercial_leg(flow, idx)
            offer = state.offer_for(idx, reference=leg.reference)
            answer = lg.unpaid_answer(offer, AnswerStatus.DECLINED, leg.reason or "PAYER_NOT_CONFIGURED")
            state = apply_commercial(state, answer, offer=offer)
            leg.set(offered_fen=offer.total, result_json=answer.model_dump_json())
        settlement = finalize(state)
        check_settlement(settlement)
        return self._outcome(flow, settlement)

    def _commercial_leg(self, flow: _Flow, idx: int) -> _Leg:
        ref = lg.commercial_reference(flow.sid, idx, flow.bill.coverages[idx].payer)
        return next(leg for leg in flow.legs if leg.reference == ref)

    def _outcome(self, flow: _Flow, settlement: Settlement) -> SettleOutcome:
        for leg in flow.legs:
            if leg.kind != "commercial" and leg.status in _STANDING:
                leg.set(paid_fen=_fund_leg_paid(settlement, leg.kind))
        return SettleOutcome(
            settlement_id=flow.sid,
            status=SettlementStatus.SETTLED,
            settlement=settlement,
            replayed=False,
            legs=tuple(leg.outcome() for leg in flow.legs),
        )

    def _flush_legs(self, conn: Connection, flow: _Flow) -> None:
        for leg in flow.legs:
            if leg.dirty:
                self.store.update_leg(
                    conn,
                    leg.reference,
                    **{k: v for k, v in leg.row(flow.sid).items() if k not in ("reference", "settlement_id")},
                )
                leg.dirty = False

    def _finish_calls(self, conn: Connection, flow: _Flow) -> None:
        """Close the ``adapter_calls`` rows of the settle calls this flow made, with the answer each got.

        The answer, not the leg's final status: a leg approved and then undone because another leg failed
        was still answered ``approved``.
        """
        for leg in flow.legs:
            if not leg.answered:
                continue  # not called by this flow (local, not configured, or never reached)
            done = leg.answered in (*_STANDING, LegStatus.DECLINED.value)
            self.store.finish_calls(conn, leg.reference, "settle", "done" if done else "failed", leg.answered)

    def _write_outcome(
        self,
        conn: Connection,
        flow: _Flow,
        settlement: Settlement,
        outcome: SettleOutcome,
        rows: _OutcomeRows | None = None,
        *,
        fresh: bool = False,
    ) -> None:
        """Write the outcome in ``conn``'s transaction.

        ``fresh``: the settlement row and its key were inserted in this transaction already in their
        final state (a bill that calls no payer), so only lines, deltas and queue entries remain.
        """
        rows = rows or _OutcomeRows.of(flow.sid, settlement, outcome)
        self._flush_legs(conn, flow)
        if not fresh:
            self._finish_calls(conn, flow)
        self.store.insert_lines(conn, rows.lines)
        self.store.apply_accumulators(conn, f"{flow.sid}:settle", flow.person, rows.deltas, fresh=fresh)
        if not fresh:
            self.store.update_settlement(
                conn,
                flow.sid,
                status=SettlementStatus.SETTLED.value,
                settlement_json=rows.settlement_json,
                fund_paid_fen=rows.fund_paid,
            )
        for leg in flow.legs:
            if leg.kind == "commercial" and leg.status == LegStatus.UNKNOWN.value:
                self.store.enqueue(
                    conn,
                    reference=leg.reference,
                    action="cancel",
                    sid=flow.sid,
                    payer=leg.payer,
                    kind="commercial",
                    offered_fen=leg.offered_fen,
                    reason=leg.reason or "OUTCOME_UNKNOWN",
                )
        if not fresh:
            self.store.complete_key(conn, flow.hospital, flow.request_id, rows.answer_json)
        crash_point("before_commit")

    # -- the driven flow (fresh and on recovery) --------------------------------------------------

    def _drive(self, flow: _Flow, *, resume: bool, priced: FundsState | None = None) -> SettleOutcome:
        centre: dict[str, Any] = {}
        failure = self._fund_wave(flow, centre, resume=resume)
        if failure is not None:
            self._fail(flow, failure)
            raise failure
        try:
            if priced is not None and not centre:
                # No fund channel answered: the funds stage priced at the intent on these accumulators stands.
                state = priced
            else:
                state = settle_funds(
                    flow.bill,
                    self.catalogs,
                    flow.policy,
                    flow.acc,
                    centre_basic=centre.get("basic"),
                    treatment_policy=self._treatment(flow.bill),
                )
            self._cross_check(state, centre)
        except OnestopError as exc:
            self._compensate_funds(flow)
            self._fail(flow, exc)
            raise
        for idx in range(len(flow.bill.coverages)):
            state = self._commercial(flow, state, idx, resume=resume)
        try:
            settlement = finalize(state)
            check_settlement(settlement)
        except Exception as exc:  # a broken invariant: undo everything rather than record it
            self._compensate_funds(flow)
            self._compensate_commercial(flow)
            err = OnestopError(f"settlement failed its invariant check: {type(exc).__name__}")
            self._fail(flow, err)
            raise err from None
        outcome = self._outcome(flow, settlement)
        rows = _OutcomeRows.of(flow.sid, settlement, outcome)  # serialised before taking the write lock
        with self.store.write() as conn:
            self._write_outcome(conn, flow, settlement, outcome, rows)
        crash_point("after_commit")
        return outcome

    def _cross_check(self, state: FundsState, centre: Mapping[str, Any]) -> None:
        for kind in ("work_injury", "maternity"):
            leg = centre.get(kind)
            if leg is None:
                continue
            mine = getattr(state, kind)
            ours = int(getattr(mine, "fund_pay_fen", 0) or 0) if mine is not None else 0
            theirs = int(leg.fund_pay_fen)
            if ours != theirs:
                raise IntegrityViolation(
                    f"{kind} channel paid {theirs} fen, the engine computes {ours}", payer=kind, flow="settle"
                )

    def _fund_wave(self, flow: _Flow, centre: dict[str, Any], *, resume: bool) -> OnestopError | None:
        """Fund legs through channels, concurrently. Returns the failure that fails the settlement, if any."""
        chan = [leg for leg in flow.legs if leg.kind != "commercial" and leg.payer != "local"]
        to_send = [leg for leg in chan if leg.status == LegStatus.NEW.value]
        interrupted = [leg for leg in chan if leg.status == LegStatus.CALLED.value]
        for leg in chan:
            if leg.status in _STANDING and leg.result_json:
                centre[leg.kind] = ChannelSettleResult.model_validate_json(leg.result_json).leg
        if to_send:
            with self.store.write() as conn:
                for leg in to_send:
                    leg.set(status=LegStatus.CALLED.value)
                    self.store.record_call(conn, flow.sid, leg.reference, leg.payer, "settle", leg.reference)
                self._flush_legs(conn, flow)
            results = self._send_funds(flow, to_send)
            crash_point("in_adapter_call")
            for leg, res in zip(to_send, results, strict=True):
                if isinstance(res, ChannelSettleResult) and res.status in _PAID:
                    centre[leg.kind] = res.leg
                    leg.set(
                        status=lg.leg_status(res.status).value,
                        setl_id=res.setl_id,
                        result_json=res.model_dump_json(),
                        reason=res.reason.value,
                    )
                elif isinstance(res, ChannelSettleResult) and res.status is AnswerStatus.DECLINED:
                    leg.set(status=LegStatus.DECLINED.value, reason=res.reason.value or "DECLINED")
                else:
                    leg.set(status=LegStatus.UNKNOWN.value, reason="OUTCOME_UNKNOWN")
                leg.answered = leg.status
        for leg in interrupted:
            # A send whose answer was never recorded: reverse it by its reference (2601), never re-send.
            leg.set(status=LegStatus.UNKNOWN.value, reason="INTERRUPTED")
        bad = [leg for leg in chan if leg.status not in _STANDING]
        if not bad:
            return None
        self._compensate_funds(flow)
        declined = [leg for leg in bad if leg.status == LegStatus.DECLINED.value]
        if declined:
            first = declined[0]
            return PayerDeclined(
                f"the {first.kind} fund leg was declined", payer=first.payer, flow="settle", raw_code=first.reason
            )
        first = bad[0]
        return PayerTimeout(
            f"the {first.kind} fund leg's outcome is unknown; it is being reversed", payer=first.payer, flow="settle"
        )

    def _send_funds(self, flow: _Flow, legs: list[_Leg]) -> list[Any]:
        async def one(leg: _Leg) -> Any:
            caller = self._channels[leg.kind]
            return await caller.settle(
                ChannelSettleInput(reference=leg.reference, bill=flow.bill), reversal_reference=leg.reference + ":rev"
            )

        async def wave() -> list[Any]:
            import asyncio

            return list(await asyncio.gather(*(one(leg) for leg in legs), return_exceptions=True))

        try:
            return self._loop.run(wave(), flow.remaining(self.config.call_policy.settle_timeout_s))
        except TimeoutError:
            return [TimeoutError() for _ in legs]

    def _compensate_funds(self, flow: _Flow) -> None:
        """Undo fund legs that stand (cancel with their own reference); queue unknown ones for reversal."""
        for leg in flow.legs:
            if leg.kind == "commercial" or leg.payer == "local":
                continue
            if leg.status in _STANDING:
                self._undo_fund(flow.sid, leg)
            elif leg.status == LegStatus.UNKNOWN.value:
                leg.set(status=LegStatus.REVERSING.value)
                with self.store.write() as conn:
                    self.store.enqueue(
                        conn,
                        reference=leg.reference,
                        action="reverse",
                        sid=flow.sid,
                        payer=leg.payer,
                        kind=leg.kind,
                        offered_fen=0,
                        reason=leg.reason or "OUTCOME_UNKNOWN",
                    )
                    self._flush_legs(conn, flow)

    def _compensate_commercial(self, flow: _Flow) -> None:
        for leg in flow.legs:
            if leg.kind == "commercial" and leg.status in (*_STANDING, LegStatus.UNKNOWN.value):
                self._cancel_commercial(flow.sid, leg, reason="COMPENSATION")

    def _fail(self, flow: _Flow, exc: OnestopError) -> None:
        with self.store.write() as conn:
            self._flush_legs(conn, flow)
            self._finish_calls(conn, flow)
            self.store.update_settlement(
                conn,
                flow.sid,
                status=SettlementStatus.FAILED.value,
                error_reason=exc.reason,
                error_json=_error_json(exc),
            )
            self.store.complete_key(conn, flow.hospital, flow.request_id, _error_json(exc))
            crash_point("before_commit")
        _log.warning("gateway.settle_failed", settlement_id=flow.sid, reason=exc.reason)

    def _commercial(self, flow: _Flow, state: FundsState, idx: int, *, resume: bool) -> FundsState:
        leg = self._commercial_leg(flow, idx)
        offer = state.offer_for(idx, reference=leg.reference)
        to_cancel = False
        called = False
        if leg.result_json and leg.status not in (LegStatus.NEW.value, LegStatus.CALLED.value):
            answer = CommercialAnswer.model_validate_json(leg.result_json)
        elif leg.status == LegStatus.DECLINED.value:
            answer = lg.unpaid_answer(offer, AnswerStatus.DECLINED, leg.reason or "PAYER_NOT_CONFIGURED")
        else:
            caller = self._insurers[leg.payer]
            again = leg.status == LegStatus.CALLED.value
            if not again:
                with self.store.write() as conn:
                    leg.set(status=LegStatus.CALLED.value, offered_fen=offer.total)
                    self._flush_legs(conn, flow)
                    self.store.record_call(conn, flow.sid, leg.reference, leg.payer, "settle", leg.reference)
            answer, to_cancel = lg.settle_commercial(
                self._loop, caller, offer, flow.remaining(self.config.call_policy.settle_timeout_s), resume=again
            )
            crash_point("in_adapter_call")
            called = True
        try:
            new_state = apply_commercial(state, answer, offer=offer)
        except IntegrityViolation:
            answer = lg.unpaid_answer(offer, AnswerStatus.UNKNOWN, "INTEGRITY_VIOLATION")
            to_cancel = True
            new_state = apply_commercial(state, answer, offer=offer)
        got = new_state.commercial[-1]
        status = LegStatus.UNKNOWN if to_cancel else lg.leg_status(got.status)
        # The answer must say why a leg paid less than offered, even when the payer gave no reason.
        why = got.reason or ("" if status is LegStatus.APPROVED else f"PAYER_{status.value.upper()}")
        leg.set(
            status=status.value,
            offered_fen=offer.total,
            paid_fen=int(got.paid_fen),
            reason=why,
            payer_claim_id=got.payer_claim_id,
            result_json=answer.model_dump_json(),
        )
        if called:
            leg.answered = status.value
        return new_state

    def _recover_one(self, sid: str) -> SettleOutcome:
        with self.store.read() as conn:
            row = self.store.settlement(conn, sid)
            legs = [_Leg.from_row(r) for r in self.store.legs(conn, sid)]
        assert row is not None
        m = row._mapping
        bill = Bill.model_validate_json(self.store.open_bill(sid, m["bill_json"]))
        flow = _Flow(
            sid=sid,
            hospital=m["hospital_code"],
            request_id=m["request_id"],
            bill=bill,
            policy=self._policy(bill),
            acc={k: int(v) for k, v in json.loads(m["accumulators_json"] or "{}").items()},
            person=m["member_ref"],
            legs=legs,
            timeout_at=None,
        )
        _log.info("gateway.recovering", settlement_id=sid)
        with structlog.contextvars.bound_contextvars(settlement_id=sid), self._person_lock(flow.person):
            try:
                return self._drive(flow, resume=True)
            finally:
                self._notify()
