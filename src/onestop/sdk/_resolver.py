"""The cashier's deadline: a commercial leg still unknown is recorded unpaid and then cancelled.

The cashier needs a figure now. A leg whose outcome is UNKNOWN (or PENDING) when the figure is due
is treated as unpaid for this settlement — the patient pays that part — and handed to the
:class:`Resolver`, which cancels it at the insurer. A late approval therefore becomes a refund,
never a second payment; and settle is never re-sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from onestop.domain.offer import AnswerStatus, CommercialAnswer, Offer
from onestop.errors import IntegrityViolation
from onestop.sdk._call import InsurerCaller
from onestop.sdk._insurer_models import CancelInput, CancelOutcome, SettleInput, SettleResult
from onestop.sdk._reasons import ReasonCode

__all__ = ["Resolver", "ResolverOutcome", "UnresolvedLeg"]

_log = structlog.get_logger("onestop.sdk")
_UNSETTLED = (AnswerStatus.UNKNOWN, AnswerStatus.PENDING)
_DONE = (CancelOutcome.CANCELLED, CancelOutcome.REFUNDED, CancelOutcome.NOTHING_TO_CANCEL)


@dataclass(frozen=True, slots=True)
class UnresolvedLeg:
    """A commercial leg recorded unpaid whose fate at the insurer is still open (persist it)."""

    reference: str
    payer: str
    offered_fen: int
    status: AnswerStatus
    reason: ReasonCode


@dataclass(frozen=True, slots=True)
class ResolverOutcome:
    """What one resolver pass did with one leg."""

    reference: str
    payer: str
    done: bool
    """True when nothing stands at the insurer any more (cancelled, refunded or never there)."""
    outcome: CancelOutcome | None
    """The cancel outcome; None when the cancel call itself failed."""
    detail: str = ""


class Resolver:
    """Turns unknown commercial legs into unpaid ones at the deadline, then cancels them.

    Args:
        callers: One :class:`InsurerCaller` per payer name.
    """

    def __init__(self, callers: Mapping[str, InsurerCaller]) -> None:
        """Keep the callers; start with no open legs."""
        self._callers = dict(callers)
        self._legs: dict[str, UnresolvedLeg] = {}

    @property
    def pending(self) -> tuple[UnresolvedLeg, ...]:
        """Legs handed over and not yet cancelled, in reference order."""
        return tuple(self._legs[k] for k in sorted(self._legs))

    def hand_over(self, leg: UnresolvedLeg) -> None:
        """Take a leg to cancel (also how a host reloads persisted legs after a restart)."""
        self._legs[leg.reference] = leg
        _log.warning("resolver.handed_over", adapter=leg.payer, reference=leg.reference, outcome=str(leg.status))

    def answer_for_cashier(self, offer: Offer, result: SettleResult) -> CommercialAnswer:
        """The answer the engine gets now: as settled, or unpaid (and handed over) when still open."""
        if result.status not in _UNSETTLED:
            return result.to_answer()
        self.hand_over(
            UnresolvedLeg(
                reference=offer.reference,
                payer=offer.payer,
                offered_fen=offer.total,
                status=result.status,
                reason=result.reason,
            )
        )
        return CommercialAnswer(
            reference=offer.reference,
            payer=offer.payer,
            status=result.status,
            reason=(result.reason or ReasonCode.OUTCOME_UNKNOWN).value,
            raw_code=result.raw_code,
            raw_message=result.raw_message,
        )

    async def settle_for_cashier(self, inp: SettleInput) -> CommercialAnswer:
        """Settle through the payer's caller and give the engine an answer it can use right now.

        An answer that breaks integrity is not trusted: the leg is recorded unpaid (UNKNOWN) and
        handed over, because the insurer may have booked something that must be cancelled.
        """
        offer = inp.offer
        caller = self._callers[offer.payer]
        try:
            result = await caller.settle(inp)
        except IntegrityViolation:
            result = InsurerCaller.unpaid(offer, AnswerStatus.UNKNOWN, ReasonCode.INTEGRITY_VIOLATION)
        return self.answer_for_cashier(offer, result)

    async def resolve_pending(self) -> tuple[ResolverOutcome, ...]:
        """One pass: cancel every open leg; legs whose cancel did not finish stay for the next pass."""
        outcomes: list[ResolverOutcome] = []
        for leg in self.pending:
            caller = self._callers[leg.payer]
            try:
                res = await caller.cancel(
                    CancelInput(reference=leg.reference, payer=leg.payer, reason="unresolved at the cashier's deadline")
                )
            except Exception as exc:  # stays open; the next pass (or a human) retries the compensation
                outcomes.append(ResolverOutcome(leg.reference, leg.payer, False, None, type(exc).__name__))
                continue
            done = res.outcome in _DONE
            if done:
                del self._legs[leg.reference]
            outcomes.append(ResolverOutcome(leg.reference, leg.payer, done, res.outcome, res.raw_code))
            _log.info("resolver.cancelled", adapter=leg.payer, reference=leg.reference, outcome=str(res.outcome))
        return tuple(outcomes)
