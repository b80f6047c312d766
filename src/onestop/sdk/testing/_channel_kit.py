"""The conformance kit for fund channels: a pytest class built from declared capabilities.

Cases: load validation; happy settle with a leg of a declared kind; pre-settle = settle; replay
with the same reference; a lost settle answer is never re-sent and is undone by reversal (or
cancel); cancel and its idempotence; integrity of the reference echo and of the leg's amounts;
secrets of the config never reach a log event; unsupported flows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import structlog.testing
from pydantic import SecretStr

from onestop.domain.bill import Bill
from onestop.domain.codes import CertType
from onestop.domain.offer import AnswerStatus
from onestop.errors import IntegrityViolation, PayerTimeout, UnsupportedFlow
from onestop.money import Fen
from onestop.sdk import (
    CHANNEL_REQUIRED,
    AccumulatorsInput,
    AdapterConfig,
    ChannelCaller,
    ChannelCancelInput,
    ChannelFlow,
    ChannelPreSettleInput,
    ChannelReconcileInput,
    ChannelSettleInput,
    ChannelSettleResult,
    FundChannel,
    PersonLookupInput,
    ReasonCode,
    RegisterVisitInput,
    ReversalInput,
    UploadFeeDetailInput,
    validate_channel,
)
from onestop.testing import FakeClock

__all__ = ["ChannelFixtures", "get_channel_test_class"]

T = TypeVar("T")
_PAYING = (AnswerStatus.APPROVED, AnswerStatus.PARTIAL)


@dataclass(frozen=True, slots=True)
class ChannelFixtures:
    """Bills the kit settles through the channel.

    Attributes:
        bill: A bill the channel settles (APPROVED or PARTIAL, with a leg).
    """

    bill: Bill


class _Settle:
    """Wraps a channel's settle: counts sends, optionally loses the answer or rewrites the reference."""

    def __init__(
        self, inner: FundChannel, *, lose_answer: bool = False, misreference: bool = False, inflate: bool = False
    ) -> None:
        self._inner = inner
        self.lose_answer = lose_answer
        self.misreference = misreference
        self.inflate = inflate
        self.sent = 0

    def __getattr__(self, item: str) -> Any:
        return getattr(self._inner, item)

    async def settle(self, inp: ChannelSettleInput, /) -> ChannelSettleResult:
        self.sent += 1
        res = await self._inner.settle(inp)
        if self.lose_answer:
            raise PayerTimeout("answer lost after the settle took effect", payer=self._inner.name, flow="settle")
        if self.misreference:
            return res.model_copy(update={"reference": inp.reference + "-other"})
        if self.inflate and res.leg is not None:
            # A leg claiming more than the whole bill: what a broken or hostile channel might answer.
            total = sum(int(line.amount_fen) for line in inp.bill.lines)
            return res.model_copy(update={"leg": res.leg.model_copy(update={"medfee_sumamt": Fen(total + 100)})})
        return res


def _ref(tag: str) -> str:
    return f"fixture-{tag}-{uuid.uuid4().hex[:12]}"


def _comparable(res: ChannelSettleResult) -> Any:
    return (res.status, res.leg.model_dump() if res.leg else None)


