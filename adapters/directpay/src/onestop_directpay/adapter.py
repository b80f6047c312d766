"""The direct-pay adapter: trial → confirm → query → cancel/refund over signed JSON on HTTP."""

from __future__ import annotations

from typing import Any, ClassVar, cast

import httpx
from pydantic import SecretStr

from onestop.domain.offer import PAYABLE, AnswerStatus, Category, Offer
from onestop.errors import IntegrityViolation, PayerError, PayerTimeout, PayerUnavailable
from onestop.money import Fen, MoneyError
from onestop.sdk import (
    AdapterConfig,
    CancelInput,
    CancelOutcome,
    CancelResult,
    Capabilities,
    Clock,
    InsurerAdapter,
    InsurerFlow,
    OfferDetail,
    PreSettleInput,
    PreSettleResult,
    QueryInput,
    QueryResult,
    ReasonCode,
    SettleInput,
    SettleResult,
    StateStore,
)
from onestop_directpay._signing import envelope, verify
from onestop_directpay._wire import CANCELLED_STATUSES, CODE, FIELD_OF, ORDER_STATUS

__all__ = ["DirectPayAdapter", "DirectPayConfig"]


class DirectPayConfig(AdapterConfig):
    """Settings of a direct-pay insurer endpoint."""

    base_url: str
    """Root of the insurer's API, e.g. ``https://insurer.example/directpay``."""
    app_id: str
    """The hospital's application id at the insurer."""
    app_secret: SecretStr
    """Shared signing secret (never logged or printed)."""
    fee_record_prefix: str = ""
    """Prefix of ``feeRecordNumber`` (the hospital's fee-detail push key, API 3.5)."""
    timeout_s: float = 5.0
    """Read timeout of one HTTP call; the SDK's own call timeout should be longer."""
    connect_timeout_s: float = 2.0


