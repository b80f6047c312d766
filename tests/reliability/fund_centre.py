"""A fake fund centre for fault tests: settles the basic leg with the engine, idempotent by reference.

It keeps a ledger (reference → settled leg, reversed or not) so tests can check that nothing stands
at the fund for a failed settlement and that nothing was settled twice. Not a conformance reference:
just enough of a channel (settle, cancel, reversal) for the SDK's ChannelCaller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from onestop.domain.offer import AnswerStatus
from onestop.engine import settle
from onestop.sdk import (
    AdapterConfig,
    ChannelCancelInput,
    ChannelCancelResult,
    ChannelCapabilities,
    ChannelFlow,
    ChannelSettleInput,
    ChannelSettleResult,
    FundChannel,
    ReversalInput,
    ReversalOutcome,
    ReversalResult,
)


@dataclass
class FundEntry:
    """One settlement at the fund."""

    result: ChannelSettleResult
    reversed: bool = False


class FundCentre(FundChannel):
    """Basic-leg channel over the engine; every settle, cancel and reversal is recorded."""

    name: ClassVar[str] = "fund"
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(
        flows=frozenset({ChannelFlow.SETTLE, ChannelFlow.CANCEL, ChannelFlow.REVERSAL}), legs=frozenset({"basic"})
    )

    def __init__(self, catalogs: Any, policy: Any) -> None:
        super().__init__(AdapterConfig())
        self.catalogs = catalogs
        self.policy = policy
        self.ledger: dict[str, FundEntry] = {}
        self.settle_calls: dict[str, int] = {}

    async def settle(self, inp: ChannelSettleInput) -> ChannelSettleResult:
        self.settle_calls[inp.reference] = self.settle_calls.get(inp.reference, 0) + 1
        entry = self.ledger.get(inp.reference)
        if entry is None:
            leg = settle(inp.bill, self.catalogs, self.policy).basic
            result = ChannelSettleResult(
                reference=inp.reference, status=AnswerStatus.APPROVED, leg=leg, setl_id=f"S-{inp.reference}"
            )
            entry = self.ledger[inp.reference] = FundEntry(result)
        return entry.result

    def _undo(self, original: str) -> bool:
        entry = self.ledger.get(original)
        if entry is None or entry.reversed:
            return False
        entry.reversed = True
        return True

    async def cancel(self, inp: ChannelCancelInput) -> ChannelCancelResult:
        done = self._undo(inp.original_reference)
        return ChannelCancelResult(reference=inp.reference, outcome="cancelled" if done else "nothing_to_cancel")

    async def reversal(self, inp: ReversalInput) -> ReversalResult:
        done = self._undo(inp.original_reference)
        outcome = ReversalOutcome.REVERSED if done else ReversalOutcome.NOTHING_TO_REVERSE
        return ReversalResult(reference=inp.reference, outcome=outcome)

    def live(self, reference: str) -> bool:
        """True when a settlement under ``reference`` stands at the fund."""
        entry = self.ledger.get(reference)
        return entry is not None and not entry.reversed
