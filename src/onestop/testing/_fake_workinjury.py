"""A fake work-injury (工伤) settlement centre on 127.0.0.1 whose settle is the engine's work-injury leg.

**Modelled interface.** No public specification of a work-injury settlement interface was found, so
the paths and fields here are onestop's own model: JSON over HTTP, amounts in integer fen, a bearer
API key. Paths: ``/recognition/query`` (by decision id), ``/recognition/by-person`` (by certificate),
``/settle`` (idempotent by the gateway's ``settle_ref``) and ``/settle/cancel``.

The centre is authoritative on recognition: it rebuilds the bill from the uploaded visit and
work-related lines, its own person registry and its own recognition decision, and settles it with
:func:`onestop.engine.settle_funds` + :func:`onestop.engine.finalize`. A cancel of a reference it has
never seen is remembered, so a settle that lands after its cancel is refused.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from onestop.catalog import default_catalogs
from onestop.catalog.resolution import CatalogView
from onestop.domain.bill import Bill, Patient
from onestop.engine import finalize, settle_funds
from onestop.errors import OnestopError
from onestop.policy import policy_for, treatment_policy_for
from onestop.testing._fake_http import CentreFault, FakeJsonServer

__all__ = ["FakeWorkInjuryCentre", "Recognition", "WorkInjuryFault"]

WorkInjuryFault = CentreFault
"""Faults are queued per path, e.g. ``centre.fault("/settle", WorkInjuryFault(drop=True, after=True))``."""


@dataclass(frozen=True, slots=True)
class Recognition:
    """A 工伤认定 decision as the centre holds it.

    Attributes:
        decision_id: 认定书 number.
        psn_no: The injured person.
        status: ``recognised`` | ``pending`` | ``refused``.
        injury_date: Date of the injury.
        decision_date: Date of the decision (None while pending).
        diagnosis_codes: Work-related diagnoses.
        employer: 用人单位.
    """

    decision_id: str
    psn_no: str
    status: Literal["recognised", "pending", "refused"]
    injury_date: dt.date
    decision_date: dt.date | None = None
    diagnosis_codes: tuple[str, ...] = ()
    employer: str = ""


@dataclass
class _Ledger:
    settlements: dict[str, dict[str, Any]] = field(default_factory=dict)
    """settle_ref → the settlement (with ``state`` settled | cancelled)."""
    cancelled_unseen: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    seq: int = 0


class FakeWorkInjuryCentre(FakeJsonServer):
    """The fake work-injury centre: :meth:`enrol` persons, :meth:`recognise` decisions, point a channel at it.

    Args:
        api_key: The only bearer key accepted.
        catalogs: Catalogs (default: the packaged ones).
        policy: ``policy(insured_region, date)`` → the regional policy.
    """

    thread_name = "fake-workinjury"

    def __init__(
        self,
        *,
        api_key: str = "fixture-wi-key",
        catalogs: CatalogView | None = None,
        policy: Callable[[str, dt.date], Any] = policy_for,
    ) -> None:
        """Configure; :meth:`start` serves."""
        super().__init__()
        self.api_key = api_key
        self.catalogs: CatalogView = catalogs if catalogs is not None else default_catalogs()
        self.policy = policy
        self.persons: dict[str, Patient] = {}
        self.recognitions: dict[str, Recognition] = {}
        self.ledger = _Ledger()

    def enrol(self, patient: Patient) -> None:
        """Register an insured person."""
        with self.lock:
            self.persons[patient.psn_no] = patient

    def recognise(self, decision: Recognition) -> None:
        """Record (or replace) a recognition decision."""
        with self.lock:
            self.recognitions[decision.decision_id] = decision

    def reset_ledger(self) -> None:
        """Forget every settlement and request (registries stay)."""
        with self.lock:
            self.ledger = _Ledger()
            self.clear_faults()

    def count(self, path: str) -> int:
        """Requests accepted on ``path``."""
        with self.lock:
            return self.ledger.requests.count(path)

    def settled(self) -> list[str]:
        """References whose settlement stands."""
        with self.lock:
            return [r for r, s in self.ledger.settlements.items() if s["state"] == "settled"]

    # -- serving -----------------------------------------------------------------------------------

    def handle(self, path: str, headers: Mapping[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        """Check the key, then run the path."""
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if not hmac.compare_digest(auth, f"Bearer {self.api_key}"):
            return 401, {"code": "UNAUTHORISED", "message": "bad api key"}
        handler = {
            "/recognition/query": self._recognition,
            "/recognition/by-person": self._by_person,
            "/settle": self._settle,
            "/settle/cancel": self._cancel,
        }.get(path)
        if handler is None:
            return 404, {"code": "NO_SUCH_PATH", "message": path}
        self.ledger.requests.append(path)
        req = json.loads(raw)
        try:
            return 200, handler(req)
        except (KeyError, TypeError, ValueError, ValidationError, OnestopError) as exc:
            return 200, {"code": "BAD_REQUEST", "message": f"{type(exc).__name__}: {exc}"}

    @staticmethod
    def _ok(data: Mapping[str, Any]) -> dict[str, Any]:
        return {"code": "OK", "message": "", "data": dict(data)}

    @staticmethod
    def _no(code: str, message: str) -> dict[str, Any]:
        return {"code": code, "message": message, "data": {}}

    @staticmethod
    def _decision(d: Recognition) -> dict[str, Any]:
        return {
            "decision_id": d.decision_id,
            "psn_no": d.psn_no,
            "status": d.status,
            "injury_date": d.injury_date.isoformat(),
            "decision_date": d.decision_date.isoformat() if d.decision_date else "",
            "diagnosis_codes": list(d.diagnosis_codes),
            "employer": d.employer,
        }

    def _recognition(self, req: dict[str, Any]) -> dict[str, Any]:
        d = self.recognitions.get(str(req["decision_id"]))
        if d is None:
            return self._no("NOT_FOUND", "no such decision")
        return self._ok(self._decision(d))

    def _by_person(self, req: dict[str, Any]) -> dict[str, Any]:
        found = [p for p in self.persons.values() if p.cert_no == req["cert_no"]]
        if not found:
            return self._no("NOT_FOUND", "no such person")
        p = found[0]
        mine = sorted((d for d in self.recognitions.values() if d.psn_no == p.psn_no), key=lambda d: d.injury_date)
        return self._ok({"psn_no": p.psn_no, "decisions": [self._decision(d) for d in mine]})

    def _settle(self, req: dict[str, Any]) -> dict[str, Any]:
        ref = str(req["settle_ref"])
        if ref in self.ledger.cancelled_unseen:
            return self._no("CANCELLED", "this reference was cancelled before it arrived")
        done = self.ledger.settlements.get(ref)
        if done is not None:
            return self._ok(done)
        d = self.recognitions.get(str(req["decision_id"]))
        if d is None:
            return self._no("NOT_FOUND", "no such decision")
        if d.status == "pending":
            return self._no("RECOGNITION_PENDING", "recognition is pending")
        if d.status == "refused":
            return self._no("RECOGNITION_REFUSED", "the injury was not recognised as work-related")
        p = self.persons.get(d.psn_no)
        if p is None or p.psn_no != req["psn_no"]:
            return self._no("NOT_FOUND", "the decision is not this person's")
        doc = {
            "hospital": req["hospital"],
            "patient": p.model_dump(mode="json"),
            "visit": req["visit"],
            "lines": [ln | {"work_related": True} for ln in req["lines"]],
            "work_injury": {
                "status": "recognised",
                "decision_id": d.decision_id,
                "decision_date": d.decision_date.isoformat() if d.decision_date else None,
                "diagnosis_codes": list(d.diagnosis_codes),
                "employer": d.employer,
            },
        }
        bill = Bill.model_validate_json(json.dumps(doc))
        on = bill.visit.discharge_date  # as the gateway looks policies up
        pol = self.policy(p.insured_region, on)
        away = treatment_policy_for(bill.hospital.region, p.insured_region, on, self.policy)
        leg = _engine_leg(bill, self.catalogs, pol, away)
        self.ledger.seq += 1
        out = leg | {"settle_id": f"WI{self.ledger.seq:010d}", "settle_ref": ref, "state": "settled"}
        self.ledger.settlements[ref] = out
        return self._ok(out)

    def _cancel(self, req: dict[str, Any]) -> dict[str, Any]:
        ref = str(req["settle_ref"])
        done = self.ledger.settlements.get(ref)
        if done is None:
            self.ledger.cancelled_unseen.add(ref)
            return self._ok({"outcome": "nothing_to_cancel"})
        if done["state"] == "cancelled":
            return self._ok({"outcome": "nothing_to_cancel"})
        done["state"] = "cancelled"
        return self._ok({"outcome": "cancelled", "settle_id": done["settle_id"]})


def _engine_leg(bill: Bill, catalogs: CatalogView, policy: Any, treatment: Any = None) -> dict[str, Any]:
    wi = finalize(settle_funds(bill, catalogs, policy, treatment_policy=treatment)).work_injury
    if wi is None:  # the bill has a recognised injury, so the engine always builds the leg
        raise OnestopError("the engine built no work-injury leg")
    return {
        "status": wi.status,
        "decision_id": wi.decision_id,
        "medfee_sumamt": int(wi.medfee_sumamt),
        "fund_pay": int(wi.fund_pay_fen),
        "employer_pay": int(wi.employer_pay_fen),
        "patient_pay": int(wi.patient_pay_fen),
        "meal_allowance": int(wi.meal_allowance_fen),
    }
