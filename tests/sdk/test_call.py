"""Around every call: timeouts, read-only retries with back-off, unknown settles, logs (fake clock only)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from onestop.domain.offer import AnswerStatus
from onestop.errors import PayerDeclined, PayerTimeout, PayerUnavailable
from onestop.sdk import (
    CallPolicy,
    CancelInput,
    EligibilityInput,
    InsurerCaller,
    QueryInput,
    ReasonCode,
    ReconcileInput,
    SettleInput,
    redact_secrets,
)
from onestop.sdk.testing import sample_offer
from onestop.testing import FakeClock, FakeInsurer, FakeInsurerConfig, FakeStep

T = TypeVar("T")


def run(body: Callable[[FakeInsurer, InsurerCaller, FakeClock], Awaitable[T]], policy: CallPolicy | None = None) -> T:
    clock = FakeClock()
    fake = FakeInsurer(FakeInsurerConfig(api_key=SecretStr("s3cr3t-key")), clock=clock)
    return asyncio.run(body(fake, InsurerCaller(fake, clock=clock, policy=policy), clock))


def _settles(fake: FakeInsurer) -> int:
    return sum(1 for flow, _ in fake.calls if flow == "settle")


def test_read_only_flow_retried_with_capped_backoff() -> None:
    """A query that fails transiently is retried, backing off 0.2 s then 0.4 s, and then succeeds."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        unavailable = PayerUnavailable("down", payer="fake")
        fake.script("query", FakeStep(raise_=unavailable), FakeStep(raise_=unavailable))
        res = await c.query(QueryInput(reference="r1", payer="fake"))
        assert res.found is False
        assert clock.sleeps == [0.2, 0.4]

    run(body)


def test_read_retries_stop_at_the_cap() -> None:
    """Retries stop after read_attempts and the last error is raised; back-off never exceeds the cap."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        fake.script("query", *[FakeStep(raise_=PayerUnavailable("down", payer="fake"))] * 6)
        with pytest.raises(PayerUnavailable):
            await c.query(QueryInput(reference="r1", payer="fake"))
        assert [flow for flow, _ in fake.calls] == ["query"] * 5
        assert clock.sleeps == [0.2, 0.4, 0.8, 1.0]

    run(body, CallPolicy(read_attempts=5, backoff_max_s=1.0))


def test_read_timeout_is_retried() -> None:
    """A read that times out has no side effect, so it is retried."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        fake.script("eligibility", FakeStep(delay_s=60))
        inp = EligibilityInput(
            reference="e1", payer="fake", product="p", policy_no="n", member_ref="m", on_date=dt.date(2026, 1, 5)
        )
        res = await c.eligibility(inp)
        assert res.eligible
        assert [flow for flow, _ in fake.calls] == ["eligibility", "eligibility"]

    run(body)


def test_non_transient_read_error_is_not_retried() -> None:
    """A definitive answer (declined) is not retried even on a read-only flow."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        fake.script("reconcile", FakeStep(raise_=PayerDeclined("no", payer="fake")))
        with pytest.raises(PayerDeclined):
            await c.reconcile(ReconcileInput(payer="fake", day=dt.date(2026, 1, 5)))
        assert len(fake.calls) == 1
        assert clock.sleeps == []

    run(body)


def test_settle_never_retried_on_transient_error() -> None:
    """A settle that fails as unavailable is not retried: it is declined as PAYER_UNAVAILABLE after one send."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        offer = sample_offer("fake")
        fake.script("settle", FakeStep(raise_=PayerUnavailable("down", payer="fake")))
        res = await c.settle(SettleInput(offer=offer))
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, ReasonCode.PAYER_UNAVAILABLE)
        assert _settles(fake) == 1
        assert fake.orders == {}

    run(body)


def test_settle_timeout_before_effect_is_failed_by_definitive_query() -> None:
    """A settle that hangs past its timeout is UNKNOWN; the query says not found, so it is failed."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        offer = sample_offer("fake")
        fake.script("settle", FakeStep(delay_s=120))
        res = await c.settle(SettleInput(offer=offer))
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, ReasonCode.SETTLE_FAILED)
        assert clock.monotonic() == 30.0
        assert [flow for flow, _ in fake.calls] == ["settle", "query"]

    run(body)


def test_settle_timeout_after_effect_is_resolved_paid_without_resend() -> None:
    """A settle that took effect but answered too late is resolved by query to what was booked; never re-sent."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        offer = sample_offer("fake")
        fake.script("settle", FakeStep(delay_s=120, after=True))
        res = await c.settle(SettleInput(offer=offer))
        assert res.status is AnswerStatus.APPROVED
        assert res.paid_fen == offer.total
        assert res.payer_claim_id == fake.orders[offer.reference].result.payer_claim_id
        assert _settles(fake) == 1

    run(body)


