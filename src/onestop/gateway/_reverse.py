"""Reversal (冲销): intent first, every standing leg undone with its own reference, then one outcome."""

from __future__ import annotations

import hashlib
import json
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from onestop.errors import (
    InvalidState,
)
from onestop.gateway._base import (
    _STANDING,
    Caller,
    GatewayBase,
    RequestInProgress,
    _check_request_id,
    _Leg,
)
from onestop.gateway.models import (
    LegStatus,
    ReverseOutcome,
    SettlementStatus,
)
from onestop.gateway.store import schema as t
from onestop.money import Fen
from onestop.testing.faults import crash_point

__all__ = ["Reversing"]


class Reversing(GatewayBase):
    """Reverse (see :class:`onestop.gateway.Gateway`)."""

    def reverse(
        self, caller: Caller, settlement_id: str, request_id: str, *, deadline: float | None = None
    ) -> ReverseOutcome:
        """Undo every leg with its own reference and apply negative accumulator deltas; idempotent.

        Reversing twice (with any request id) returns the first reversal's answer, ``replayed=True``.
        ``deadline`` (seconds the caller still waits) cuts the payers' undo calls and the wait for a
        reversal already running; a leg whose undo did not finish in time stays ``reversing`` on the
        resolver queue, and the reversal stands.

        Raises:
            NotFound: No such settlement for this hospital.
            InvalidState: The settlement is not SETTLED (e.g. FAILED or PENDING).
        """
        _check_request_id(request_id)
        row = self._own_row(caller, settlement_id)
        hospital = caller.hospital_code
        fp = hashlib.sha256(f"reverse\x00{settlement_id}".encode()).digest()
        timeout_at = time.monotonic() + deadline if deadline is not None else None
        doc = self._replay(hospital, request_id, "reverse", fp, deadline)
        if doc is not None:
            return ReverseOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(update={"replayed": True})
        with self.store.read() as conn:
            rev = self.store.reversal(conn, settlement_id)
        if rev is not None:
            return self._stored_reversal(settlement_id, deadline)
        if row._mapping["status"] != SettlementStatus.SETTLED.value:
            raise InvalidState(
                f"a {row._mapping['status']} settlement cannot be reversed", metadata={"settlement_id": settlement_id}
            )
        try:
            with self.store.write() as conn:
                self.store.insert_key(conn, hospital, request_id, "reverse", fp, settlement_id)
                self.store.insert_reversal(conn, settlement_id, hospital, request_id, self._today())
        except IntegrityError:
            doc = self._replay(hospital, request_id, "reverse", fp, deadline)
            if doc is not None:
                return ReverseOutcome.model_validate_json(json.dumps(doc["outcome"])).model_copy(
                    update={"replayed": True}
                )
            return self._stored_reversal(settlement_id, deadline)
        try:
            return self._reverse_run(settlement_id, timeout_at=timeout_at)
        finally:
            self._notify()

    def _stored_reversal(self, settlement_id: str, wait: float | None = None) -> ReverseOutcome:
        deadline = time.monotonic() + (min(wait, 30.0) if wait is not None else 30.0)
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

    def _reverse_run(self, settlement_id: str, *, timeout_at: float | None = None) -> ReverseOutcome:
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
                ok = self._cancel_commercial(settlement_id, leg, reason="REVERSAL", timeout_at=timeout_at)
            elif leg.payer == "local":
                leg.set(status=LegStatus.REVERSED.value)
                ok = True
            else:
                ok = self._undo_fund(settlement_id, leg, timeout_at=timeout_at)
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
