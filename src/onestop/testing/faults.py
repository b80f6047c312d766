"""Seeded fault injection around insurer adapters and fund channels (BUGGIFY-style, reliability.md §6.10).

Wrap a payer with :class:`FaultyInsurer` or :class:`FaultyChannel` and a :class:`FaultPlan`; each
call then draws a :class:`Fault` from the plan, deterministically from ``(seed, payer, flow,
reference, attempt)``, so a failing run replays from its seed whatever the order of calls::

    plan = FaultPlan(seed=7, rate=0.3)
    insurer = FaultyInsurer(FakeInsurer(clock=clock), plan, clock=clock)
    caller = InsurerCaller(insurer, clock=clock)

What each fault does, and so what the host must survive:

==============  ==============================================  ================================
fault           what happens                                    the payer's side
==============  ==============================================  ================================
UNAVAILABLE     :class:`~onestop.errors.PayerUnavailable`        nothing happened
HANG            sleeps ``hang_s`` *before* reaching the payer    nothing, if a deadline cut it off
LOST_ANSWER     the call is made, then ``PayerTimeout``           the effect stands (unknown)
LATE            the call is made, the answer ``late_s`` late     the effect stands (past deadline)
DECLINE         an explicit no (settle) / a refusal (cancel)     nothing happened
MALFORMED       the call is made, the answer is corrupted        the effect stands (integrity)
==============  ==============================================  ================================

Read-only flows (query) never have an effect, so LOST_ANSWER and LATE are plain timeouts there.
A *sticky* fault (``sticky_rate``) repeats on every later attempt of the same flow and reference:
that is how a cancellation "that keeps failing" is modelled, to drive legs onto the manual queue.
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from onestop.domain.offer import AnswerStatus, LinePayment
from onestop.errors import PayerDeclined, PayerTimeout, PayerUnavailable
from onestop.money import Fen
from onestop.sdk import _channel_models as cm
from onestop.sdk import _insurer_models as im
from onestop.sdk._capabilities import ChannelCapabilities
from onestop.sdk._clock import SYSTEM_CLOCK, Clock
from onestop.sdk._interceptor import InsurerInterceptor
from onestop.sdk._protocols import Channel, Insurer
from onestop.sdk._reasons import ReasonCode

__all__ = ["CRASH_ENV", "Fault", "FaultPlan", "FaultyChannel", "FaultyInsurer", "InjectedFault", "crash_point"]

#: Environment variable naming the crash point a server process dies at: ``name`` or ``name:n`` (n-th hit, from 1).
CRASH_ENV = "ONESTOP_CRASH_AT"


_crash_hits: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Die with SIGKILL here when ``ONESTOP_CRASH_AT`` names this point (crash-recovery tests only).

    A host places one call at each point a crash test needs (``before_commit``, ``after_commit``,
    ``in_adapter_call``, ``during_reversal``); with the variable unset the call is one dict lookup. SIGKILL,
    not an exception: no ``finally``, no flush, no rollback — exactly what ``kill -9`` does.

    Args:
        name: The crash point's name.
    """
    want = os.environ.get(CRASH_ENV)
    if not want:
        return
    point, _, nth = want.partition(":")
    if point != name:
        return
    _crash_hits[name] += 1
    if _crash_hits[name] >= (int(nth) if nth.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)


class Fault(StrEnum):
    """One injected behaviour of a payer call."""

    NONE = "none"
    UNAVAILABLE = "unavailable"
    """Refused before anything reached the payer (safe to retry)."""
    HANG = "hang"
    """Hangs before reaching the payer; a deadline cuts it off with no effect."""
    LOST_ANSWER = "lost_answer"
    """The payer acted, the answer was lost: the outcome is unknown to the caller."""
    LATE = "late"
    """The payer acted and answered after the caller's deadline."""
    DECLINE = "decline"
    """An explicit business no (settle) or refusal (cancel, reversal)."""
    MALFORMED = "malformed"
    """The payer acted and answered something that breaks an invariant."""


_EFFECTFUL = frozenset({Fault.LOST_ANSWER, Fault.LATE, Fault.MALFORMED})