class DirectPayAdapter(InsurerAdapter):
    """Adapter for a direct-pay insurer API modelled on 惠医保's hospital 商保直付 interface.

    Works with category totals (the API takes the 医保 split, not lines), integer fen on the wire.
    Settle = trial (idempotent by ``hospitalPayNo`` = the gateway's reference) then confirm; a
    duplicate confirm returns the confirmed order. Cancel refunds a confirmed order and cancels a
    pre-order. Eligibility and reconcile are not part of the API and are not offered.
    """

    name: ClassVar[str] = "directpay"
    Config: ClassVar[type[AdapterConfig]] = DirectPayConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        flows=frozenset({InsurerFlow.PRE_SETTLE, InsurerFlow.SETTLE, InsurerFlow.QUERY, InsurerFlow.CANCEL}),
        categories=frozenset(FIELD_OF),
        detail=OfferDetail.TOTALS,
    )

    def __init__(
        self,
        config: AdapterConfig,
        *,
        state: StateStore | None = None,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Build the adapter and its HTTP client (``transport`` lets tests inject one)."""
        super().__init__(config, state=state, clock=clock)
        self.cfg = cast(DirectPayConfig, self.config)
        self._http = httpx.AsyncClient(
            base_url=self.cfg.base_url,
            timeout=httpx.Timeout(self.cfg.timeout_s, connect=self.cfg.connect_timeout_s),
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    # -- transport ----------------------------------------------------------------------------------

    async def _post(self, path: str, biz: dict[str, Any], *, flow: str, write: bool) -> tuple[str, dict[str, Any]]:
        """POST a signed request; return (code, data) of a verified response.

        Errors: nothing sent or refused unseen → PayerUnavailable; sent and no answer → PayerTimeout
        (writes) / PayerUnavailable (reads, harmless to retry); 5xx → PayerError (writes: ambiguous) /
        PayerUnavailable (reads); an answer whose signature fails → IntegrityViolation.
        """
        secret = self.cfg.app_secret.get_secret_value()
        body = envelope(self.cfg.app_id, biz, secret, now=self.clock.time())
        try:
            resp = await self._http.post(path, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise PayerUnavailable(
                f"cannot reach the insurer: {type(exc).__name__}", payer=self.name, flow=flow
            ) from exc
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            cls = PayerTimeout if write else PayerUnavailable
            raise cls(f"no answer from the insurer: {type(exc).__name__}", payer=self.name, flow=flow) from exc
        if resp.status_code >= 500:
            cls2 = PayerError if write else PayerUnavailable
            raise cls2(
                f"insurer answered HTTP {resp.status_code}", payer=self.name, flow=flow, raw_code=str(resp.status_code)
            )
        if resp.status_code != 200:
            raise PayerError(
                f"insurer answered HTTP {resp.status_code}", payer=self.name, flow=flow, raw_code=str(resp.status_code)
            )
        try:
            answer = resp.json()
        except ValueError as exc:
            raise IntegrityViolation("insurer answer is not JSON", payer=self.name, flow=flow) from exc
        if not isinstance(answer, dict) or not verify(answer, secret):
            raise IntegrityViolation("insurer answer fails signature verification", payer=self.name, flow=flow)
        code = str(answer.get("code", ""))
        if code in CODE.REFUSED_UNSEEN:
            raise PayerUnavailable(
                f"insurer refused the request unseen: {answer.get('msg', '')}",
                payer=self.name,
                flow=flow,
                raw_code=code,
            )
        data = answer.get("data") or {}
        if not isinstance(data, dict):
            raise IntegrityViolation("insurer answer data is not an object", payer=self.name, flow=flow)
        return code, data

    # -- mapping ------------------------------------------------------------------------------------

    def _biz(self, offer: Offer) -> dict[str, Any]:
        totals = offer.totals
        account = int(totals.get(Category.ACCOUNT_PAID, 0))
        payable = sum(int(v) for c, v in totals.items() if c in PAYABLE)
        biz: dict[str, Any] = {
            "hospitalPayNo": offer.reference,
            "feeRecordNumber": f"{self.cfg.fee_record_prefix}{offer.reference}",
            "productCode": offer.product,
            "policyNo": offer.policy_no,
            "memberRef": offer.member_ref,
            "diagnoses": list(offer.diagnoses),
            "hospitalCode": offer.hospital_code,
            "totalAmount": self.amount_to_wire(int(offer.fund_paid_fen) + payable + account),
            "totalMedins": self.amount_to_wire(int(offer.fund_paid_fen)),
            "accountPayAmnt": self.amount_to_wire(account),
        }
        for cat, field in FIELD_OF.items():
            biz[field] = self.amount_to_wire(int(totals.get(cat, 0)))
        return biz

    def _totals(self, data: dict[str, Any], flow: str) -> dict[Category, Fen]:
        detail = data.get("payDetail") or {}
        if not isinstance(detail, dict):
            raise IntegrityViolation("payDetail is not an object", payer=self.name, flow=flow)
        out: dict[Category, Fen] = {}
        try:
            for cat, field in FIELD_OF.items():
                amount = self.amount_from_wire(detail.get(field, 0))
                if amount:
                    out[cat] = amount
            stated = self.amount_from_wire(data.get("insuranceAmount", 0))
        except MoneyError as exc:
            raise IntegrityViolation(f"amount is not integer fen: {exc}", payer=self.name, flow=flow) from exc
        if stated != sum(out.values()):
            raise IntegrityViolation(
                f"insuranceAmount {int(stated)} differs from its detail {sum(out.values())}", payer=self.name, flow=flow
            )
        return out

    def _payment(self, data: dict[str, Any], payer: str, reference: str, flow: str) -> dict[str, Any]:
        """Fields of a payment result for an order in ``data`` (trial or confirmed)."""
        raw = str(data.get("orderStatus", ""))
        if data.get("hospitalPayNo") != reference:
            raise IntegrityViolation(
                f"order {data.get('hospitalPayNo')!r} does not echo {reference!r}", payer=self.name, flow=flow
            )
        status = ORDER_STATUS(raw)
        fields: dict[str, Any] = {
            "reference": reference,
            "payer": payer,
            "raw_code": raw,
            "raw_message": str(data.get("statusMsg", "")),
            "payer_claim_id": str(data.get("orderNo", "")),
        }
        totals = self._totals(data, flow)
        trial = flow == "pre_settle" and raw == "0"
        if status is AnswerStatus.APPROVED or (trial and totals):
            requested = int(data.get("requestedAmount", 0)) if isinstance(data.get("requestedAmount"), int) else 0
            paid = sum(totals.values())
            fields["status"] = AnswerStatus.PARTIAL if paid < requested else AnswerStatus.APPROVED
            fields["totals"] = totals
            fields["reason"] = ReasonCode.COVERED if paid < requested else ReasonCode.NONE
        elif trial or raw == "4":
            fields["status"] = AnswerStatus.DECLINED
            fields["reason"] = ReasonCode.NOT_COVERED
        elif raw in CANCELLED_STATUSES:
            fields["status"] = AnswerStatus.DECLINED
            fields["reason"] = ReasonCode.CANCELLED
        else:
            fields["status"] = status
            fields["reason"] = ReasonCode.PENDING_REVIEW
        return fields

    # -- flows --------------------------------------------------------------------------------------

    async def pre_settle(self, inp: PreSettleInput) -> PreSettleResult:
        """Trial order (API 4.1/4.2): what the insurer would pay; nothing is paid."""
        offer = inp.offer
        _code, data = await self._post("/order/trial", self._biz(offer), flow="pre_settle", write=True)
        return PreSettleResult(**self._payment(data, offer.payer, offer.reference, "pre_settle"))

    async def settle(self, inp: SettleInput) -> SettleResult:
        """Trial then confirm (API 4.1 → 4.3); a replay finds the order already confirmed."""
        offer = inp.offer
        _code, trial = await self._post("/order/trial", self._biz(offer), flow="settle", write=True)
        raw = str(trial.get("orderStatus", ""))
        if raw != "0":
            # Declined at trial, or already confirmed/undone under this reference: answer what the order says.
            return SettleResult(**self._payment(trial, offer.payer, offer.reference, "settle"))
        code, data = await self._post("/order/confirm", {"hospitalPayNo": offer.reference}, flow="settle", write=True)
        if code not in (CODE.OK, CODE.ALREADY_CONFIRMED):
            raise PayerError(f"confirm refused: {code}", payer=self.name, flow="settle", raw_code=code)
        return SettleResult(**self._payment(data, offer.payer, offer.reference, "settle"))

    async def query(self, inp: QueryInput) -> QueryResult:
        """Order by the gateway's reference (API 4.4); code 1004 is the definitive not-found."""
        code, data = await self._post("/order/query", {"hospitalPayNo": inp.reference}, flow="query", write=False)
        if code == CODE.NOT_FOUND:
            return QueryResult(
                reference=inp.reference, payer=inp.payer, status=AnswerStatus.DECLINED, found=False, raw_code=code
            )
        if code != CODE.OK:
            raise PayerUnavailable(f"query answered {code}", payer=self.name, flow="query", raw_code=code)
        fields = self._payment(data, inp.payer, inp.reference, "query")
        return QueryResult(**fields, found=True, cancelled=fields["raw_code"] in CANCELLED_STATUSES)

    async def cancel(self, inp: CancelInput) -> CancelResult:
        """Refund a confirmed order (API 4.6), cancel a pre-order (API 4.5); nothing to do otherwise."""
        found = await self.query(QueryInput(reference=inp.reference, payer=inp.payer))
        if not found.found or found.cancelled or found.raw_code == "4":
            return CancelResult(
                reference=inp.reference, outcome=CancelOutcome.NOTHING_TO_CANCEL, raw_code=found.raw_code
            )
        refund = found.raw_code == "1"
        path = "/order/refund" if refund else "/order/cancel"
        code, data = await self._post(
            path, {"hospitalPayNo": inp.reference, "reason": inp.reason}, flow="cancel", write=True
        )
        if code != CODE.OK:
            return CancelResult(
                reference=inp.reference,
                outcome=CancelOutcome.REFUSED,
                raw_code=code,
                raw_message=str(data.get("msg", "")),
            )
        if refund:
            return CancelResult(
                reference=inp.reference, outcome=CancelOutcome.REFUNDED, refunded_fen=Fen(found.paid_fen), raw_code=code
            )
        return CancelResult(reference=inp.reference, outcome=CancelOutcome.CANCELLED, raw_code=code)
