"""The cashier's deadline: unknown legs are unpaid now and cancelled later, never paid twice."""

from __future__ import annotations

import asyncio

from onestop.domain.offer import AnswerStatus
from onestop.errors import PayerUnavailable
from onestop.sdk import CancelOutcome, InsurerCaller, QueryInput, ReasonCode, Resolver, SettleInput, UnresolvedLeg
from onestop.sdk.testing import Inflate, sample_offer
from onestop.testing import FakeClock, FakeInsurer, FakeStep


def test_late_approval_becomes_refund_not_second_payment() -> None:
    """A settle that succeeded but answered late, with the query down, is unpaid at the window and refunded."""

    async def body() -> None:
        clock = FakeClock()
        fake = FakeInsurer(clock=clock)
        resolver = Resolver({"fake": InsurerCaller(fake, clock=clock)})
        offer = sample_offer("fake")
        fake.script("settle", FakeStep(delay_s=90, after=True))
        fake.script("query", *[FakeStep(raise_=PayerUnavailable("down", payer="fake"))] * 3)
        answer = await resolver.settle_for_cashier(SettleInput(offer=offer))
        assert answer.status is AnswerStatus.UNKNOWN
        assert answer.lines == ()
        assert answer.totals == {}
        assert fake.orders[offer.reference].result.paid_fen == offer.total  # the insurer did book it
        (outcome,) = await resolver.resolve_pending()
        assert (outcome.done, outcome.outcome) == (True, CancelOutcome.REFUNDED)
        assert fake.orders[offer.reference].cancelled
        assert [f for f, _ in fake.calls].count("settle") == 1

    asyncio.run(body())


def test_failed_cancel_stays_pending_for_next_pass() -> None:
    """A cancel that fails leaves the leg open; the next pass finishes it."""

    async def body() -> None:
        clock = FakeClock()
        fake = FakeInsurer(clock=clock)
        resolver = Resolver({"fake": InsurerCaller(fake, clock=clock)})
        resolver.hand_over(UnresolvedLeg("ref-1", "fake", 100, AnswerStatus.UNKNOWN, ReasonCode.OUTCOME_UNKNOWN))
        fake.script("cancel", FakeStep(raise_=PayerUnavailable("down", payer="fake")))
        (first,) = await resolver.resolve_pending()
        assert (first.done, first.outcome) == (False, None)
        assert [leg.reference for leg in resolver.pending] == ["ref-1"]
        (second,) = await resolver.resolve_pending()
        assert (second.done, second.outcome) == (True, CancelOutcome.NOTHING_TO_CANCEL)
        assert resolver.pending == ()

    asyncio.run(body())


def test_settled_answer_passes_through_untouched() -> None:
    """A leg answered in time is given to the engine as answered, and nothing is handed over."""

    async def body() -> None:
        fake = FakeInsurer()
        resolver = Resolver({"fake": InsurerCaller(fake, clock=FakeClock())})
        offer = sample_offer("fake")
        answer = await resolver.settle_for_cashier(SettleInput(offer=offer))
        assert answer.status is AnswerStatus.APPROVED
        assert sum(int(v) for lp in answer.lines for v in lp.amounts.values()) == offer.total
        assert resolver.pending == ()

    asyncio.run(body())


def test_integrity_violation_is_unpaid_and_cancelled() -> None:
    """An over-paying answer is not trusted: unpaid now, and the booked leg is cancelled by the resolver."""

    async def body() -> None:
        clock = FakeClock()
        fake = FakeInsurer(clock=clock)
        resolver = Resolver({"fake": InsurerCaller(Inflate(fake), clock=clock)})
        offer = sample_offer("fake")
        answer = await resolver.settle_for_cashier(SettleInput(offer=offer))
        assert (answer.status, answer.reason) == (AnswerStatus.UNKNOWN, "INTEGRITY_VIOLATION")
        await resolver.resolve_pending()
        q = await InsurerCaller(fake, clock=clock).query(QueryInput(reference=offer.reference, payer="fake"))
        assert q.cancelled

    asyncio.run(body())
