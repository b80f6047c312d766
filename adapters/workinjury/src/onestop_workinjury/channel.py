"""The work-injury fund channel over a **modelled** interface (no public specification was found).

JSON over HTTP, amounts in integer fen, a bearer API key. The settle is idempotent by the gateway's
reference (``settle_ref``) at the centre; the channel has no reversal, so the SDK undoes a settle of
unknown outcome with a cancel by that reference.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal, cast

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from onestop.domain.bill import Bill
from onestop.domain.offer import AnswerStatus
from onestop.domain.settlement import WorkInjuryLeg
from onestop.errors import IntegrityViolation, PayerError, PayerTimeout, PayerUnavailable
from onestop.money import Fen
from onestop.sdk import (
    AdapterConfig,
    AmountUnit,
    ChannelCancelInput,
    ChannelCancelResult,
    ChannelCapabilities,
    ChannelFlow,
    ChannelSettleInput,
    ChannelSettleResult,
    Clock,
    FundChannel,
    PersonLookupInput,
    PersonLookupResult,
    ReasonCode,
)

__all__ = ["RecognitionInput", "RecognitionResult", "WorkInjuryChannel", "WorkInjuryConfig"]

# The centre's refusal codes → the unified reason (an unlisted code is OTHER, with the raw code kept).
_REASON = {
    "RECOGNITION_PENDING": ReasonCode.PENDING_REVIEW,
    "RECOGNITION_REFUSED": ReasonCode.NOT_ELIGIBLE,
    "NOT_FOUND": ReasonCode.NOT_ELIGIBLE,
    "CANCELLED": ReasonCode.CANCELLED,
}


class WorkInjuryConfig(AdapterConfig):
    """Settings of a work-injury centre endpoint (modelled interface)."""

    base_url: str
    api_key: SecretStr
    """Bearer key (never logged or printed)."""
    timeout_s: float = 5.0
    connect_timeout_s: float = 2.0


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class RecognitionInput(_Model):
    """Look up one 工伤认定 decision."""

    reference: str
    decision_id: str


class RecognitionResult(_Model):
    """A recognition decision as the centre holds it."""

    reference: str
    found: bool
    status: Literal["recognised", "pending", "refused", ""] = ""
    psn_no: SecretStr = SecretStr("")
    injury_date: dt.date | None = None
    decision_date: dt.date | None = None
    diagnosis_codes: tuple[str, ...] = ()
    """Work-related diagnoses: lines flagged work-related belong to them."""
    employer: str = ""
    reason: ReasonCode = ReasonCode.NONE
    raw_code: str = ""
    raw_message: str = ""


class _Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class WorkInjuryChannel(FundChannel):
    """Work-injury settlement: recognition lookup, settle (the fund's leg of the work-related lines), cancel.

    This is a modelled interface: the paths, fields and codes are onestop's own, chosen to carry what
    the engine's :class:`~onestop.domain.settlement.WorkInjuryLeg` needs.
    """

    name: ClassVar[str] = "work-injury"
    Config: ClassVar[type[AdapterConfig]] = WorkInjuryConfig
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(
        flows=frozenset({ChannelFlow.PERSON_LOOKUP, ChannelFlow.SETTLE, ChannelFlow.CANCEL}),
        legs=frozenset({"work_injury"}),
        amount_unit=AmountUnit.FEN,
    )

    def __init__(
        self, config: AdapterConfig, *, clock: Clock | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        """Build the channel and its HTTP client (``transport`` lets tests inject one)."""
        super().__init__(config, clock=clock)
        self.cfg = cast(WorkInjuryConfig, self.config)
        self._http = httpx.AsyncClient(
            base_url=self.cfg.base_url,
            timeout=httpx.Timeout(self.cfg.timeout_s, connect=self.cfg.connect_timeout_s),
            headers={"Authorization": f"Bearer {self.cfg.api_key.get_secret_value()}"},
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any], *, flow: str, write: bool) -> dict[str, Any]:
        """POST; return ``data`` of an OK answer, raise ``_Refusal`` for a business refusal.

        Errors: not reached or refused at the door (4xx) → PayerUnavailable; no answer → PayerTimeout on
        writes, PayerUnavailable on reads; 5xx → PayerError on writes (ambiguous), PayerUnavailable on reads.
        """
        try:
            resp = await self._http.post(path, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise PayerUnavailable(
                f"cannot reach the centre: {type(exc).__name__}", payer=self.name, flow=flow
            ) from exc
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            cls = PayerTimeout if write else PayerUnavailable
            raise cls(f"no answer from the centre: {type(exc).__name__}", payer=self.name, flow=flow) from exc
        if resp.status_code >= 500:
            cls2 = PayerError if write else PayerUnavailable
            raise cls2(
                f"centre answered HTTP {resp.status_code}", payer=self.name, flow=flow, raw_code=str(resp.status_code)
            )
        if resp.status_code != 200:
            raise PayerUnavailable(
                f"centre refused the request: HTTP {resp.status_code}",
                payer=self.name,
                flow=flow,
                raw_code=str(resp.status_code),
            )
        answer = resp.json()
        if answer.get("code") != "OK":
            raise _Refusal(str(answer.get("code", "")), str(answer.get("message", "")))
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _decision(ref: str, d: dict[str, Any]) -> RecognitionResult:
        return RecognitionResult(
            reference=ref,
            found=True,
            status=d["status"],
            psn_no=SecretStr(str(d["psn_no"])),
            injury_date=dt.date.fromisoformat(d["injury_date"]) if d.get("injury_date") else None,
            decision_date=dt.date.fromisoformat(d["decision_date"]) if d.get("decision_date") else None,
            diagnosis_codes=tuple(d.get("diagnosis_codes", ())),
            employer=str(d.get("employer", "")),
            raw_code="OK",
        )

    async def recognition(self, inp: RecognitionInput) -> RecognitionResult:
        """The recognition decision by its id (read-only): recognised / pending / refused, dates, diagnoses."""
        try:
            d = await self._post(
                "/recognition/query", {"decision_id": inp.decision_id}, flow="recognition", write=False
            )
        except _Refusal as exc:
            return RecognitionResult(
                reference=inp.reference,
                found=False,
                reason=_REASON.get(exc.code, ReasonCode.OTHER),
                raw_code=exc.code,
                raw_message=exc.message,
            )
        return self._decision(inp.reference, d)

    async def person_lookup(self, inp: PersonLookupInput) -> PersonLookupResult:
        """The person's latest recognition decision: eligible when it is recognised."""
        body = {"cert_type": inp.cert_type.value, "cert_no": inp.cert_no.get_secret_value()}
        try:
            data = await self._post("/recognition/by-person", body, flow="person_lookup", write=False)
        except _Refusal as exc:
            return PersonLookupResult(
                reference=inp.reference,
                found=False,
                reason=ReasonCode.NOT_ELIGIBLE,
                raw_code=exc.code,
                raw_message=exc.message,
            )
        decisions = [d for d in data.get("decisions", []) if dt.date.fromisoformat(d["injury_date"]) <= inp.on_date]
        latest = decisions[-1] if decisions else {}
        eligible = latest.get("status") == "recognised"
        return PersonLookupResult(
            reference=inp.reference,
            found=True,
            psn_no=SecretStr(str(data.get("psn_no", ""))),
            eligible=eligible,
            work_injury_decision_id=str(latest.get("decision_id", "")),
            reason=ReasonCode.NONE if eligible else ReasonCode.NOT_ELIGIBLE,
            raw_code="OK",
            raw_message=str(latest.get("status", "no decision")),
        )

    @staticmethod
    def _request(ref: str, bill: Bill) -> dict[str, Any]:
        wi = bill.work_injury
        doc = bill.model_dump(mode="json", include={"hospital", "visit"})
        lines = [ln.model_dump(mode="json", exclude={"work_related"}) for ln in bill.lines if ln.work_related]
        return {
            "settle_ref": ref,
            "decision_id": wi.decision_id if wi is not None else "",
            "psn_no": bill.patient.psn_no,
            "hospital": doc["hospital"],
            "visit": doc["visit"],
            "lines": lines,
        }

    def _result(self, ref: str, d: dict[str, Any]) -> ChannelSettleResult:
        if d.get("state") == "cancelled":
            return ChannelSettleResult(
                reference=ref,
                status=AnswerStatus.DECLINED,
                reason=ReasonCode.CANCELLED,
                setl_id=str(d["settle_id"]),
                raw_code="OK",
            )
        amounts = {k: d.get(k) for k in ("medfee_sumamt", "fund_pay", "employer_pay", "patient_pay", "meal_allowance")}
        bad = [k for k, v in amounts.items() if isinstance(v, bool) or not isinstance(v, int) or v < 0]
        if bad:
            raise IntegrityViolation(
                f"{self.name}: amounts {bad} are not non-negative integer fen", payer=self.name, flow="settle"
            )
        if amounts["fund_pay"] + amounts["employer_pay"] + amounts["patient_pay"] != amounts["medfee_sumamt"]:  # type: ignore[operator]
            raise IntegrityViolation(
                f"{self.name}: fund + employer + patient ≠ medfee_sumamt", payer=self.name, flow="settle"
            )
        leg = WorkInjuryLeg(
            status=str(d["status"]),
            decision_id=str(d.get("decision_id", "")),
            medfee_sumamt=Fen(cast(int, amounts["medfee_sumamt"])),
            fund_pay_fen=Fen(cast(int, amounts["fund_pay"])),
            employer_pay_fen=Fen(cast(int, amounts["employer_pay"])),
            patient_pay_fen=Fen(cast(int, amounts["patient_pay"])),
            meal_allowance_fen=Fen(cast(int, amounts["meal_allowance"])),
        )
        return ChannelSettleResult(
            reference=ref, status=AnswerStatus.APPROVED, leg=leg, setl_id=str(d["settle_id"]), raw_code="OK"
        )

    async def settle(self, inp: ChannelSettleInput) -> ChannelSettleResult:
        """Settle the work-related lines; a replay of the reference returns the first settlement."""
        if inp.bill.work_injury is None or not any(ln.work_related for ln in inp.bill.lines):
            return ChannelSettleResult(
                reference=inp.reference,
                status=AnswerStatus.DECLINED,
                reason=ReasonCode.NOT_COVERED,
                raw_message="the bill has no work-related line",
            )
        try:
            d = await self._post("/settle", self._request(inp.reference, inp.bill), flow="settle", write=True)
        except _Refusal as exc:
            return ChannelSettleResult(
                reference=inp.reference,
                status=AnswerStatus.DECLINED,
                reason=_REASON.get(exc.code, ReasonCode.OTHER),
                raw_code=exc.code,
                raw_message=exc.message,
            )
        return self._result(inp.reference, d)

    async def cancel(self, inp: ChannelCancelInput) -> ChannelCancelResult:
        """Cancel by the original reference (idempotent; a cancel before the settle lands blocks it)."""
        try:
            d = await self._post(
                "/settle/cancel",
                {"settle_ref": inp.original_reference, "cancel_ref": inp.reference},
                flow="cancel",
                write=True,
            )
        except _Refusal as exc:
            return ChannelCancelResult(
                reference=inp.reference,
                outcome="refused",
                reason=ReasonCode.OTHER,
                raw_code=exc.code,
                raw_message=exc.message,
            )
        outcome = str(d.get("outcome", ""))
        if outcome not in ("cancelled", "nothing_to_cancel"):
            raise IntegrityViolation(f"{self.name}: unknown cancel outcome {outcome!r}", payer=self.name, flow="cancel")
        return ChannelCancelResult(reference=inp.reference, outcome=outcome, raw_code="OK")
