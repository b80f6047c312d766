"""Around every payer call: timeout, retries for read-only flows only, logs, integrity, unknown outcomes.

:class:`InsurerCaller` and :class:`ChannelCaller` wrap an adapter or channel for the gateway (and the
conformance kit). The rules:

* every call has a timeout; a timeout is an *unknown outcome*, never a failure;
* only read-only flows (query, eligibility, reconcile, accumulators, person lookup) are retried,
  with capped exponential back-off, and only on transient errors (``onestop.errors.is_transient``
  or a timeout of that read);
* settle is sent once. When it times out or fails ambiguously the leg is UNKNOWN and is resolved by
  querying with the gateway's own reference (channels: by reversal); only a definitive "not found"
  turns it into failed;
* every result is checked (:mod:`onestop.sdk._integrity`); a violating result is logged and raised
  as :class:`~onestop.errors.IntegrityViolation`, never returned;
* one structlog event per call: adapter, flow, reference, latency_ms, attempts, outcome. Payloads,
  configs and personal data are never logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from onestop.domain.offer import AnswerStatus, Offer
from onestop.errors import (
    AdapterValidationError,
    IntegrityViolation,
    InvalidRequest,
    PayerDeclined,
    PayerTimeout,
    PayerUnavailable,
    UnsupportedFlow,
    is_transient,
)
from onestop.sdk import _channel_models as cm
from onestop.sdk import _insurer_models as im
from onestop.sdk._capabilities import OfferDetail
from onestop.sdk._clock import SYSTEM_CLOCK, Clock
from onestop.sdk._flows import CHANNEL_READ_ONLY, INSURER_READ_ONLY, ChannelFlow, InsurerFlow
from onestop.sdk._integrity import check_channel_settle, check_payment
from onestop.sdk._protocols import Channel, Insurer
from onestop.sdk._reasons import ReasonCode

__all__ = ["CallPolicy", "ChannelCaller", "InsurerCaller", "is_read_retryable"]

R = TypeVar("R")
_log = structlog.get_logger("onestop.sdk")

# Errors that say for sure what happened; anything else raised by a settle is ambiguous.
_DEFINITIVE = (PayerDeclined, PayerUnavailable, InvalidRequest, UnsupportedFlow, AdapterValidationError)


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """Timeouts and the retry policy for read-only flows (data, not code at call sites).

    Attributes:
        timeout_s: Timeout of every call but settle.
        settle_timeout_s: Timeout of settle (payers take longer to commit).
        read_attempts: Attempts of a read-only flow, first one included.
        backoff_initial_s: First back-off; doubles each retry.
        backoff_max_s: Cap of one back-off.
    """

    timeout_s: float = 10.0
    settle_timeout_s: float = 30.0
    read_attempts: int = 3
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 2.0


def is_read_retryable(exc: BaseException) -> bool:
    """Retry predicate of read-only flows: transient errors, and timeouts (a read has no side effect)."""
    return is_transient(exc) or isinstance(exc, PayerTimeout)


def _outcome(result: object) -> str:
    for attr in ("status", "outcome"):
        value = getattr(result, attr, None)
        if value is not None:
            return str(value)
    return "ok"


class _Base:
    def __init__(self, target: Any, kind: str, policy: CallPolicy, clock: Clock | None) -> None:
        self._target = target
        self._kind = kind
        self.policy = policy
        self.clock: Clock = clock or SYSTEM_CLOCK

    @property
    def name(self) -> str:
        name: str = self._target.name
        return name

    async def _call(
        self, flow: str, call: Callable[[], Awaitable[R]], reference: str, *, read_only: bool, timeout: float
    ) -> R:
        start = self.clock.monotonic()
        attempts = 0

        async def once() -> R:
            nonlocal attempts
            attempts += 1
            try:
                return await self.clock.wait_for(call(), timeout)
            except TimeoutError as exc:
                raise PayerTimeout(
                    f"{self.name}.{flow} timed out after {timeout}s", payer=self.name, flow=flow
                ) from exc

        try:
            if read_only:
                retrying = AsyncRetrying(
                    stop=stop_after_attempt(self.policy.read_attempts),
                    wait=wait_exponential(multiplier=self.policy.backoff_initial_s, max=self.policy.backoff_max_s),
                    retry=retry_if_exception(is_read_retryable),
                    sleep=self.clock.sleep,
                    reraise=True,
                )
                result: R = await retrying(once)
            else:
                result = await once()
        except Exception as exc:
            self._event(flow, reference, start, attempts, f"error:{getattr(exc, 'reason', type(exc).__name__)}")
            raise
        self._event(flow, reference, start, attempts, _outcome(result))
        return result

    def _event(self, flow: str, reference: str, start: float, attempts: int, outcome: str) -> None:
        _log.info(
            f"{self._kind}.call",
            adapter=self.name,
            flow=flow,
            reference=reference,
            latency_ms=round((self.clock.monotonic() - start) * 1000),
            attempts=attempts,
            outcome=outcome,
        )

    def _violation(self, exc: IntegrityViolation, reference: str) -> IntegrityViolation:
        _log.error(
            f"{self._kind}.integrity_violation",
            adapter=self.name,
            flow=exc.flow,
            reference=reference,
            problems=exc.message,
        )
        return exc

    def _echo(self, flow: str, sent: str, got: str) -> None:
        if sent != got:
            raise self._violation(
                IntegrityViolation(
                    f"{self.name}: reference {got!r} does not echo {sent!r}", payer=self.name, flow=flow
                ),
                sent,
            )

    def _unsupported(self, flow: str) -> UnsupportedFlow:
        return UnsupportedFlow(f"{self._kind} {self.name!r} does not offer {flow}", metadata={"flow": flow})


class InsurerCaller(_Base):
    """Calls an insurer adapter with the SDK's rules (see the module docstring).

    Args:
        adapter: The adapter (or an interceptor around it).
        policy: Timeouts and read retries.
        clock: Time source; tests pass ``onestop.testing.FakeClock``.
    """

    def __init__(self, adapter: Insurer, *, policy: CallPolicy | None = None, clock: Clock | None = None) -> None:
        """Wrap ``adapter``."""
        super().__init__(adapter, "adapter", policy or CallPolicy(), clock)
        self.adapter: Insurer = adapter

    def _read_only(self, flow: InsurerFlow) -> bool:
        return flow in INSURER_READ_ONLY

    def _require(self, flow: InsurerFlow) -> None:
        if flow not in self.adapter.capabilities.flows:
            raise self._unsupported(flow.value)

    def shape_offer(self, offer: Offer) -> Offer:
        """The offer as this adapter may see it: without lines when it works with totals only."""
        if self.adapter.capabilities.detail is OfferDetail.TOTALS and offer.lines:
            return offer.model_copy(update={"lines": ()})
        return offer

    def _check(self, offer: Offer, result: im.PaymentResult, flow: str) -> None:
        try:
            check_payment(offer, result, self.adapter.capabilities, flow=flow)
        except IntegrityViolation as exc:
            raise self._violation(exc, offer.reference) from None

    @staticmethod
    def unpaid(
        offer: Offer, status: AnswerStatus, reason: ReasonCode, *, raw_code: str = "", raw_message: str = ""
    ) -> im.SettleResult:
        """A settle result that pays nothing (declined, unknown, pending)."""
        return im.SettleResult(
            reference=offer.reference,
            payer=offer.payer,
            status=status,
            reason=reason,
            raw_code=raw_code,
            raw_message=raw_message,
        )

    async def eligibility(self, inp: im.EligibilityInput) -> im.EligibilityResult:
        """Eligibility (read-only: retried on transient errors)."""
        self._require(InsurerFlow.ELIGIBILITY)
        result = await self._call(
            "eligibility",
            lambda: self.adapter.eligibility(inp),
            inp.reference,
            read_only=True,
            timeout=self.policy.timeout_s,
        )
        self._echo("eligibility", inp.reference, result.reference)
        return result

    async def pre_settle(self, inp: im.PreSettleInput) -> im.PreSettleResult:
        """Trial, sent once; the result is integrity-checked against the offer."""
        offer = self.shape_offer(inp.offer)
        shaped = im.PreSettleInput(offer=offer) if offer is not inp.offer else inp
        result = await self._call(
            "pre_settle",
            lambda: self.adapter.pre_settle(shaped),
            offer.reference,
            read_only=False,
            timeout=self.policy.timeout_s,
        )
        self._check(offer, result, "pre_settle")
        return result

    async def settle(self, inp: im.SettleInput) -> im.SettleResult:
        """Settle, sent once; an ambiguous outcome is resolved by :meth:`resolve_unknown`.

        Returns:
            The checked result. A decline or an unreachable payer comes back DECLINED; an outcome
            that stays unknown comes back UNKNOWN (pay nothing now, hand the leg to the Resolver).

        Raises:
            IntegrityViolation: The adapter's answer (or the query's) breaks an invariant.
        """
        offer = self.shape_offer(inp.offer)
        shaped = im.SettleInput(offer=offer) if offer is not inp.offer else inp
        try:
            result = await self._call(
                "settle",
                lambda: self.adapter.settle(shaped),
                offer.reference,
                read_only=False,
                timeout=self.policy.settle_timeout_s,
            )
        except PayerDeclined as exc:
            return self.unpaid(
                offer, AnswerStatus.DECLINED, ReasonCode.OTHER, raw_code=exc.raw_code, raw_message=exc.message
            )
        except PayerUnavailable as exc:
            return self.unpaid(
                offer,
                AnswerStatus.DECLINED,
                ReasonCode.PAYER_UNAVAILABLE,
                raw_code=exc.raw_code,
                raw_message=exc.message,
            )
        except _DEFINITIVE:
            raise
        except IntegrityViolation as exc:
            raise self._violation(exc, offer.reference) from None
        except Exception as exc:  # any other failure leaves the outcome unknown: resolve, never re-send
            _log.warning(
                "adapter.settle_unknown", adapter=self.name, reference=offer.reference, cause=type(exc).__name__
            )
            return await self.resolve_unknown(offer)
        if result.status is AnswerStatus.UNKNOWN:
            return await self.resolve_unknown(offer)
        self._check(offer, result, "settle")
        return result

    async def resolve_unknown(self, offer: Offer) -> im.SettleResult:
        """Resolve a settle of unknown outcome by querying with the gateway's own reference.

        Returns:
            The leg as the insurer has it (checked against the offer); DECLINED with
            ``SETTLE_FAILED`` only when the insurer says definitively it has no such leg; UNKNOWN
            when the query itself fails.
        """
        try:
            found = await self.query(im.QueryInput(reference=offer.reference, payer=offer.payer))
        except IntegrityViolation:
            raise
        except Exception as exc:  # the query could not tell: still unknown
            _log.warning(
                "adapter.settle_unresolved", adapter=self.name, reference=offer.reference, cause=type(exc).__name__
            )
            return self.unpaid(offer, AnswerStatus.UNKNOWN, ReasonCode.OUTCOME_UNKNOWN)
        if not found.found:
            result = self.unpaid(offer, AnswerStatus.DECLINED, ReasonCode.SETTLE_FAILED, raw_code=found.raw_code)
        elif found.cancelled:
            result = self.unpaid(offer, AnswerStatus.DECLINED, ReasonCode.CANCELLED, raw_code=found.raw_code)
        elif found.status is AnswerStatus.UNKNOWN:
            result = self.unpaid(offer, AnswerStatus.PENDING, ReasonCode.PENDING_REVIEW, raw_code=found.raw_code)
        else:
            result = found.to_settle_result()
            self._check(offer, result, "query")
        _log.info("adapter.settle_resolved", adapter=self.name, reference=offer.reference, outcome=str(result.status))
        return result

    async def query(self, inp: im.QueryInput) -> im.QueryResult:
        """Query by reference (read-only: retried on transient errors and timeouts)."""
        self._require(InsurerFlow.QUERY)
        result = await self._call(
            "query", lambda: self.adapter.query(inp), inp.reference, read_only=True, timeout=self.policy.timeout_s
        )
        self._echo("query", inp.reference, result.reference)
        return result

    async def cancel(self, inp: im.CancelInput) -> im.CancelResult:
        """Cancel or refund, sent once (the Resolver re-runs it on its next pass if needed)."""
        self._require(InsurerFlow.CANCEL)
        result = await self._call(
            "cancel", lambda: self.adapter.cancel(inp), inp.reference, read_only=False, timeout=self.policy.timeout_s
        )
        self._echo("cancel", inp.reference, result.reference)
        return result

    async def reconcile(self, inp: im.ReconcileInput) -> im.ReconcileResult:
        """Daily totals (read-only: retried)."""
        self._require(InsurerFlow.RECONCILE)
        return await self._call(
            "reconcile",
            lambda: self.adapter.reconcile(inp),
            f"{inp.payer}:{inp.day}",
            read_only=True,
            timeout=self.policy.timeout_s,
        )


class ChannelCaller(_Base):
    """Calls a fund channel with the SDK's rules; settle is never re-sent.

    Args:
        channel: The channel (or an interceptor around it).
        policy: Timeouts and read retries.
        clock: Time source.
    """

    def __init__(self, channel: Channel, *, policy: CallPolicy | None = None, clock: Clock | None = None) -> None:
        """Wrap ``channel``."""
        super().__init__(channel, "channel", policy or CallPolicy(), clock)
        self.channel: Channel = channel

    def _require(self, flow: ChannelFlow) -> None:
        if flow not in self.channel.capabilities.flows:
            raise self._unsupported(flow.value)

    async def call(self, flow: ChannelFlow, inp: Any) -> Any:
        """Call any flow but settle with the channel rules (timeout; retries only when read-only).

        Args:
            flow: The flow.
            inp: Its input model (with a ``reference``).
        """
        if flow is ChannelFlow.SETTLE:
            raise InvalidRequest("use ChannelCaller.settle, which resolves unknown outcomes")
        self._require(flow)
        method = getattr(self.channel, flow.value)
        result = await self._call(
            flow.value,
            lambda: method(inp),
            inp.reference,
            read_only=flow in CHANNEL_READ_ONLY,
            timeout=self.policy.timeout_s,
        )
        self._echo(flow.value, inp.reference, result.reference)
        if flow is ChannelFlow.PRE_SETTLE:
            self._check(inp.bill, inp.reference, result, flow.value)
        return result

    def _check(self, bill: Any, reference: str, result: cm.ChannelSettleResult, flow: str) -> None:
        try:
            check_channel_settle(bill, reference, result, self.channel.capabilities, channel=self.name, flow=flow)
        except IntegrityViolation as exc:
            raise self._violation(exc, reference) from None

    async def settle(self, inp: cm.ChannelSettleInput, *, reversal_reference: str) -> cm.ChannelSettleResult:
        """Settle once; on an ambiguous outcome, reverse it by the original reference.

        Args:
            inp: The settle input.
            reversal_reference: The reference (message id) to use for a reversal if one is needed;
                the gateway mints and persists it before the call.

        Returns:
            The checked result; on an ambiguous outcome DECLINED with ``SETTLE_FAILED`` once the
            reversal (or cancel) confirmed nothing stands, else UNKNOWN.
        """
        self._require(ChannelFlow.SETTLE)
        try:
            result = await self._call(
                "settle",
                lambda: self.channel.settle(inp),
                inp.reference,
                read_only=False,
                timeout=self.policy.settle_timeout_s,
            )
        except PayerDeclined as exc:
            return cm.ChannelSettleResult(
                reference=inp.reference, status=AnswerStatus.DECLINED, reason=ReasonCode.OTHER, raw_code=exc.raw_code
            )
        except PayerUnavailable as exc:
            return cm.ChannelSettleResult(
                reference=inp.reference,
                status=AnswerStatus.DECLINED,
                reason=ReasonCode.PAYER_UNAVAILABLE,
                raw_code=exc.raw_code,
            )
        except _DEFINITIVE:
            raise
        except IntegrityViolation as exc:
            raise self._violation(exc, inp.reference) from None
        except Exception as exc:  # unknown outcome: never re-send a settle
            _log.warning("channel.settle_unknown", adapter=self.name, reference=inp.reference, cause=type(exc).__name__)
            return await self._undo_unknown(inp, reversal_reference)
        self._check(inp.bill, inp.reference, result, "settle")
        if result.status in (AnswerStatus.UNKNOWN, AnswerStatus.PENDING):
            # A channel that answers "not sure" has told us no more than one that timed out: the settle
            # may stand, so it is reversed by its reference — never left standing, never sent again.
            _log.warning(
                "channel.settle_unknown", adapter=self.name, reference=inp.reference, cause=result.status.value
            )
            return await self._undo_unknown(inp, reversal_reference)
        return result

    async def _undo_unknown(self, inp: cm.ChannelSettleInput, reversal_reference: str) -> cm.ChannelSettleResult:
        unknown = cm.ChannelSettleResult(
            reference=inp.reference, status=AnswerStatus.UNKNOWN, reason=ReasonCode.OUTCOME_UNKNOWN
        )
        try:
            if ChannelFlow.REVERSAL in self.channel.capabilities.flows:
                rev = await self.call(
                    ChannelFlow.REVERSAL,
                    cm.ReversalInput(
                        reference=reversal_reference, original_reference=inp.reference, original_flow=ChannelFlow.SETTLE
                    ),
                )
                done = rev.outcome in (cm.ReversalOutcome.REVERSED, cm.ReversalOutcome.NOTHING_TO_REVERSE)
            else:
                can = await self.call(
                    ChannelFlow.CANCEL,
                    cm.ChannelCancelInput(reference=reversal_reference, original_reference=inp.reference),
                )
                done = can.outcome in ("cancelled", "nothing_to_cancel")
        except Exception:  # the undo itself failed or timed out: the leg stays unknown for a human/resolver
            return unknown
        if not done:
            return unknown
        _log.info("channel.settle_resolved", adapter=self.name, reference=inp.reference, outcome="reversed")
        return cm.ChannelSettleResult(
            reference=inp.reference, status=AnswerStatus.DECLINED, reason=ReasonCode.SETTLE_FAILED
        )