def test_unknown_stays_unknown_when_query_fails() -> None:
    """When the resolving query keeps failing, the settle is UNKNOWN (never failed, never paid)."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        offer = sample_offer("fake")
        fake.script("settle", FakeStep(raise_=PayerTimeout("t", payer="fake"), after=True))
        fake.script("query", *[FakeStep(raise_=PayerUnavailable("down", payer="fake"))] * 3)
        res = await c.settle(SettleInput(offer=offer))
        assert (res.status, res.reason) == (AnswerStatus.UNKNOWN, ReasonCode.OUTCOME_UNKNOWN)
        assert res.paid_fen == 0
        assert _settles(fake) == 1

    run(body)


def test_unlisted_raw_status_is_pending_never_paid() -> None:
    """An insurer status the mapping does not list comes back PENDING with nothing paid."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        offer = sample_offer("fake")
        fake.script("settle", FakeStep(raw_status="X9"))
        res = await c.settle(SettleInput(offer=offer))
        assert res.status is AnswerStatus.PENDING
        assert res.paid_fen == 0
        assert res.raw_code == "X9"

    run(body)


def test_cancel_timeout_is_raised_not_retried() -> None:
    """A cancel that times out raises PayerTimeout after one send (the resolver's next pass re-runs it)."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        fake.script("cancel", FakeStep(delay_s=60))
        with pytest.raises(PayerTimeout):
            await c.cancel(CancelInput(reference="r", payer="fake"))
        assert len(fake.calls) == 1

    run(body)


def test_call_events_carry_context_and_no_personal_data() -> None:
    """Each call logs adapter, flow, reference, latency, attempts and outcome, and nothing about the member."""

    async def body(fake: FakeInsurer, c: InsurerCaller, clock: FakeClock) -> None:
        offer = sample_offer("fake", member_ref="member-pseudonym-42")
        fake.script("settle", FakeStep(delay_s=2))
        with capture_logs() as logs:
            await c.settle(SettleInput(offer=offer))
        (event,) = [e for e in logs if e["event"] == "adapter.call"]
        assert event == {
            "event": "adapter.call",
            "log_level": "info",
            "adapter": "fake",
            "flow": "settle",
            "reference": offer.reference,
            "latency_ms": 2000,
            "attempts": 1,
            "outcome": "approved",
        }
        assert "member-pseudonym-42" not in repr(logs)
        assert "s3cr3t-key" not in repr(logs)

    run(body)


def test_redact_secrets_masks_secretstr_everywhere() -> None:
    """The redaction processor masks SecretStr values, also inside configs and containers."""
    cfg = FakeInsurerConfig(api_key=SecretStr("s3cr3t-key"))
    out = redact_secrets(
        None, "info", {"event": "x", "config": cfg, "k": SecretStr("abc"), "nested": [{"t": SecretStr("q")}]}
    )
    assert "s3cr3t-key" not in repr(out)
    assert "abc" not in repr(out)
    assert "'q'" not in repr(out)
    assert out["config"]["api_key"] == "**********"
    assert out["event"] == "x"


@pytest.mark.parametrize("status", [AnswerStatus.UNKNOWN, AnswerStatus.PENDING])
def test_a_channel_answering_not_sure_is_reversed_like_a_lost_answer(status: AnswerStatus) -> None:
    """A fund channel whose settle returns UNKNOWN or PENDING (instead of raising) may still have booked the leg:
    the caller reverses it by its reference and answers DECLINED / SETTLE_FAILED — never a standing unknown leg."""
    from sdk.toys import ToyWorkInjuryChannel

    from onestop.sdk import AdapterConfig, ChannelCaller, ChannelSettleInput, ChannelSettleResult, ReasonCode
    from onestop.sdk.testing import sample_bill

    class NotSure(ToyWorkInjuryChannel):
        async def settle(self, inp: ChannelSettleInput) -> ChannelSettleResult:
            booked = await super().settle(inp)
            return booked.model_copy(update={"status": status, "leg": None})

    async def body() -> None:
        ch = NotSure(AdapterConfig())
        res = await ChannelCaller(ch, clock=FakeClock()).settle(
            ChannelSettleInput(reference="ns-1", bill=sample_bill(work_related=True)), reversal_reference="ns-1:rev"
        )
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, ReasonCode.SETTLE_FAILED)
        assert ch.undone == {"ns-1"}

    asyncio.run(body())
