"""Shared helpers of the gateway core tests: bills, fingerprints, a fake fund channel, a crash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

from onestop.domain import Bill, parse_bill_json
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

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "bills"
HOSPITAL = "H22010100001"
#: The data key the tests' gateways seal personal data with (base64 of 32 bytes).
DATA_KEY = "dGVzdC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE="


def bill_doc(name: str = "outpatient_b_class.json") -> dict[str, Any]:
    """An example bill as a JSON document."""
    doc: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return doc


def make_bill(doc: dict[str, Any], **visit: Any) -> Bill:
    """Parse a bill document, with visit fields overridden."""
    doc = json.loads(json.dumps(doc))
    doc["visit"].update(visit)
    return parse_bill_json(json.dumps(doc))


def fp(bill: Bill) -> bytes:
    """The request fingerprint transport would compute (sha256 of the canonical body)."""
    return hashlib.sha256(bill.model_dump_json().encode()).digest()


class Crash(BaseException):
    """Stands for SIGKILL at a crash point: nothing after it runs, no handler catches it."""


class FakeFund(FundChannel):
    """A basic-leg channel over the engine; ledger of settles, cancels and reversals by reference."""

    name: ClassVar[str] = "fakefund"
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(
        flows=frozenset({ChannelFlow.SETTLE, ChannelFlow.CANCEL, ChannelFlow.REVERSAL}), legs=frozenset({"basic"})
    )

    def __init__(self, catalogs: Any, policy: Any, *, decline: bool = False) -> None:
        super().__init__(AdapterConfig())
        self.catalogs = catalogs
        self.policy = policy
        self.decline = decline
        self.ledger: dict[str, bool] = {}
        self.settles: dict[str, int] = {}

    async def settle(self, inp: ChannelSettleInput) -> ChannelSettleResult:
        self.settles[inp.reference] = self.settles.get(inp.reference, 0) + 1
        if self.decline:
            return ChannelSettleResult(reference=inp.reference, status=AnswerStatus.DECLINED, raw_code="NOPE")
        leg = settle(inp.bill, self.catalogs, self.policy).basic
        self.ledger[inp.reference] = True
        return ChannelSettleResult(
            reference=inp.reference, status=AnswerStatus.APPROVED, leg=leg, setl_id=f"S-{inp.reference}"
        )

    async def cancel(self, inp: ChannelCancelInput) -> ChannelCancelResult:
        live = self.ledger.get(inp.original_reference, False)
        self.ledger[inp.original_reference] = False
        return ChannelCancelResult(reference=inp.reference, outcome="cancelled" if live else "nothing_to_cancel")

    async def reversal(self, inp: ReversalInput) -> ReversalResult:
        live = self.ledger.get(inp.original_reference, False)
        self.ledger[inp.original_reference] = False
        outcome = ReversalOutcome.REVERSED if live else ReversalOutcome.NOTHING_TO_REVERSE
        return ReversalResult(reference=inp.reference, outcome=outcome)


def deductible_doc(mdtrt_id: str, *, huiminbao: bool = False) -> dict[str, Any]:
    """An outpatient bill of one person large enough to use up the whole 310 outpatient deductible."""
    doc = bill_doc()
    doc["visit"]["mdtrt_id"] = mdtrt_id
    doc["patient"]["use_account"] = False
    doc["lines"][0].update(quantity="3000", amount_fen=195000)
    if huiminbao:
        doc["coverages"] = bill_doc("inpatient_car_t_huiminbao.json")["coverages"]
    return doc
