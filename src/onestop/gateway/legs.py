"""Payer legs: references, the event loop payer calls run on, and what one call turns into.

Adapters and channels are async (they may hold HTTP clients bound to a loop), while the service is
called from transport's threads. One long-lived event loop in a daemon thread runs every payer
call; the service thread waits on the result with the caller's deadline. Database work never runs
on that loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from collections.abc import Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import structlog

from onestop.domain.bill import Bill
from onestop.domain.offer import AnswerStatus, CommercialAnswer, Offer
from onestop.errors import IntegrityViolation
from onestop.gateway.models import LegStatus
from onestop.sdk import InsurerCaller, ReasonCode, SettleInput, SettleResult

__all__ = [
    "PayerLoop",
    "commercial_reference",
    "fund_reference",
    "leg_status",
    "person_ref",
    "settle_commercial",
    "unpaid_answer",
]

T = TypeVar("T")


class PayerLoop:
    """An asyncio loop in a daemon thread; :meth:`run` waits for a coroutine from any thread."""

    def __init__(self) -> None:
        """Start the loop thread."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="onestop-payers", daemon=True)
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop payer calls run on."""
        return self._loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for it.

        The caller's log context (request id, hospital, settlement id) goes with the coroutine, so the
        payer calls it makes are logged under the request that made them.

        Raises:
            TimeoutError: Not done within ``timeout`` seconds (the coroutine is cancelled).
        """
        fut = asyncio.run_coroutine_threadsafe(_bound(structlog.contextvars.get_contextvars(), coro), self._loop)
        try:
            return fut.result(timeout)
        except FutureTimeout:
            fut.cancel()
            raise TimeoutError(f"payer call did not finish within {timeout:.3f}s") from None

    def close(self) -> None:
        """Stop the loop and join its thread."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


async def _bound(context: dict[str, Any], coro: Coroutine[Any, Any, T]) -> T:
    # A task runs in its own copy of the context: binding here reaches only this call's log events.
    structlog.contextvars.bind_contextvars(**context)
    return await coro


def person_ref(key: bytes, region: str, psn_no: str) -> str:
    """The keyed pseudonym of a person (accumulators, exports): HMAC-SHA256 of region and psn_no."""
    return hmac.new(key, f"{region}\x00{psn_no}".encode(), hashlib.sha256).hexdigest()[:32]


def fund_reference(settlement_id: str, kind: str) -> str:
    """The reference of a fund leg sent through a channel (the NHSA msgid the gateway mints)."""
    return f"{settlement_id}:{kind}"


def commercial_reference(settlement_id: str, index: int, payer: str) -> str:
    """The reference of commercial leg ``index`` (bill order) at ``payer``."""
    return f"{settlement_id}:c{index}:{payer}"


def unpaid_answer(offer: Offer, status: AnswerStatus, reason: str, raw_code: str = "") -> CommercialAnswer:
    """An answer that pays nothing (declined, unknown, not configured)."""
    return CommercialAnswer(
        reference=offer.reference, payer=offer.payer, status=status, reason=reason, raw_code=raw_code
    )


_OPEN = (AnswerStatus.UNKNOWN, AnswerStatus.PENDING)


def settle_commercial(
    loop: PayerLoop, caller: InsurerCaller, offer: Offer, timeout: float | None, *, resume: bool = False
) -> tuple[CommercialAnswer, bool]:
    """Settle one commercial leg (or, on ``resume``, find out by query what an earlier send did).

    Returns:
        The answer the engine applies now, and whether the leg must go to the resolver (cancel):
        an outcome still unknown or pending, or an answer that broke integrity, pays nothing now.
    """
    try:
        if resume:
            result: SettleResult = loop.run(caller.resolve_unknown(offer), timeout)
        else:
            result = loop.run(caller.settle(SettleInput(offer=offer)), timeout)
    except IntegrityViolation:
        return unpaid_answer(offer, AnswerStatus.UNKNOWN, ReasonCode.INTEGRITY_VIOLATION.value), True
    except TimeoutError:
        return unpaid_answer(offer, AnswerStatus.UNKNOWN, ReasonCode.OUTCOME_UNKNOWN.value), True
    if result.status in _OPEN:
        reason = (result.reason or ReasonCode.OUTCOME_UNKNOWN).value
        return unpaid_answer(offer, result.status, reason, result.raw_code), True
    return result.to_answer(), False


def leg_status(status: AnswerStatus) -> LegStatus:
    """The stored leg status of a payer answer."""
    return {
        AnswerStatus.APPROVED: LegStatus.APPROVED,
        AnswerStatus.PARTIAL: LegStatus.PARTIAL,
        AnswerStatus.DECLINED: LegStatus.DECLINED,
        AnswerStatus.PENDING: LegStatus.UNKNOWN,
        AnswerStatus.UNKNOWN: LegStatus.UNKNOWN,
    }[status]


def fund_kinds(bill: Bill, state: Any) -> tuple[str, ...]:
    """The fund legs a bill has, from the engine's funds stage (basic, work_injury, maternity)."""
    del bill
    return tuple(k for k in ("basic", "work_injury", "maternity") if getattr(state, k) is not None)