#: Default mix of faults when one fires: the four of reliability.md §6.10 plus malformed answers.
DEFAULT_WEIGHTS: Mapping[Fault, int] = {
    Fault.UNAVAILABLE: 3,
    Fault.LOST_ANSWER: 3,
    Fault.LATE: 2,
    Fault.HANG: 1,
    Fault.DECLINE: 2,
    Fault.MALFORMED: 1,
}


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts`` (sha256; stable across processes and Python versions)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Which faults fire, how often, on which flows; every draw is a pure function of the seed.

    Attributes:
        seed: The run's seed; print it with any failure.
        rate: Probability that a call draws a fault at all (a probability, not money).
        weights: Relative weights of the faults drawn when one fires.
        flows: Flow names faults apply to (``settle``, ``cancel``, ``query``, ``reversal``…).
        sticky_rate: Share of faulted (flow, reference) pairs whose fault repeats on every later attempt.
        hang_s: How long HANG sleeps before reaching the payer.
        late_s: How late a LATE answer arrives.
    """

    seed: int
    rate: float = 0.3
    weights: Mapping[Fault, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    flows: frozenset[str] = frozenset({"pre_settle", "settle", "query", "cancel", "reversal"})
    sticky_rate: float = 0.0
    hang_s: float = 120.0
    late_s: float = 120.0

    def pick(self, payer: str, flow: str, reference: str, attempt: int) -> Fault:
        """The fault of one call (``attempt`` counts calls of this flow and reference, from 1)."""
        if flow not in self.flows or self.rate <= 0:
            return Fault.NONE
        sticky = self.sticky_rate > 0 and _unit(self.seed, "sticky", payer, flow, reference) < self.sticky_rate
        key = 1 if sticky else attempt
        if _unit(self.seed, "fire", payer, flow, reference, key) >= self.rate:
            return Fault.NONE
        choices = [(f, w) for f, w in sorted(self.weights.items()) if w > 0 and f is not Fault.NONE]
        if not choices:
            return Fault.NONE
        x = _unit(self.seed, "kind", payer, flow, reference, key) * sum(w for _, w in choices)
        for fault, weight in choices:
            if x < weight:
                return fault
            x -= weight
        return choices[-1][0]


@dataclass(frozen=True, slots=True)
class InjectedFault:
    """One fault that fired, for the run's trace and failure messages."""

    payer: str
    flow: str
    reference: str
    attempt: int
    fault: Fault


class _Injector:
    """Attempt counting, the trace, and the generic before/after behaviour of each fault."""

    def __init__(self, plan: FaultPlan, clock: Clock) -> None:
        self.plan = plan
        self.clock = clock
        self.injected: list[InjectedFault] = []
        self._attempts: Counter[tuple[str, str]] = Counter()

    def draw(self, payer: str, flow: str, reference: str, *, read_only: bool) -> Fault:
        self._attempts[flow, reference] += 1
        attempt = self._attempts[flow, reference]
        fault = self.plan.pick(payer, flow, reference, attempt)
        if read_only and fault is Fault.DECLINE:
            fault = Fault.UNAVAILABLE  # a read has no business "no"
        if fault is not Fault.NONE:
            self.injected.append(InjectedFault(payer, flow, reference, attempt, fault))
        return fault

    async def before(self, fault: Fault, payer: str, flow: str) -> None:
        if fault is Fault.UNAVAILABLE:
            raise PayerUnavailable(f"injected: {payer} unreachable", payer=payer, flow=flow, raw_code="INJECTED")
        if fault is Fault.HANG:
            await self.clock.sleep(self.plan.hang_s)

    async def after(self, fault: Fault, payer: str, flow: str) -> None:
        if fault is Fault.LOST_ANSWER:
            raise PayerTimeout(f"injected: {payer} answer lost", payer=payer, flow=flow, raw_code="INJECTED")
        if fault is Fault.LATE:
            await self.clock.sleep(self.plan.late_s)

    def attempts(self, flow: str, reference: str) -> int:
        return self._attempts[flow, reference]

    def counts(self) -> dict[str, int]:
        out: Counter[str] = Counter(f"{i.flow}:{i.fault.value}" for i in self.injected)
        return dict(sorted(out.items()))


