"""Test-only adapters and channels: a toy work-injury channel and deliberately broken adapters."""

from __future__ import annotations

from typing import Any, ClassVar

from onestop.domain.offer import AnswerStatus, Category
from onestop.domain.settlement import WorkInjuryLeg
from onestop.money import Fen
from onestop.sdk import (
    AdapterConfig,
    Capabilities,
    ChannelCancelInput,
    ChannelCancelResult,
    ChannelCapabilities,
    ChannelFlow,
    ChannelPreSettleInput,
    ChannelSettleInput,
    ChannelSettleResult,
    FundChannel,
    InsurerFlow,
    ReversalInput,
    ReversalOutcome,
    ReversalResult,
    SettleInput,
    SettleResult,
)
from onestop.testing import FakeInsurer


class ToyWorkInjuryChannel(FundChannel):
    """Pays work-related lines in full (a toy, not the work-injury rules)."""

    name: ClassVar[str] = "toy_wi"
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(
        flows=frozenset({ChannelFlow.PRE_SETTLE, ChannelFlow.SETTLE, ChannelFlow.CANCEL, ChannelFlow.REVERSAL}),
        legs=frozenset({"work_injury"}),
    )

    def __init__(self, config: AdapterConfig, **kw: Any) -> None:
        super().__init__(config, **kw)
        self.settled: dict[str, ChannelSettleResult] = {}
        self.undone: set[str] = set()

    def _leg(self, inp: ChannelSettleInput | ChannelPreSettleInput) -> ChannelSettleResult:
        total = sum(int(line.amount_fen) for line in inp.bill.lines if line.work_related)
        leg = WorkInjuryLeg(
            status="recognised",
            medfee_sumamt=Fen(total),
            fund_pay_fen=Fen(total),
            employer_pay_fen=Fen(0),
            patient_pay_fen=Fen(0),
        )
        return ChannelSettleResult(reference=inp.reference, status=AnswerStatus.APPROVED, leg=leg)

    async def pre_settle(self, inp: ChannelPreSettleInput) -> ChannelSettleResult:
        return self._leg(inp)

    async def settle(self, inp: ChannelSettleInput) -> ChannelSettleResult:
        if inp.reference not in self.settled:
            res = self._leg(inp)
            self.settled[inp.reference] = res.model_copy(update={"setl_id": f"S{len(self.settled) + 1}"})
        return self.settled[inp.reference]

    def _undo(self, original: str) -> bool:
        if original in self.settled and original not in self.undone:
            self.undone.add(original)
            return True
        return False

    async def cancel(self, inp: ChannelCancelInput) -> ChannelCancelResult:
        done = self._undo(inp.original_reference)
        return ChannelCancelResult(reference=inp.reference, outcome="cancelled" if done else "nothing_to_cancel")

    async def reversal(self, inp: ReversalInput) -> ReversalResult:
        done = self._undo(inp.original_reference)
        outcome = ReversalOutcome.REVERSED if done else ReversalOutcome.NOTHING_TO_REVERSE
        return ReversalResult(reference=inp.reference, outcome=outcome)


_REQUIRED = frozenset({InsurerFlow.PRE_SETTLE, InsurerFlow.SETTLE, InsurerFlow.QUERY, InsurerFlow.CANCEL})
_CATS = frozenset({Category.FULAMT_OWNPAY})


def _broken(name: str, **ns: Any) -> type:
    base: dict[str, Any] = {
        "name": name,
        "capabilities": Capabilities(
            flows=_REQUIRED | {InsurerFlow.ELIGIBILITY, InsurerFlow.RECONCILE}, categories=_CATS
        ),
    }
    return type(f"Broken_{name}", (FakeInsurer,), base | ns)


class _WrongArgs(FakeInsurer):
    name: ClassVar[str] = "wrong_args"

    async def settle(self, inp: SettleInput, extra: int) -> SettleResult:  # type: ignore[override]
        return await super().settle(inp)


class _SyncSettle(FakeInsurer):
    name: ClassVar[str] = "sync_settle"

    def settle(self, inp: SettleInput) -> SettleResult:  # type: ignore[override]
        raise AssertionError("never called")


class _WrongAnnotation(FakeInsurer):
    name: ClassVar[str] = "wrong_annotation"

    async def settle(self, inp: ChannelSettleInput) -> SettleResult:  # type: ignore[override]
        raise AssertionError("never called")


#: Broken adapters, each with the words its refusal message must contain.
BROKEN: dict[str, tuple[type, tuple[str, ...]]] = {
    "wrong_args": (_WrongArgs, ("wrong_args.settle", "exactly one argument")),
    "sync_settle": (_SyncSettle, ("sync_settle.settle", "async def")),
    "wrong_annotation": (_WrongAnnotation, ("wrong_annotation.settle", "ChannelSettleInput", "SettleInput")),
    "missing_query": (
        _broken("missing_query", capabilities=Capabilities(flows=_REQUIRED - {InsurerFlow.QUERY}, categories=_CATS)),
        ("missing_query.query", "required"),
    ),
    "undeclared": (
        _broken("undeclared", capabilities=Capabilities(flows=_REQUIRED, categories=_CATS)),
        ("undeclared.eligibility", "not declared"),
    ),
    "account_paid": (
        _broken(
            "account_paid", capabilities=Capabilities(flows=frozenset(InsurerFlow), categories=frozenset(Category))
        ),
        ("account_paid", "account_paid", "cannot be paid"),
    ),
    "no_capabilities": (_broken("no_capabilities", capabilities=None), ("no_capabilities", "capabilities")),
    "bad_config": (_broken("bad_config", Config=dict), ("bad_config", "Config")),
}


class NotAnAdapter:
    """Not a subclass of InsurerAdapter."""

    name = "not_an_adapter"