class _ChannelKit:
    channel_cls: type[FundChannel]
    fixtures: ChannelFixtures
    _config: AdapterConfig | Callable[[], AdapterConfig] | None = None

    def make_config(self) -> AdapterConfig:
        """The channel's config (override to point at a running test centre)."""
        cfg = self._config
        if cfg is None:
            return self.channel_cls.Config()
        return cfg() if callable(cfg) else cfg

    def run(self, body: Callable[[FundChannel, FakeClock], Awaitable[T]]) -> T:
        """Run one async case against a fresh channel."""

        async def main() -> T:
            ch = self.channel_cls(self.make_config())
            try:
                return await body(ch, FakeClock())
            finally:
                await ch.aclose()

        return asyncio.run(main())

    def test_validates_at_load(self) -> None:
        """The channel class passes the SDK's load-time validation."""
        assert validate_channel(self.channel_cls, name=self.channel_cls.name) is self.channel_cls

    def test_settle_returns_a_declared_leg(self) -> None:
        """Settle answers a fund leg of a kind the channel declares, within the bill."""
        ref = _ref("settle")

        async def body(ch: FundChannel, clock: FakeClock) -> None:
            res = await ChannelCaller(ch, clock=clock).settle(
                ChannelSettleInput(reference=ref, bill=self.fixtures.bill), reversal_reference=_ref("rev")
            )
            assert res.status in _PAYING, res
            assert res.leg is not None
            assert res.leg.kind in ch.capabilities.legs

        self.run(body)

    def test_pre_settle_equals_settle(self) -> None:
        """Pre-settle and settle give the same leg for the same bill."""
        if ChannelFlow.PRE_SETTLE not in self.channel_cls.capabilities.flows:
            pytest.skip("pre_settle not declared")

        async def body(ch: FundChannel, clock: FakeClock) -> None:
            c = ChannelCaller(ch, clock=clock)
            trial = await c.call(
                ChannelFlow.PRE_SETTLE, ChannelPreSettleInput(reference=_ref("pre"), bill=self.fixtures.bill)
            )
            final = await c.settle(
                ChannelSettleInput(reference=_ref("set"), bill=self.fixtures.bill), reversal_reference=_ref("rev")
            )
            assert _comparable(trial) == _comparable(final)

        self.run(body)

    def test_replay_same_reference(self) -> None:
        """A settle replayed with the same reference returns the first settlement (same setl_id)."""
        ref = _ref("replay")

        async def body(ch: FundChannel, clock: FakeClock) -> None:
            c = ChannelCaller(ch, clock=clock)
            first = await c.settle(
                ChannelSettleInput(reference=ref, bill=self.fixtures.bill), reversal_reference=_ref("r")
            )
            again = await c.settle(
                ChannelSettleInput(reference=ref, bill=self.fixtures.bill), reversal_reference=_ref("r")
            )
            assert (first.setl_id, _comparable(first)) == (again.setl_id, _comparable(again))

        self.run(body)

    def test_lost_answer_is_undone_not_resent(self) -> None:
        """A settle whose answer is lost is sent once, then undone by reversal (or cancel): no fund leg stands."""
        ref = _ref("lost")

        async def body(ch: FundChannel, clock: FakeClock) -> None:
            shim = _Settle(ch, lose_answer=True)
            res = await ChannelCaller(shim, clock=clock).settle(
                ChannelSettleInput(reference=ref, bill=self.fixtures.bill), reversal_reference=_ref("rev")
            )
            assert shim.sent == 1
            assert res.status is AnswerStatus.DECLINED
            assert res.reason is ReasonCode.SETTLE_FAILED
            again = await ChannelCaller(ch, clock=clock).call(
                ChannelFlow.CANCEL, ChannelCancelInput(reference=_ref("can"), original_reference=ref)
            )
            assert again.outcome == "nothing_to_cancel"

        self.run(body)

    def test_cancel_is_idempotent(self) -> None:
        """Cancel undoes a settlement; a second cancel has nothing to do."""
        ref = _ref("cancel")

        async def body(ch: FundChannel, clock: FakeClock) -> None:
            c = ChannelCaller(ch, clock=clock)
            res = await c.settle(
                ChannelSettleInput(reference=ref, bill=self.fixtures.bill), reversal_reference=_ref("r")
            )
            first = await c.call(
                ChannelFlow.CANCEL,
                ChannelCancelInput(reference=_ref("c1"), original_reference=ref, setl_id=res.setl_id),
            )
            assert first.outcome == "cancelled"
            again = await c.call(
                ChannelFlow.CANCEL,
                ChannelCancelInput(reference=_ref("c2"), original_reference=ref, setl_id=res.setl_id),
            )
            assert again.outcome == "nothing_to_cancel"

        self.run(body)

    def test_reference_must_echo(self) -> None:
        """A settle result under another reference is rejected."""

        async def body(ch: FundChannel, clock: FakeClock) -> None:
            with pytest.raises(IntegrityViolation):
                await ChannelCaller(_Settle(ch, misreference=True), clock=clock).settle(
                    ChannelSettleInput(reference=_ref("echo"), bill=self.fixtures.bill), reversal_reference=_ref("r")
                )

        self.run(body)

    def test_a_leg_larger_than_its_bill_is_rejected(self) -> None:
        """A settle result whose leg totals more than the bill is an IntegrityViolation, never a paid leg."""

        async def body(ch: FundChannel, clock: FakeClock) -> None:
            with pytest.raises(IntegrityViolation):
                await ChannelCaller(_Settle(ch, inflate=True), clock=clock).settle(
                    ChannelSettleInput(reference=_ref("big"), bill=self.fixtures.bill), reversal_reference=_ref("r")
                )

        self.run(body)

    def test_secrets_never_reach_a_log_event(self) -> None:
        """No secret of the channel's config (any SecretStr field) appears in what a settle and a cancel log."""
        config = self.make_config()
        secrets = [
            v.get_secret_value()
            for v in (getattr(config, f) for f in type(config).model_fields)
            if isinstance(v, SecretStr)
        ]
        ref = _ref("secret")

        async def body(ch: FundChannel, clock: FakeClock) -> None:
            c = ChannelCaller(ch, clock=clock)
            res = await c.settle(
                ChannelSettleInput(reference=ref, bill=self.fixtures.bill), reversal_reference=_ref("r")
            )
            await c.call(
                ChannelFlow.CANCEL, ChannelCancelInput(reference=_ref("c"), original_reference=ref, setl_id=res.setl_id)
            )

        with structlog.testing.capture_logs() as events:
            self.run(body)
        assert events, "the caller logs every call"
        text = repr(events)
        for secret in secrets:
            if secret:
                assert secret not in text

    def test_unsupported_flows_raise(self) -> None:
        """Every optional flow not declared raises UnsupportedFlow, from the channel and from the caller."""
        bill = self.fixtures.bill
        missing = [f for f in ChannelFlow if f not in self.channel_cls.capabilities.flows]
        assert not (CHANNEL_REQUIRED & set(missing))
        inputs: dict[ChannelFlow, Any] = {
            ChannelFlow.PERSON_LOOKUP: PersonLookupInput(
                reference=_ref("p"), cert_type=CertType.ID_CARD, cert_no=SecretStr("x"), on_date=dt.date(2026, 3, 1)
            ),
            ChannelFlow.REGISTER_VISIT: RegisterVisitInput(reference=_ref("r"), bill=bill),
            ChannelFlow.UPLOAD_FEE_DETAIL: UploadFeeDetailInput(reference=_ref("u"), bill=bill, mdtrt_id="V"),
            ChannelFlow.PRE_SETTLE: ChannelPreSettleInput(reference=_ref("t"), bill=bill),
            ChannelFlow.REVERSAL: ReversalInput(
                reference=_ref("v"), original_reference="x", original_flow=ChannelFlow.SETTLE
            ),
            ChannelFlow.ACCUMULATORS: AccumulatorsInput(reference=_ref("a"), psn_no=SecretStr("x"), year=2026),
            ChannelFlow.RECONCILE: ChannelReconcileInput(reference=_ref("c"), day=dt.date(2026, 3, 1)),
        }

        async def body(ch: FundChannel, clock: FakeClock) -> None:
            c = ChannelCaller(ch, clock=clock)
            for flow in missing:
                with pytest.raises(UnsupportedFlow):
                    await getattr(ch, flow.value)(inputs[flow])
                with pytest.raises(UnsupportedFlow):
                    await c.call(flow, inputs[flow])

        self.run(body)


def get_channel_test_class(
    channel_cls: type[FundChannel],
    *,
    fixtures: ChannelFixtures,
    config: AdapterConfig | Callable[[], AdapterConfig] | None = None,
) -> type:
    """Build the conformance test class for a fund channel.

    Args:
        channel_cls: The channel class.
        fixtures: The bills to settle.
        config: Its config, or a callable returning one per case. Default: ``channel_cls.Config()``.
    """
    ns: dict[str, Any] = {
        "channel_cls": channel_cls,
        "fixtures": fixtures,
        "_config": staticmethod(config) if callable(config) else config,
        "__doc__": f"Conformance of the {channel_cls.name!r} fund channel (onestop.sdk.testing).",
    }
    return type(f"Test{channel_cls.__name__}Conformance", (_ChannelKit,), ns)