def _corrupt_payment(result: im.SettleResult, salt: float) -> im.SettleResult:
    """An integrity-violating copy: reference not echoed, more than offered, or a line never offered."""
    variant = int(salt * 3)
    if variant == 0 or not (result.lines or result.totals):
        return result.model_copy(update={"reference": result.reference + "-X"})
    if variant == 1 and result.lines:
        first = result.lines[0]
        cat, amount = next(iter(first.amounts.items()))
        bumped = first.model_copy(update={"amounts": {**first.amounts, cat: Fen(int(amount) + 10**9)}})
        return result.model_copy(update={"lines": (bumped, *result.lines[1:]), "status": AnswerStatus.APPROVED})
    if result.lines:
        ghost = LinePayment(feedetl_sn="NOT-OFFERED", amounts=dict(result.lines[0].amounts))
        return result.model_copy(update={"lines": (*result.lines, ghost)})
    cat, amount = next(iter(result.totals.items()))
    return result.model_copy(update={"totals": {**result.totals, cat: Fen(int(amount) + 10**9)}})


class FaultyInsurer(InsurerInterceptor):
    """An insurer adapter (or interceptor) with seeded faults injected on its calls.

    Args:
        next: The adapter to wrap, e.g. ``onestop.testing.FakeInsurer``.
        plan: The fault plan.
        clock: The clock HANG and LATE sleep on (the caller's clock, so its deadlines apply).
    """

    def __init__(self, next: Insurer, plan: FaultPlan, *, clock: Clock | None = None) -> None:
        """Wrap ``next``."""
        super().__init__(next)
        self._inj = _Injector(plan, clock or SYSTEM_CLOCK)

    @property
    def plan(self) -> FaultPlan:
        """The fault plan in force; assign a new one to change the faults from the next call on."""
        return self._inj.plan

    @plan.setter
    def plan(self, plan: FaultPlan) -> None:
        self._inj.plan = plan

    @property
    def injected(self) -> tuple[InjectedFault, ...]:
        """Every fault that fired, in call order."""
        return tuple(self._inj.injected)

    def fault_counts(self) -> dict[str, int]:
        """``flow:fault`` → how many times it fired."""
        return self._inj.counts()

    def attempts(self, flow: str, reference: str) -> int:
        """How many times ``flow`` was called for ``reference`` (faulted or not)."""
        return self._inj.attempts(flow, reference)

    async def pre_settle(self, inp: im.PreSettleInput, /) -> im.PreSettleResult:
        """Trial with faults (no effect at the payer, so every fault is a failure or a no)."""
        ref = inp.offer.reference
        fault = self._inj.draw(self.name, "pre_settle", ref, read_only=True)
        await self._inj.before(fault, self.name, "pre_settle")
        result = await self.next.pre_settle(inp)
        await self._inj.after(fault, self.name, "pre_settle")
        return result

    async def settle(self, inp: im.SettleInput, /) -> im.SettleResult:
        """Settle with faults: DECLINE answers no without paying; effectful faults pay and then fail."""
        offer = inp.offer
        fault = self._inj.draw(self.name, "settle", offer.reference, read_only=False)
        if fault is Fault.DECLINE:
            return im.SettleResult(
                reference=offer.reference,
                payer=offer.payer,
                status=AnswerStatus.DECLINED,
                reason=ReasonCode.NOT_COVERED,
                raw_code="INJECTED_DECLINE",
            )
        await self._inj.before(fault, self.name, "settle")
        result = await self.next.settle(inp)
        if fault is Fault.MALFORMED:
            return _corrupt_payment(result, _unit(self._inj.plan.seed, "corrupt", offer.reference))
        await self._inj.after(fault, self.name, "settle")
        return result

    async def query(self, inp: im.QueryInput, /) -> im.QueryResult:
        """Query with faults (read-only: effectful faults are plain timeouts or a non-echoed reference)."""
        fault = self._inj.draw(self.name, "query", inp.reference, read_only=True)
        await self._inj.before(fault, self.name, "query")
        result = await self.next.query(inp)
        if fault is Fault.MALFORMED:
            return result.model_copy(update={"reference": inp.reference + "-X"})
        await self._inj.after(fault, self.name, "query")
        return result

    async def cancel(self, inp: im.CancelInput, /) -> im.CancelResult:
        """Cancel with faults: DECLINE refuses (nothing undone); effectful faults undo and then fail."""
        fault = self._inj.draw(self.name, "cancel", inp.reference, read_only=False)
        if fault is Fault.DECLINE:
            raise PayerDeclined(
                f"injected: {self.name} refused the cancel", payer=self.name, flow="cancel", raw_code="INJECTED"
            )
        await self._inj.before(fault, self.name, "cancel")
        result = await self.next.cancel(inp)
        if fault is Fault.MALFORMED:
            return result.model_copy(update={"reference": inp.reference + "-X"})
        await self._inj.after(fault, self.name, "cancel")
        return result


