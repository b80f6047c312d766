"""The gateway as a plain Python service: durable, idempotent settle / reverse / read / reconcile.

Transport (gRPC) builds a :class:`Caller` from the authenticated peer and calls one method per RPC;
every error raised is an ``onestop.errors`` class that transport maps to a gRPC status in one place.

Durable ordering (``docs/gateway-storage.md``): the intent (key, settlement, legs with their
references) is committed before any payer call; every payer call is recorded before it is sent;
the outcome, the accumulator deltas and the idempotency answer are committed in one transaction.
A bill that needs no payer call (local engine, no configured insurer) is one transaction.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import importlib
import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Connection, Row, select
from sqlalchemy.exc import IntegrityError

from onestop import errors
from onestop.domain.bill import Bill
from onestop.domain.offer import AnswerStatus, CommercialAnswer
from onestop.domain.settlement import PayerKey, Settlement
from onestop.engine import FundsState, apply_commercial, check_settlement, finalize, settle_funds
from onestop.errors import (
    IdempotencyKeyReused,
    IntegrityViolation,
    InvalidRequest,
    InvalidState,
    NotFound,
    OnestopError,
    PayerDeclined,
    PayerError,
    PayerTimeout,
    PermissionDenied,
)
from onestop.gateway import legs as lg
from onestop.gateway.config import GatewayConfig, data_sealer
from onestop.gateway.models import (
    LegKind,
    LegOutcome,
    LegStatus,
    ReconcileLine,
    ReconcileReport,
    ReverseOutcome,
    SettlementPage,
    SettlementRecord,
    SettlementStatus,
    SettleOutcome,
)
from onestop.gateway.store import SqlStateStore, Store, connect, migrate
from onestop.gateway.store import schema as t
from onestop.money import Fen
from onestop.sdk import (
    CancelInput,
    CancelOutcome,
    ChannelCaller,
    ChannelCancelInput,
    ChannelSettleInput,
    ChannelSettleResult,
    InsurerCaller,
    PreSettleInput,
)
from onestop.testing.faults import crash_point

__all__ = [
    "Caller",
    "Gateway",
    "GatewayConfig",
    "LegKind",
    "LegOutcome",
    "LegStatus",
    "ReconcileLine",
    "ReconcileReport",
    "RequestInProgress",
    "ReverseOutcome",
    "SettleOutcome",
    "SettlementPage",
    "SettlementRecord",
    "SettlementStatus",
]

_log = structlog.get_logger("onestop.gateway")
_CHINA = ZoneInfo("Asia/Shanghai")
_MAX_REQUEST_ID = 255
_MAX_PAGE = 500
_PAID = (AnswerStatus.APPROVED, AnswerStatus.PARTIAL)
_STANDING = (LegStatus.APPROVED.value, LegStatus.PARTIAL.value)
_LOCK_STRIPES = 256


class RequestInProgress(OnestopError):
    """The same request is still being executed elsewhere: retry it with the same request id."""

    grpc_code = "ABORTED"
    reason = "REQUEST_IN_PROGRESS"
    retryable = True
    localized = "相同请求正在处理中，请稍后以相同请求号重试"


@dataclass(frozen=True)
class Caller:
    """Who is calling; transport builds it from mTLS/token auth.

    Attributes:
        hospital_code: The hospital's fixmedins_code; every read and reversal is limited to it.
    """

    hospital_code: str


@dataclass
class _Leg:
    """One leg as the flow tracks it (mirrors a ``legs`` row)."""

    reference: str
    seq: int
    kind: str
    payer: str
    status: str
    offered_fen: int = 0
    paid_fen: int = 0
    reason: str = ""
    payer_claim_id: str = ""
    setl_id: str = ""
    result_json: str | None = None
    dirty: bool = False

    def row(self, sid: str) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "settlement_id": sid,
            "seq": self.seq,
            "kind": self.kind,
            "payer": self.payer,
            "status": self.status,
            "offered_fen": self.offered_fen,
            "paid_fen": self.paid_fen,
            "reason": self.reason,
            "payer_claim_id": self.payer_claim_id,
            "setl_id": self.setl_id,
            "result_json": self.result_json,
        }

    def set(self, **values: Any) -> None:
        for k, v in values.items():
            setattr(self, k, v)
        self.dirty = True

    def outcome(self) -> LegOutcome:
        return LegOutcome(
            kind=LegKind(self.kind),
            payer=self.payer,
            reference=self.reference,
            status=LegStatus(self.status),
            paid_fen=Fen(self.paid_fen),
            reason=self.reason,
        )

    @classmethod
    def from_row(cls, r: Row[Any]) -> _Leg:
        m = r._mapping
        return cls(
            reference=m["reference"],
            seq=m["seq"],
            kind=m["kind"],
            payer=m["payer"],
            status=m["status"],
            offered_fen=int(m["offered_fen"]),
            paid_fen=int(m["paid_fen"]),
            reason=m["reason"],
            payer_claim_id=m["payer_claim_id"],
            setl_id=m["setl_id"],
            result_json=m["result_json"],
        )


@dataclass
class _Flow:
    """Everything one settle needs between its transactions."""

    sid: str
    hospital: str
    request_id: str
    bill: Bill
    policy: Any
    acc: dict[str, int]
    person: str
    legs: list[_Leg]
    timeout_at: float | None

    def remaining(self, cap: float) -> float:
        if self.timeout_at is None:
            return cap
        return max(0.001, min(cap, self.timeout_at - time.monotonic()))


def _error_json(exc: OnestopError) -> str:
    return json.dumps(
        {"error": {"type": type(exc).__name__, "message": exc.message, "metadata": exc.metadata}}, sort_keys=True
    )


def _error_from(doc: Mapping[str, Any]) -> OnestopError:
    found = getattr(errors, str(doc.get("type", "")), None)
    md = {str(k): str(v) for k, v in dict(doc.get("metadata", {})).items()}
    msg = str(doc.get("message", ""))
    if isinstance(found, type) and issubclass(found, PayerError):
        payer, flow, raw = md.get("payer", ""), md.get("flow", ""), md.get("raw_code", "")
        return found(msg, payer=payer, flow=flow, raw_code=raw, metadata=md)
    if isinstance(found, type) and issubclass(found, OnestopError) and found.__init__ is OnestopError.__init__:
        return found(msg, metadata=md)
    return OnestopError(msg, metadata=md)


def _check_request_id(request_id: str) -> None:
    if not request_id or len(request_id) > _MAX_REQUEST_ID or not request_id.isprintable():
        raise InvalidRequest(
            "invalid request id",
            violations=(errors.FieldViolation("request_id", f"1 to {_MAX_REQUEST_ID} printable characters"),),
        )


def _fund_paid(settlement: Settlement) -> int:
    return sum(a.amount_fen for ln in settlement.lines for a in ln.allocations if PayerKey.is_fund(a.payer))


def _line_rows(sid: str, settlement: Settlement) -> list[dict[str, Any]]:
    out = []
    for ln in settlement.lines:
        by: dict[str, int] = {"fund": 0, "commercial": 0, "account": 0, "patient": 0}
        for a in ln.allocations:
            if PayerKey.is_fund(a.payer) or a.payer == PayerKey.EMPLOYER:
                by["fund"] += a.amount_fen
            elif a.payer.startswith("commercial:"):
                by["commercial"] += a.amount_fen
            elif a.payer == PayerKey.ACCOUNT:
                by["account"] += a.amount_fen
            else:
                by["patient"] += a.amount_fen
        out.append(
            {
                "settlement_id": sid,
                "feedetl_sn": ln.feedetl_sn,
                "national_code": ln.national_code,
                "name": ln.name,
                "item_kind": ln.item_kind.value,
                "charge_category": ln.charge_category.value,
                "leg": ln.leg.value,
                "chrgitm_lv": ln.chrgitm_lv.value,
                "in_catalog": ln.in_catalog,
                "cidl_no": ln.cidl_no,
                "confidential": ln.standard_confidential,
                "amount_fen": ln.amount_fen,
                "fund_fen": by["fund"],
                "commercial_fen": by["commercial"],
                "account_fen": by["account"],
                "patient_fen": by["patient"],
            }
        )
    return out


def _acc_deltas(settlement: Settlement) -> dict[str, int]:
    out: dict[str, int] = {}
    for leg in (settlement.basic, settlement.maternity):
        if leg is not None:
            for d in leg.accumulator_deltas:
                out[d.key] = out.get(d.key, 0) + d.delta_fen
    return out


def _fund_leg_paid(settlement: Settlement, kind: str) -> int:
    if kind == "basic" and settlement.basic is not None:
        return settlement.basic.fund_pay_sumamt
    if kind == "work_injury" and settlement.work_injury is not None:
        return settlement.work_injury.fund_pay_fen
    if kind == "maternity" and settlement.maternity is not None:
        return settlement.maternity.fund_pay_fen
    return 0


class Gateway:
    """The settlement service over one database. Thread-safe: transport calls it from many threads.

    Use :meth:`open`; the constructor is for :meth:`open` only.
    """

    def __init__(self, config: GatewayConfig, store: Store, catalogs: Any) -> None:
        """Wire the parts (see :meth:`open`)."""
        self.config = config
        self.store = store
        self.catalogs = catalogs
        self.state_store = SqlStateStore(store)
        self._loop = lg.PayerLoop()
        insurers = dict(config.insurers)
        for name, factory in config.insurer_factories.items():
            insurers[name] = factory(self.state_store)
        self._insurers = {
            n: InsurerCaller(a, policy=config.call_policy, clock=config.clock) for n, a in insurers.items()
        }
        self._channels = {
            kind: ChannelCaller(config.channels[name], policy=config.call_policy, clock=config.clock)
            for kind, name in config.fund_routes.items()
        }
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]
        self._done = threading.Condition()
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------------------------

    @classmethod
    def open(cls, config: GatewayConfig) -> Gateway:
        """Open the database (running migrations), load catalogs/policies/payers, recover open intents."""
        sealer = data_sealer(config)
        engine = connect(config.database_url)
        migrate(engine)
        catalogs = config.catalogs
        if catalogs is None:
            from onestop.catalog import default_catalogs

            catalogs = default_catalogs()
        gw = cls(config, Store(engine, sealer), catalogs)
        if config.recover_on_open:
            gw.recover()
        return gw

    def close(self) -> None:
        """Stop the payer event loop and dispose of the database engine."""
        if self._closed:
            return
        self._closed = True
        self._loop.close()
        self.store.engine.dispose()

    def __enter__(self) -> Gateway:
        """Use as a context manager."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close."""
        self.close()

    # -- helpers ------------------------------------------------------------------------------------

    def _own(self, caller: Caller, bill: Bill) -> None:
        if bill.hospital.code != caller.hospital_code:
            raise PermissionDenied(
                "the bill names another hospital than the caller",
                metadata={"field": "hospital.code"},
            )

    def _policy(self, bill: Bill) -> Any:
        return self.config.policies(bill.patient.insured_region, bill.visit.discharge_date)

    def _person(self, bill: Bill) -> str:
        return lg.person_ref(self.config.pseudonym_key, bill.patient.insured_region, bill.patient.psn_no)

    @contextmanager
    def _person_lock(self, person: str) -> Iterator[None]:
        # Two settlements of one person must not read the same accumulators (two deductibles).
        lock = self._locks[int(person[:8], 16) % _LOCK_STRIPES]
        with lock:
            yield

    def _today(self) -> dt.date:
        return self.config.today() if self.config.today is not None else dt.datetime.now(_CHINA).date()

    def _notify(self) -> None:
        with self._done:
            self._done.notify_all()

    def _await_key(self, hospital: str, request_id: str, deadline: float | None) -> Any:
        wait_until = time.monotonic() + (min(deadline, 30.0) if deadline is not None else 30.0)
        while True:
            with self.store.read() as conn:
                key = self.store.key(conn, hospital, request_id)
            if key is None or key.state == "done":
                return key
            left = wait_until - time.monotonic()
            if left <= 0:
                raise RequestInProgress("the same request is still being executed", metadata={"request_id": request_id})
            with self._done:
                self._done.wait(min(left, 0.05))

    def _replay(self, hospital: str, request_id: str, op: str, fingerprint: bytes, deadline: float | None) -> Any:
        """The stored answer of a key (or None when the key vanished), after checking it is the same request."""
        with self.store.read() as conn:
            key = self.store.key(conn, hospital, request_id)
        if key is None:
            return None
        if key.operation != op or key.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "the request id was used with another request body", metadata={"request_id": request_id}
            )
        if key.state != "done":
            key = self._await_key(hospital, request_id, deadline)
            if key is None:
                return None
        doc = json.loads(key.response_json or "{}")
        if "error" in doc:
            raise _error_from(doc["error"])
        return doc

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
        """
        self._own(caller, bill)
        timeout_at = time.monotonic() + deadline if deadline is not None else None
        policy = self._policy(bill)
        with self.store.read() as conn:
            acc = self.store.accumulators(conn, self._person(bill))
        state = settle_funds(bill, self.catalogs, policy, acc)
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
        """
        self._own(caller, bill)
        _check_request_id(request_id)
        hospital = caller.hospital_code
        doc = self._replay(hospital, request_id, "settle", fingerprint, deadline)
        if doc is not None:
            return SettleOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(update={"replayed": True})
        timeout_at = time.monotonic() + deadline if deadline is not None else None
        policy = self._policy(bill)
        person = self._person(bill)
        with self._person_lock(person):
            started = self._start(caller, request_id, bill, fingerprint, policy, person, timeout_at, deadline)
            if isinstance(started, SettleOutcome):
                return started
            try:
                return self._drive(started, resume=False)
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
    ) -> SettleOutcome | _Flow:
        """Price and record the intent under the person-year lock; the outcome too when no payer is called.

        The accumulators are read, and the bill priced, inside the write transaction that holds the
        person's year rows, so a settlement in another process is priced after this one's deltas (or
        waits while this one's intent is pending). Returns the outcome (local bill or replay), or the
        flow to drive.
        """
        hospital = caller.hospital_code
        sid = uuid.uuid4().hex
        years = sorted({bill.visit.admission_date.year, bill.visit.discharge_date.year})
        wait_until = time.monotonic() + (min(deadline, 30.0) if deadline is not None else 30.0)
        while True:
            local: SettleOutcome | None = None
            try:
                with self.store.write() as conn:
                    busy = self.store.hold_person(conn, person, years, sid)
                    if busy is None:
                        acc = self.store.accumulators(conn, person)
                        # The pure funds stage first: a bill the engine refuses rolls this transaction back.
                        state = settle_funds(bill, self.catalogs, policy, acc)
                        legs = self._plan(sid, bill, state)
                        flow = _Flow(sid, hospital, request_id, bill, policy, acc, person, legs, timeout_at)
                        intent = self._intent_values(flow)
                        if not any(leg.status == LegStatus.NEW.value for leg in flow.legs):
                            local = self._local_outcome(flow, state)
                        self.store.insert_key(conn, hospital, request_id, "settle", fingerprint, sid)
                        self.store.insert_settlement(conn, **intent)
                        self.store.insert_legs(conn, [leg.row(sid) for leg in flow.legs])
                        for leg in flow.legs:
                            leg.dirty = False
                        if local is not None:
                            self._write_outcome(conn, flow, local.settlement, local)
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
                return flow
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

    def _write_outcome(self, conn: Connection, flow: _Flow, settlement: Settlement, outcome: SettleOutcome) -> None:
        self._flush_legs(conn, flow)
        self.store.insert_lines(conn, _line_rows(flow.sid, settlement))
        self.store.apply_accumulators(conn, f"{flow.sid}:settle", flow.person, _acc_deltas(settlement))
        self.store.update_settlement(
            conn,
            flow.sid,
            status=SettlementStatus.SETTLED.value,
            settlement_json=settlement.model_dump_json(),
            fund_paid_fen=_fund_paid(settlement),
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
        self.store.complete_key(
            conn, flow.hospital, flow.request_id, json.dumps({"outcome": json.loads(outcome.model_dump_json())})
        )
        crash_point("before_commit")

    # -- the driven flow (fresh and on recovery) --------------------------------------------------

    def _drive(self, flow: _Flow, *, resume: bool) -> SettleOutcome:
        centre: dict[str, Any] = {}
        failure = self._fund_wave(flow, centre, resume=resume)
        if failure is not None:
            self._fail(flow, failure)
            raise failure
        try:
            state = settle_funds(flow.bill, self.catalogs, flow.policy, flow.acc, centre_basic=centre.get("basic"))
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
        with self.store.write() as conn:
            self._write_outcome(conn, flow, settlement, outcome)
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

    def _undo_fund(self, sid: str, leg: _Leg) -> bool:
        """Cancel a standing channel fund leg with its own reference; queue it when that does not finish."""
        caller = self._channels.get(leg.kind)
        undo_ref = leg.reference + ":undo"
        with self.store.write() as conn:
            self.store.record_call(conn, sid, leg.reference, leg.payer, "cancel", undo_ref)
        ok = False
        outcome = "error"
        if caller is not None:
            try:
                from onestop.sdk import ChannelFlow

                res = self._loop.run(
                    caller.call(
                        ChannelFlow.CANCEL,
                        ChannelCancelInput(reference=undo_ref, original_reference=leg.reference, setl_id=leg.setl_id),
                    ),
                    self.config.call_policy.timeout_s * 2,
                )
                outcome = str(res.outcome)
                ok = outcome in ("cancelled", "nothing_to_cancel", "reversed", "nothing_to_reverse")
            except Exception as exc:  # stays on the queue for the resolver
                outcome = type(exc).__name__
        crash_point("during_reversal")
        with self.store.write() as conn:
            self.store.finish_calls(conn, undo_ref, "cancel", "done" if ok else "failed", outcome)
            if ok:
                leg.set(status=LegStatus.REVERSED.value)
            else:
                leg.set(status=LegStatus.REVERSING.value)
                self.store.enqueue(
                    conn,
                    reference=leg.reference,
                    action="undo",
                    sid=sid,
                    payer=leg.payer,
                    kind=leg.kind,
                    offered_fen=leg.paid_fen,
                    reason="REVERSAL_NOT_FINISHED",
                )
        return ok

    def _compensate_commercial(self, flow: _Flow) -> None:
        for leg in flow.legs:
            if leg.kind == "commercial" and leg.status in (*_STANDING, LegStatus.UNKNOWN.value):
                self._cancel_commercial(flow.sid, leg, reason="COMPENSATION")

    def _cancel_commercial(self, sid: str, leg: _Leg, *, reason: str) -> bool:
        caller = self._insurers.get(leg.payer)
        with self.store.write() as conn:
            self.store.record_call(conn, sid, leg.reference, leg.payer, "cancel", leg.reference)
        ok = False
        outcome = "error"
        if caller is not None:
            try:
                res = self._loop.run(
                    caller.cancel(CancelInput(reference=leg.reference, payer=leg.payer, reason=reason)),
                    self.config.call_policy.timeout_s * 2,
                )
                outcome = res.outcome.value
                ok = res.outcome in (CancelOutcome.CANCELLED, CancelOutcome.REFUNDED, CancelOutcome.NOTHING_TO_CANCEL)
            except Exception as exc:  # stays on the queue for the resolver
                outcome = type(exc).__name__
        crash_point("during_reversal")
        with self.store.write() as conn:
            self.store.finish_calls(conn, leg.reference, "cancel", "done" if ok else "failed", outcome)
            if ok:
                leg.set(status=LegStatus.REVERSED.value if leg.paid_fen else LegStatus.CANCELLED.value)
                self.store.update_queue(conn, leg.reference, "cancel", state="done")
            else:
                leg.set(status=LegStatus.REVERSING.value)
                self.store.enqueue(
                    conn,
                    reference=leg.reference,
                    action="cancel",
                    sid=sid,
                    payer=leg.payer,
                    kind="commercial",
                    offered_fen=leg.offered_fen,
                    reason=reason,
                )
            self.store.update_leg(conn, leg.reference, status=leg.status, reason=leg.reason)
            leg.dirty = False
        return ok

    def _fail(self, flow: _Flow, exc: OnestopError) -> None:
        with self.store.write() as conn:
            self._flush_legs(conn, flow)
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
        return new_state

    # -- recovery ---------------------------------------------------------------------------------

    def recover(self) -> int:
        """Re-drive every intent left without an outcome (and every unfinished reversal and supplement).

        Legs already sent are resolved by query (commercial) or reversal (fund), never re-sent.
        A supplement whose payer call was sent is resolved by query and its idempotency key released.

        Returns:
            How many intents and supplements were driven to an outcome.
        """
        with self.store.read() as conn:
            pending = self.store.pending_settlements(conn)
            reversing = self.store.running_reversals(conn)
        n = 0
        from onestop.gateway._supplement import recover_supplements

        n += recover_supplements(self)
        for sid in pending:
            try:
                self._recover_one(sid)
            except OnestopError as exc:
                _log.warning("gateway.recovered_failed", settlement_id=sid, reason=exc.reason)
            n += 1
        for sid in reversing:
            try:
                self._reverse_run(sid)
            except OnestopError as exc:
                _log.warning("gateway.reversal_recovery_failed", settlement_id=sid, reason=exc.reason)
        return n

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
        with self._person_lock(flow.person):
            try:
                return self._drive(flow, resume=True)
            finally:
                self._notify()

    # -- reverse ----------------------------------------------------------------------------------

    def _own_row(self, caller: Caller, settlement_id: str) -> Row[Any]:
        with self.store.read() as conn:
            row = self.store.settlement(conn, settlement_id)
        if row is None or row._mapping["hospital_code"] != caller.hospital_code:
            # Same error for "not yours" and "not there": existence does not leak.
            raise NotFound("no such settlement", metadata={"settlement_id": settlement_id})
        return row

    def reverse(self, caller: Caller, settlement_id: str, request_id: str) -> ReverseOutcome:
        """Undo every leg with its own reference and apply negative accumulator deltas; idempotent.

        Reversing twice (with any request id) returns the first reversal's answer, ``replayed=True``.

        Raises:
            NotFound: No such settlement for this hospital.
            InvalidState: The settlement is not SETTLED (e.g. FAILED or PENDING).
        """
        _check_request_id(request_id)
        row = self._own_row(caller, settlement_id)
        hospital = caller.hospital_code
        fp = hashlib.sha256(f"reverse\x00{settlement_id}".encode()).digest()
        doc = self._replay(hospital, request_id, "reverse", fp, None)
        if doc is not None:
            return ReverseOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(update={"replayed": True})
        with self.store.read() as conn:
            rev = self.store.reversal(conn, settlement_id)
        if rev is not None:
            return self._stored_reversal(settlement_id)
        if row._mapping["status"] != SettlementStatus.SETTLED.value:
            raise InvalidState(
                f"a {row._mapping['status']} settlement cannot be reversed", metadata={"settlement_id": settlement_id}
            )
        try:
            with self.store.write() as conn:
                self.store.insert_key(conn, hospital, request_id, "reverse", fp, settlement_id)
                self.store.insert_reversal(conn, settlement_id, hospital, request_id, self._today())
        except IntegrityError:
            doc = self._replay(hospital, request_id, "reverse", fp, None)
            if doc is not None:
                return ReverseOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(
                    update={"replayed": True}
                )
            return self._stored_reversal(settlement_id)
        try:
            return self._reverse_run(settlement_id)
        finally:
            self._notify()

    def _stored_reversal(self, settlement_id: str) -> ReverseOutcome:
        deadline = time.monotonic() + 30.0
        while True:
            with self.store.read() as conn:
                rev = self.store.reversal(conn, settlement_id)
            if rev is not None and rev._mapping["status"] == "done":
                doc = json.loads(rev._mapping["response_json"])
                return ReverseOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(
                    update={"replayed": True}
                )
            if time.monotonic() > deadline:
                raise RequestInProgress("the reversal is still being executed")
            with self._done:
                self._done.wait(0.05)

    def _reverse_run(self, settlement_id: str) -> ReverseOutcome:
        with self.store.read() as conn:
            row = self.store.settlement(conn, settlement_id)
            legs = [_Leg.from_row(r) for r in self.store.legs(conn, settlement_id)]
            rev = self.store.reversal(conn, settlement_id)
        assert row is not None
        assert rev is not None
        m = row._mapping
        with self.store.write() as conn:
            for leg in legs:
                if leg.status in _STANDING:
                    leg.set(status=LegStatus.REVERSING.value)
                    self.store.update_leg(conn, leg.reference, status=leg.status)
                    leg.dirty = False
        reversed_fen = 0
        for leg in legs:
            if leg.status != LegStatus.REVERSING.value:
                continue
            if leg.kind == "commercial":
                if leg.paid_fen == 0:
                    leg.set(status=LegStatus.REVERSED.value)
                    continue
                ok = self._cancel_commercial(settlement_id, leg, reason="REVERSAL")
            elif leg.payer == "local":
                leg.set(status=LegStatus.REVERSED.value)
                ok = True
            else:
                ok = self._undo_fund(settlement_id, leg)
            del ok  # a leg that did not finish stays REVERSING, on the resolver queue
        reversed_fen = sum(leg.paid_fen for leg in legs if leg.status == LegStatus.REVERSED.value)
        outcome = ReverseOutcome(
            settlement_id=settlement_id,
            status=SettlementStatus.REVERSED,
            replayed=False,
            legs=tuple(leg.outcome() for leg in legs),
            reversed_fen=Fen(reversed_fen),
        )
        body = json.dumps({"outcome": json.loads(outcome.model_dump_json())})
        with self.store.write() as conn:
            for leg in legs:
                if leg.dirty:
                    self.store.update_leg(conn, leg.reference, status=leg.status)
            journal = t.accumulator_journal.c
            deltas = {
                r.acc_key: -int(r.delta_fen)
                for r in conn.execute(
                    select(journal.acc_key, journal.delta_fen).where(journal.operation == f"{settlement_id}:settle")
                )
            }
            self.store.apply_accumulators(conn, f"{settlement_id}:reverse", m["member_ref"], deltas)
            self.store.update_settlement(conn, settlement_id, status=SettlementStatus.REVERSED.value)
            self.store.complete_reversal(conn, settlement_id, reversed_fen, body)
            self.store.complete_key(conn, rev._mapping["hospital_code"], rev._mapping["request_id"], body)
            crash_point("before_commit")
        crash_point("after_commit")
        return outcome

    # -- supplement --------------------------------------------------------------------------------

    def supplement(self, caller: Caller, settlement_id: str, payer: str, request_id: str) -> SettleOutcome:
        """Supplementary settlement of a commercial leg that was unpaid at the cashier.

        Raises:
            NotFound: No such settlement for this hospital.
            InvalidState: The leg is paid, still open at the resolver, or the settlement is not SETTLED.
        """
        from onestop.gateway._supplement import supplement

        out: SettleOutcome = supplement(self, caller, settlement_id, payer, request_id)
        return out

    # -- reads ------------------------------------------------------------------------------------

    def _record(self, conn: Connection, row: Row[Any]) -> SettlementRecord:
        m = row._mapping
        legs = [_Leg.from_row(r) for r in self.store.legs(conn, m["settlement_id"])]
        sj = m["settlement_json"]
        return SettlementRecord(
            settlement_id=m["settlement_id"],
            hospital_code=m["hospital_code"],
            request_id=m["request_id"],
            status=SettlementStatus(m["status"]),
            created_at=m["created_at"],
            settle_date=m["settle_date"],
            mdtrt_id=m["mdtrt_id"],
            medfee_sumamt=Fen(int(m["medfee_sumamt"])),
            settlement=Settlement.model_validate_json(sj) if sj else None,
            legs=tuple(leg.outcome() for leg in legs),
            error_reason=m["error_reason"],
        )

    def get(self, caller: Caller, settlement_id: str) -> SettlementRecord:
        """One settlement of the caller's hospital.

        Raises:
            NotFound: No such settlement for this hospital (another hospital's looks the same).
        """
        self._own_row(caller, settlement_id)
        with self.store.read() as conn:
            row = self.store.settlement(conn, settlement_id)
            assert row is not None
            return self._record(conn, row)

    def list(
        self, caller: Caller, date_from: dt.date, date_to: dt.date, page_size: int, page_token: str
    ) -> SettlementPage:
        """The caller's settlements whose settle date falls in ``[date_from, date_to]``, oldest first.

        Raises:
            InvalidRequest: A page size out of 0–500, a malformed page token, or ``date_from > date_to``.
        """
        bad = []
        if not 0 <= page_size <= _MAX_PAGE:
            bad.append(errors.FieldViolation("page_size", f"must be 0 to {_MAX_PAGE}"))
        if date_from > date_to:
            bad.append(errors.FieldViolation("date_from", "is after date_to"))
        after: tuple[dt.date, str] | None = None
        if page_token:
            try:
                d, _, sid = base64.urlsafe_b64decode(page_token.encode()).decode().partition("|")
                after = (dt.date.fromisoformat(d), sid)
            except (ValueError, UnicodeDecodeError):
                bad.append(errors.FieldViolation("page_token", "is not a token this service issued"))
        if bad:
            raise InvalidRequest("invalid list request", violations=tuple(bad))
        size = page_size or 50
        s = t.settlements.c
        q = select(t.settlements).where(
            s.hospital_code == caller.hospital_code, s.settle_date >= date_from, s.settle_date <= date_to
        )
        if after is not None:
            q = q.where((s.settle_date > after[0]) | ((s.settle_date == after[0]) & (s.settlement_id > after[1])))
        q = q.order_by(s.settle_date, s.settlement_id).limit(size + 1)
        with self.store.read() as conn:
            rows = list(conn.execute(q))
            items = tuple(self._record(conn, r) for r in rows[:size])
        token = ""
        if len(rows) > size:
            last = items[-1]
            token = base64.urlsafe_b64encode(f"{last.settle_date.isoformat()}|{last.settlement_id}".encode()).decode()
        return SettlementPage(items=items, next_page_token=token)

    def reconcile(self, caller: Caller, day: dt.date) -> ReconcileReport:
        """Totals per payer and insutype of the caller's settlements made on ``day``, less reversals that day."""
        s = t.settlements.c
        r = t.reversals.c
        with self.store.read() as conn:
            settled = list(
                conn.execute(
                    select(s.settlement_id, s.insutype, s.medfee_sumamt, s.settlement_json).where(
                        s.hospital_code == caller.hospital_code,
                        s.settle_date == day,
                        s.status.in_((SettlementStatus.SETTLED.value, SettlementStatus.REVERSED.value)),
                    )
                )
            )
            reversed_rows = list(
                conn.execute(
                    select(s.settlement_id, s.insutype, s.settlement_json)
                    .join(t.reversals, r.settlement_id == s.settlement_id)
                    .where(
                        s.hospital_code == caller.hospital_code,
                        r.status == "done",
                        r.reverse_date == day,
                    )
                )
            )
        acc: dict[tuple[str, str], list[int]] = {}

        def add(rows: Sequence[Any], col: int) -> None:
            for row in rows:
                settlement = Settlement.model_validate_json(row.settlement_json)
                per: dict[str, int] = {}
                for ln in settlement.lines:
                    for a in ln.allocations:
                        if a.payer != PayerKey.PATIENT and a.amount_fen:
                            per[a.payer] = per.get(a.payer, 0) + a.amount_fen
                for payer, fen in per.items():
                    cell = acc.setdefault((payer, row.insutype), [0, 0, 0, 0])
                    cell[col] += 1
                    cell[col + 1] += fen

        add(settled, 0)
        add(reversed_rows, 2)
        lines = tuple(
            ReconcileLine(
                payer=payer,
                insutype=ins,
                settled_count=v[0],
                settled_fen=Fen(v[1]),
                reversed_count=v[2],
                reversed_fen=Fen(v[3]),
                net_fen=Fen(v[1] - v[3]),
            )
            for (payer, ins), v in sorted(acc.items())
        )
        return ReconcileReport(
            hospital_code=caller.hospital_code,
            day=day,
            count=len(settled),
            medfee_sumamt=Fen(sum(int(x.medfee_sumamt) for x in settled)),
            lines=lines,
            settlement_ids=tuple(sorted(x.settlement_id for x in settled)),
        )

    # -- resolver, DRG ------------------------------------------------------------------------------

    def resolve_pending(self, *, max_attempts: int = 10) -> int:
        """One resolver pass over the queue (see :mod:`onestop.gateway.resolver`); returns entries closed."""
        from onestop.gateway.resolver import resolve_pass

        closed: int = resolve_pass(self, max_attempts=max_attempts)
        return closed

    def group(self, case: Any) -> Any:
        """DRG grouping: delegates to ``onestop.drg``.

        Raises:
            NoGrouper: ``onestop.drg`` is not installed or offers no ``group`` function.
        """
        try:
            drg = importlib.import_module("onestop.drg")
        except ModuleNotFoundError:
            raise errors.NoGrouper("no DRG grouper is installed") from None
        fn = getattr(drg, "group", None)
        if fn is None:
            raise errors.NoGrouper("onestop.drg offers no group function")
        return fn(case)
