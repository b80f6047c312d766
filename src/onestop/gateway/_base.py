"""What the gateway's parts share: the request and leg records, stored-answer helpers, and the base class.

:class:`GatewayBase` holds the wiring every part of :class:`~onestop.gateway.Gateway` uses (store,
payers, locks) and the steps more than one flow takes: idempotent replay, the person lock, and
undoing a leg at its payer with the leg's own reference.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Row

from onestop import errors
from onestop.domain.bill import Bill
from onestop.domain.offer import AnswerStatus
from onestop.domain.settlement import PayerKey, Settlement
from onestop.errors import (
    BillOutOfScope,
    FieldViolation,
    IdempotencyKeyReused,
    InvalidRequest,
    NoEditionInForce,
    NotFound,
    OnestopError,
    PayerError,
    PermissionDenied,
    PolicyNotFound,
)
from onestop.gateway import legs as lg
from onestop.gateway.config import GatewayConfig
from onestop.gateway.models import (
    LegKind,
    LegOutcome,
    LegStatus,
)
from onestop.gateway.store import KeyRow, SqlStateStore, Store
from onestop.money import Fen
from onestop.policy import treatment_policy_for
from onestop.sdk import (
    CancelInput,
    CancelOutcome,
    ChannelCaller,
    ChannelCancelInput,
    InsurerCaller,
)
from onestop.testing.faults import crash_point

__all__ = ["Caller", "GatewayBase", "RequestInProgress"]

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
    answered: str = ""
    """The status this flow's settle call was answered with (not stored: it closes the call's row)."""

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


@contextmanager
def bill_in_scope(bill: Bill) -> Iterator[None]:
    """Turn "no catalog edition / no regional policy" met while settling ``bill`` into a refusal naming its field.

    Both mean the bill is outside what this gateway is configured for, not that something looked up
    is missing: FAILED_PRECONDITION with the original reason and the line date or region as a field
    violation.
    """
    try:
        yield
    except NoEditionInForce as exc:
        sn = exc.metadata.get("feedetl_sn", "")
        idx = next((i for i, ln in enumerate(bill.lines) if ln.feedetl_sn == sn), None)
        where = f"lines[{idx}].date (feedetl_sn {sn})" if idx is not None else "visit.discharge_date"
        raise BillOutOfScope(
            str(exc),
            reason=exc.reason,
            violations=(FieldViolation(where, f"no catalog edition is in force on {exc.metadata.get('date', '')}"),),
            metadata=exc.metadata,
        ) from None
    except PolicyNotFound as exc:
        raise BillOutOfScope(
            str(exc),
            reason=exc.reason,
            violations=(
                FieldViolation(
                    "patient.insured_region",
                    f"no regional policy for {bill.patient.insured_region} on {bill.visit.discharge_date.isoformat()}",
                ),
            ),
            metadata=exc.metadata,
        ) from None


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


class GatewayBase:
    """The parts and shared steps of the gateway (see :class:`onestop.gateway.Gateway`)."""

    config: GatewayConfig
    store: Store
    catalogs: Any
    state_store: SqlStateStore
    _loop: lg.PayerLoop
    _insurers: dict[str, InsurerCaller]
    _channels: dict[str, ChannelCaller]
    _locks: list[threading.Lock]
    _done: threading.Condition
    _closed: bool

    def _own(self, caller: Caller, bill: Bill) -> None:
        if bill.hospital.code != caller.hospital_code:
            raise PermissionDenied(
                "the bill names another hospital than the caller",
                metadata={"field": "hospital.code"},
            )

    def _policy(self, bill: Bill) -> Any:
        return self.config.policies(bill.patient.insured_region, bill.visit.discharge_date)

    def _treatment(self, bill: Bill) -> Any:
        """The treatment region's policy of an 异地 visit (the hospital's tier is one of its tiers), else None."""
        return treatment_policy_for(
            bill.hospital.region, bill.patient.insured_region, bill.visit.discharge_date, self.config.policies
        )

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
        return self._answer_of(key, hospital, request_id, op, fingerprint, deadline)

    def _answer_of(
        self, key: KeyRow | None, hospital: str, request_id: str, op: str, fingerprint: bytes, deadline: float | None
    ) -> Any:
        """:meth:`_replay` on a key already read."""
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

    def _own_row(self, caller: Caller, settlement_id: str) -> Row[Any]:
        with self.store.read() as conn:
            row = self.store.settlement(conn, settlement_id)
        if row is None or row._mapping["hospital_code"] != caller.hospital_code:
            # Same error for "not yours" and "not there": existence does not leak.
            raise NotFound("no such settlement", metadata={"settlement_id": settlement_id})
        return row

    # -- undoing a leg at its payer ---------------------------------------------------------------

    def _call_timeout(self, timeout_at: float | None) -> float:
        """Seconds an undo call may take: the policy's bound, cut to what the caller still waits."""
        cap = self.config.call_policy.timeout_s * 2
        return cap if timeout_at is None else max(0.001, min(cap, timeout_at - time.monotonic()))

    def _undo_fund(self, sid: str, leg: _Leg, *, timeout_at: float | None = None) -> bool:
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
                    self._call_timeout(timeout_at),
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

    def _cancel_commercial(self, sid: str, leg: _Leg, *, reason: str, timeout_at: float | None = None) -> bool:
        caller = self._insurers.get(leg.payer)
        with self.store.write() as conn:
            self.store.record_call(conn, sid, leg.reference, leg.payer, "cancel", leg.reference)
        ok = False
        outcome = "error"
        if caller is not None:
            try:
                res = self._loop.run(
                    caller.cancel(CancelInput(reference=leg.reference, payer=leg.payer, reason=reason)),
                    self._call_timeout(timeout_at),
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