class FaultyChannel:
    """A fund channel with seeded faults on settle, cancel, reversal and pre-settle; other flows delegate.

    Args:
        next: The channel to wrap.
        plan: The fault plan.
        clock: The clock HANG and LATE sleep on.
    """

    def __init__(self, next: Channel, plan: FaultPlan, *, clock: Clock | None = None) -> None:
        """Wrap ``next``."""
        self.next = next
        self._inj = _Injector(plan, clock or SYSTEM_CLOCK)

    @property
    def name(self) -> str:
        """The wrapped channel's name."""
        return self.next.name

    @property
    def capabilities(self) -> ChannelCapabilities:
        """The wrapped channel's capabilities."""
        return self.next.capabilities

    @property
    def plan(self) -> FaultPlan:
        """The fault plan in force; assign a new one to change the faults from the next call on."""
        return self._inj.plan

    @plan.setter
    def plan(self, plan: FaultPlan) -> None:
        self._inj.plan = plan

    @property
    def injected(self) -> tuple[InjectedFault, ...]:
        """Every fault that fired, in call order."""
        return tuple(self._inj.injected)

    def fault_counts(self) -> dict[str, int]:
        """``flow:fault`` → how many times it fired."""
        return self._inj.counts()

    def attempts(self, flow: str, reference: str) -> int:
        """How many times ``flow`` was called for ``reference`` (faulted or not)."""
        return self._inj.attempts(flow, reference)

    async def _effectful(self, flow: str, reference: str, call: Any, corrupt: Any) -> Any:
        fault = self._inj.draw(self.name, flow, reference, read_only=False)
        if fault is Fault.DECLINE:
            raise PayerDeclined(
                f"injected: {self.name} declined {flow}", payer=self.name, flow=flow, raw_code="INJECTED"
            )
        await self._inj.before(fault, self.name, flow)
        result = await call()
        if fault is Fault.MALFORMED:
            return corrupt(result)
        await self._inj.after(fault, self.name, flow)
        return result

    @staticmethod
    def _unechoed(result: Any) -> Any:
        return result.model_copy(update={"reference": result.reference + "-X"})

    async def settle(self, inp: cm.ChannelSettleInput, /) -> cm.ChannelSettleResult:
        """Settle with faults."""
        result: cm.ChannelSettleResult = await self._effectful(
            "settle", inp.reference, lambda: self.next.settle(inp), self._unechoed
        )
        return result

    async def cancel(self, inp: cm.ChannelCancelInput, /) -> cm.ChannelCancelResult:
        """Cancel with faults."""
        result: cm.ChannelCancelResult = await self._effectful(
            "cancel", inp.reference, lambda: self.next.cancel(inp), self._unechoed
        )
        return result

    async def reversal(self, inp: cm.ReversalInput, /) -> cm.ReversalResult:
        """Reversal (冲正) with faults."""
        result: cm.ReversalResult = await self._effectful(
            "reversal", inp.reference, lambda: self.next.reversal(inp), self._unechoed
        )
        return result

    async def pre_settle(self, inp: cm.ChannelPreSettleInput, /) -> cm.ChannelSettleResult:
        """Trial with faults (no effect at the fund)."""
        fault = self._inj.draw(self.name, "pre_settle", inp.reference, read_only=True)
        await self._inj.before(fault, self.name, "pre_settle")
        result = await self.next.pre_settle(inp)
        await self._inj.after(fault, self.name, "pre_settle")
        return result

    async def person_lookup(self, inp: cm.PersonLookupInput, /) -> cm.PersonLookupResult:
        """Delegate."""
        return await self.next.person_lookup(inp)

    async def register_visit(self, inp: cm.RegisterVisitInput, /) -> cm.RegisterVisitResult:
        """Delegate."""
        return await self.next.register_visit(inp)

    async def upload_fee_detail(self, inp: cm.UploadFeeDetailInput, /) -> cm.UploadFeeDetailResult:
        """Delegate."""
        return await self.next.upload_fee_detail(inp)

    async def accumulators(self, inp: cm.AccumulatorsInput, /) -> cm.AccumulatorsResult:
        """Delegate."""
        return await self.next.accumulators(inp)

    async def reconcile(self, inp: cm.ChannelReconcileInput, /) -> cm.ChannelReconcileResult:
        """Delegate."""
        return await self.next.reconcile(inp)
