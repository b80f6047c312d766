"""A scriptable in-memory insurer: the conformance kit's reference and the gateway's test payer."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import SecretStr

from onestop.domain.offer import PAYABLE, AnswerStatus, Category, LinePayment, Offer
from onestop.money import Fen, apply_ratio
from onestop.sdk import (
    AdapterConfig,
    CancelInput,
    CancelOutcome,
    CancelResult,
    Capabilities,
    Clock,
    EligibilityInput,
    EligibilityResult,
    InsurerAdapter,
    InsurerFlow,
    OfferDetail,
    PaymentResult,
    PreSettleInput,
    PreSettleResult,
    QueryInput,
    QueryResult,
    ReasonCode,
    ReconcileInput,
    ReconcileResult,
    SettleInput,
    SettleResult,
    StateDelta,
    StateKey,
    StateStore,
    StatusMapping,
    negate,
)

__all__ = ["FAKE_STATUS", "FakeInsurer", "FakeInsurerConfig", "FakeStep"]

#: The fake's own raw statuses, mapped explicitly (an unlisted one maps to PENDING).
FAKE_STATUS = StatusMapping(
    {
        "PAID": AnswerStatus.APPROVED,
        "PART": AnswerStatus.PARTIAL,
        "REJ": AnswerStatus.DECLINED,
        "WAIT": AnswerStatus.PENDING,
    }
)
_RAW_OF = {AnswerStatus.APPROVED: "PAID", AnswerStatus.PARTIAL: "PART", AnswerStatus.DECLINED: "REJ"}


class FakeInsurerConfig(AdapterConfig):
    """Configuration of the fake insurer."""

    api_key: SecretStr = SecretStr("fake-insurer-key")
    """A secret, to prove secrets never reach logs or reprs."""
    pay_ratio: Decimal = Decimal(1)
    """Share of each offered amount (in the categories it pays) that it pays."""
    claim_cap_fen: Fen | None = None
    """Maximum paid per claim; over it the answer is PARTIAL with CAP_REACHED."""
    ineligible_members: tuple[str, ...] = ()
    """Member references that have no policy (eligibility says no, settle declines)."""


@dataclass(frozen=True, slots=True)
class FakeStep:
    """One scripted behaviour for the next call of a flow.

    Attributes:
        delay_s: Seconds slept on the fake clock (before the work, or after it when ``after``).
        after: Sleep/raise *after* the work is done (the answer is lost, the effect stands).
        raise_: Exception to raise (before or after the work, per ``after``).
        raw_status: Answer settle with this raw insurer status instead of the computed one.
    """

    delay_s: float = 0.0
    after: bool = False
    raise_: BaseException | None = None
    raw_status: str | None = None


@dataclass(slots=True)
class _Order:
    result: SettleResult
    day: dt.date
    member: str
    product: str
    year: int
    cancelled: bool = False
    deltas: tuple[StateDelta, ...] = ()


@dataclass(slots=True)
class _Script:
    steps: dict[str, deque[FakeStep]] = field(default_factory=dict)

    def pop(self, flow: str) -> FakeStep:
        q = self.steps.get(flow)
        return q.popleft() if q else FakeStep()


class FakeInsurer(InsurerAdapter):
    """An insurer in memory: pays ``pay_ratio`` of its categories, capped, idempotent by reference.

    Behaviour by default: every flow; all payable categories; per-line answers when the offer has
    lines. Script the next calls with :meth:`script` (delays on the fake clock, errors before or
    after the effect, raw statuses), or replace the payment rule with ``handler``. Build variants
    with other capabilities with :meth:`variant`. Records every call in :attr:`calls`.

    Args:
        config: A :class:`FakeInsurerConfig` (default one when omitted).
        state: Optional state store: the fake then keeps a ``paid`` counter per member-year.
        clock: Fake clock for delays.
        handler: Replaces the payment rule: offer in, result out (must echo reference and payer).
    """

    name: ClassVar[str] = "fake"
    Config: ClassVar[type[AdapterConfig]] = FakeInsurerConfig
    capabilities: ClassVar[Capabilities] = Capabilities(flows=frozenset(InsurerFlow), categories=PAYABLE)

    def __init__(
        self,
        config: AdapterConfig | None = None,
        *,
        state: StateStore | None = None,
        clock: Clock | None = None,
        handler: Callable[[Offer], PaymentResult] | None = None,
    ) -> None:
        """Build the fake."""
        super().__init__(config if config is not None else FakeInsurerConfig(), state=state, clock=clock)
        self.cfg: FakeInsurerConfig = self.config  # type: ignore[assignment]  # checked by the base __init__
        self.handler = handler
        self.orders: dict[str, _Order] = {}
        self.calls: list[tuple[str, str]] = []
        self._script = _Script()
        self._seq = 0

    @classmethod
    def variant(
        cls,
        *,
        name: str = "fake",
        flows: Iterable[InsurerFlow] = tuple(InsurerFlow),
        categories: Iterable[Category] = tuple(PAYABLE),
        detail: OfferDetail = OfferDetail.LINES,
        stateful: bool = False,
    ) -> type[FakeInsurer]:
        """A subclass with other capabilities; flows left out fall back to the unsupported default."""
        caps = Capabilities(flows=frozenset(flows), categories=frozenset(categories), detail=detail, stateful=stateful)
        ns: dict[str, Any] = {"name": name, "capabilities": caps}
        for flow in InsurerFlow:
            if flow not in caps.flows:
                ns[flow.value] = getattr(InsurerAdapter, flow.value)
        return type(f"FakeInsurer_{name}", (cls,), ns)

    def script(self, flow: InsurerFlow | str, *steps: FakeStep) -> None:
        """Queue behaviours for the next calls of ``flow``, consumed one per call."""
        self._script.steps.setdefault(str(flow), deque()).extend(steps)

    # The payment rule --------------------------------------------------------------------------

    def decide(self, offer: Offer) -> PaymentResult:
        """What the fake pays for ``offer`` (pure: same offer, same answer)."""
        if self.handler is not None:
            return self.handler(offer)
        if offer.member_ref in self.cfg.ineligible_members:
            return PaymentResult(
                reference=offer.reference,
                payer=offer.payer,
                status=AnswerStatus.DECLINED,
                reason=ReasonCode.NOT_ELIGIBLE,
                raw_code="REJ",
            )
        cats = [c for c in Category if c in self.capabilities.categories and c in PAYABLE]
        cap = self.cfg.claim_cap_fen
        left = int(cap) if cap is not None else None
        capped = False

        def pay(amount: int) -> int:
            nonlocal left, capped
            want = int(apply_ratio(amount, self.cfg.pay_ratio))
            if left is None:
                return want
            got = min(want, left)
            capped = capped or got < want
            left -= got
            return got

        lines: list[LinePayment] = []
        totals: dict[Category, Fen] = {}
        if offer.lines and self.capabilities.detail is OfferDetail.LINES:
            for lo in sorted(offer.lines, key=lambda x: x.feedetl_sn):
                amounts = {c: Fen(p) for c in cats if (p := pay(int(lo.amounts.get(c, 0))))}
                if amounts:
                    lines.append(LinePayment(feedetl_sn=lo.feedetl_sn, amounts=amounts))
        else:
            totals = {c: Fen(p) for c in cats if (p := pay(int(offer.totals.get(c, 0))))}
        paid = sum(int(v) for lp in lines for v in lp.amounts.values()) + sum(int(v) for v in totals.values())
        if paid == 0:
            return PaymentResult(
                reference=offer.reference,
                payer=offer.payer,
                status=AnswerStatus.DECLINED,
                reason=ReasonCode.NOT_COVERED,
                raw_code="REJ",
            )
        status = AnswerStatus.APPROVED if paid == offer.total else AnswerStatus.PARTIAL
        reason = ReasonCode.CAP_REACHED if capped else (ReasonCode.NONE if paid == offer.total else ReasonCode.COVERED)
        return PaymentResult(
            reference=offer.reference,
            payer=offer.payer,
            status=status,
            lines=tuple(lines),
            totals=totals,
            reason=reason,
            raw_code=_RAW_OF[status],
        )

    # Flows --------------------------------------------------------------------------------------

    async def _before(self, flow: str, reference: str) -> FakeStep:
        self.calls.append((flow, reference))
        step = self._script.pop(flow)
        if not step.after:
            if step.delay_s:
                await self.clock.sleep(step.delay_s)
            if step.raise_ is not None:
                raise step.raise_
        return step

    async def _after(self, step: FakeStep) -> None:
        if step.after:
            if step.delay_s:
                await self.clock.sleep(step.delay_s)
            if step.raise_ is not None:
                raise step.raise_

    def _today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.clock.time(), tz=dt.UTC).date()

    async def eligibility(self, inp: EligibilityInput) -> EligibilityResult:
        """Eligible unless the member is listed in ``ineligible_members``."""
        step = await self._before("eligibility", inp.reference)
        ok = inp.member_ref not in self.cfg.ineligible_members
        result = EligibilityResult(
            reference=inp.reference, eligible=ok, reason=ReasonCode.NONE if ok else ReasonCode.NOT_ELIGIBLE
        )
        await self._after(step)
        return result

    async def pre_settle(self, inp: PreSettleInput) -> PreSettleResult:
        """The payment rule, nothing stored."""
        step = await self._before("pre_settle", inp.offer.reference)
        result = PreSettleResult(**self.decide(inp.offer).model_dump(round_trip=True))
        await self._after(step)
        return result

    async def settle(self, inp: SettleInput) -> SettleResult:
        """Pay once per reference; a replay returns the stored result."""
        offer = inp.offer
        step = await self._before("settle", offer.reference)
        order = self.orders.get(offer.reference)
        if order is None:
            decided = self.decide(offer)
            if step.raw_status is not None:
                status = FAKE_STATUS(step.raw_status)
                if status in (AnswerStatus.APPROVED, AnswerStatus.PARTIAL):
                    decided = decided.model_copy(update={"status": status, "raw_code": step.raw_status})
                else:
                    decided = PaymentResult(
                        reference=offer.reference, payer=offer.payer, status=status, raw_code=step.raw_status
                    )
            self._seq += 1
            result = SettleResult(**decided.model_dump(round_trip=True) | {"payer_claim_id": f"FAKE{self._seq:06d}"})
            year = int(offer.admission_date[:4])
            order = _Order(result=result, day=self._today(), member=offer.member_ref, product=offer.product, year=year)
            if self.state is not None and result.paid_fen:
                key = StateKey(self.name, offer.product, offer.member_ref, year, "paid")
                order.deltas = (StateDelta(key, result.paid_fen),)
                await self.state.apply(offer.reference, order.deltas)
            self.orders[offer.reference] = order
        await self._after(step)
        return order.result

    async def query(self, inp: QueryInput) -> QueryResult:
        """The stored order, or ``found=False``."""
        step = await self._before("query", inp.reference)
        order = self.orders.get(inp.reference)
        if order is None:
            result = QueryResult(
                reference=inp.reference, payer=inp.payer, status=AnswerStatus.DECLINED, found=False, raw_code="NONE"
            )
        else:
            result = QueryResult(**order.result.model_dump(round_trip=True), found=True, cancelled=order.cancelled)
        await self._after(step)
        return result

    async def cancel(self, inp: CancelInput) -> CancelResult:
        """Cancel (nothing paid) or refund (paid); nothing to do for an unknown or undone leg."""
        step = await self._before("cancel", inp.reference)
        order = self.orders.get(inp.reference)
        if order is None or order.cancelled:
            result = CancelResult(reference=inp.reference, outcome=CancelOutcome.NOTHING_TO_CANCEL)
        else:
            order.cancelled = True
            paid = order.result.paid_fen
            if self.state is not None and order.deltas:
                await self.state.apply(f"{inp.reference}:cancel", negate(order.deltas))
            outcome = CancelOutcome.REFUNDED if paid else CancelOutcome.CANCELLED
            result = CancelResult(reference=inp.reference, outcome=outcome, refunded_fen=Fen(paid))
        await self._after(step)
        return result

    async def reconcile(self, inp: ReconcileInput) -> ReconcileResult:
        """Orders of the day that paid and stand."""
        step = await self._before("reconcile", str(inp.day))
        refs = sorted(r for r, o in self.orders.items() if o.day == inp.day and not o.cancelled and o.result.paid_fen)
        result = ReconcileResult(
            payer=inp.payer,
            day=inp.day,
            count=len(refs),
            paid_fen=Fen(sum(self.orders[r].result.paid_fen for r in refs)),
            references=tuple(refs),
        )
        await self._after(step)
        return result
