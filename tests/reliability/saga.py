"""A seeded settlement run under faults, composed only of the project's pieces, and its invariant checks.

The host here is the smallest one the SDK allows: the engine's stages, one ``InsurerCaller`` per
commercial payer behind the SDK ``Resolver`` (settle once, unknown → query → cancel), then the fund
leg through a ``ChannelCaller`` (settle once, unknown → reversal). When the fund leg does not stand,
every commercial approval is compensated: handed to the Resolver and cancelled with its own
reference. Legs the resolver cannot close within its pass budget land on the manual queue with a
reason. :func:`check_run` then holds the run to reliability.md §6.10–11.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from reliability.fund_centre import FundCentre

from onestop.domain import parse_bill_json
from onestop.domain.offer import AnswerStatus
from onestop.domain.settlement import Settlement
from onestop.engine import apply_commercial, check_settlement, finalize, settle_funds
from onestop.engine.synthetic import ItemTemplate, synthetic_bill_doc
from onestop.errors import IntegrityViolation
from onestop.sdk import (
    CallPolicy,
    ChannelCaller,
    ChannelFlow,
    ChannelSettleInput,
    InsurerCaller,
    ReasonCode,
    Resolver,
    ReversalInput,
    ReversalOutcome,
    SettleInput,
    UnresolvedLeg,
)
from onestop.testing import FakeClock, FakeInsurer
from onestop.testing.faults import FaultPlan, FaultyChannel, FaultyInsurer

PAYERS = ("alpha", "beta")
#: Hyperswitch-like resolution schedule on the fake clock: first pass after 60 s, then every 300 s.
PASS_DELAYS_S = (60.0, *([300.0] * 9))

_ITEMS = (
    ItemTemplate("XA03AFX0001000000000000", "匹维溴铵", "09", 50, 5_000, "口服常释剂型", "50mg"),
    ItemTemplate("XV09GFX0067000000000000", "锝[99mTc]替曲膦注射液", "09", 10_000, 60_000),
    ItemTemplate("ZZ-NOT-IN-CATALOG-1", "自费项目", "14", 100, 200_000),
    ItemTemplate("ZZ-NOT-IN-CATALOG-2", "床位", "01", 2_000, 10_000),
)


@dataclass
class Outcome:
    """One settlement of the run."""

    index: int
    settlement: Settlement
    fund_reference: str
    status: str
    """settled | failed (the fund leg did not stand; commercial legs compensated)."""
    fund_status: str = ""


@dataclass
class Run:
    """Everything a run produced, for the checks."""

    seed: int
    outcomes: list[Outcome]
    insurers: dict[str, FakeInsurer]
    faulty: dict[str, FaultyInsurer]
    fund: FundCentre
    faulty_fund: FaultyChannel
    manual: dict[str, str] = field(default_factory=dict)
    """reference → reason, for legs the resolver could not close within its budget."""
    passes: int = 0

    def fault_counts(self) -> dict[str, int]:
        """All injected faults by payer:flow:fault."""
        out: Counter[str] = Counter()
        for name, f in {**self.faulty, "fund": self.faulty_fund}.items():
            for k, v in f.fault_counts().items():
                out[f"{name}:{k}"] += v
        return dict(sorted(out.items()))


def bill_doc(rng: random.Random, seed: int, k: int) -> dict[str, Any]:
    """A seeded bill with both commercial payers, in a random order."""
    payers = list(PAYERS)
    rng.shuffle(payers)
    doc = synthetic_bill_doc(
        rng,
        rng.randint(1, 12),
        _ITEMS,
        hospital={"code": "H0001", "tier": "三级", "region": "990100"},
        patient={
            "psn_no": f"P{k:05d}",
            "cert_type": "02",
            "cert_no": "c",
            "name": "n",
            "insutype": "310",
            "psn_type": "11",
            "age": 40,
            "sex": "1",
            "insured_region": "990100",
        },
        admission=dt.date(2026, 3, 1),
        los_days=rng.randint(1, 8),
        coverages=[{"payer": p, "product": "P1", "policy_no": f"{p}-{k}"} for p in payers],
    )
    doc["visit"]["mdtrt_id"] = f"F{seed}-{k:05d}"
    return doc


async def _run(
    seed: int, n: int, plan: FaultPlan, fund_plan: FaultPlan, catalogs: Any, policy: Any, budget: int
) -> Run:
    import json

    clock = FakeClock()
    call_policy = CallPolicy(timeout_s=10.0, settle_timeout_s=30.0)
    insurers = {p: FakeInsurer.variant(name=p)(clock=clock) for p in PAYERS}
    faulty = {p: FaultyInsurer(insurers[p], plan, clock=clock) for p in PAYERS}
    resolver = Resolver({p: InsurerCaller(faulty[p], policy=call_policy, clock=clock) for p in PAYERS})
    fund = FundCentre(catalogs, policy)
    faulty_fund = FaultyChannel(fund, fund_plan, clock=clock)
    channel = ChannelCaller(faulty_fund, policy=call_policy, clock=clock)
    rng = random.Random(seed)
    outcomes: list[Outcome] = []
    open_fund: dict[str, str] = {}  # fund reference → why it must be reversed

    for k in range(n):
        bill = parse_bill_json(json.dumps(bill_doc(rng, seed, k)))
        state = settle_funds(bill, catalogs, policy)
        for idx in range(len(bill.coverages)):
            offer = state.offer_for(idx)
            answer = await resolver.settle_for_cashier(SettleInput(offer=offer))
            state = apply_commercial(state, answer, offer=offer)
        settlement = finalize(state)
        check_settlement(settlement)
        fund_ref = f"{bill.hospital.code}:{bill.visit.mdtrt_id}:fund"
        try:
            res = await channel.settle(
                ChannelSettleInput(reference=fund_ref, bill=bill), reversal_reference=fund_ref + ":rev"
            )
            fund_status = res.status
        except IntegrityViolation:
            fund_status = AnswerStatus.UNKNOWN  # the fund may have booked it: reverse, never trust
        if fund_status in (AnswerStatus.APPROVED, AnswerStatus.PARTIAL):
            outcomes.append(Outcome(k, settlement, fund_ref, "settled", str(fund_status)))
            continue
        if fund_status is AnswerStatus.UNKNOWN:
            open_fund[fund_ref] = "fund settle outcome unknown"
        for leg in settlement.commercial:
            if leg.paid_fen > 0:
                # Compensation: the approval is cancelled with the leg's own reference.
                resolver.hand_over(
                    UnresolvedLeg(leg.reference, leg.payer, int(leg.offered_fen), leg.status, ReasonCode.CANCELLED)
                )
        outcomes.append(Outcome(k, settlement, fund_ref, "failed", str(fund_status)))

    last_reason: dict[str, str] = {}
    passes = 0
    for delay in PASS_DELAYS_S[:budget]:
        if not resolver.pending and not open_fund:
            break
        clock.advance(delay)
        passes += 1
        for o in await resolver.resolve_pending():
            if not o.done:
                last_reason[o.reference] = f"cancel did not finish: {o.detail or o.outcome}"
        for ref in sorted(open_fund):
            try:
                rev = await channel.call(
                    ChannelFlow.REVERSAL,
                    ReversalInput(reference=ref + ":rev", original_reference=ref, original_flow=ChannelFlow.SETTLE),
                )
            except Exception as exc:  # stays open for the next pass
                last_reason[ref] = f"reversal did not finish: {type(exc).__name__}"
                continue
            if rev.outcome in (ReversalOutcome.REVERSED, ReversalOutcome.NOTHING_TO_REVERSE):
                del open_fund[ref]
    manual = {leg.reference: last_reason.get(leg.reference, "unresolved") for leg in resolver.pending}
    manual.update({ref: last_reason.get(ref, why) for ref, why in open_fund.items()})
    return Run(seed, outcomes, insurers, faulty, fund, faulty_fund, manual, passes)


def run(
    seed: int,
    n: int,
    plan: FaultPlan,
    *,
    catalogs: Any,
    policy: Any,
    fund_plan: FaultPlan | None = None,
    budget: int = len(PASS_DELAYS_S),
) -> Run:
    """Settle ``n`` seeded bills under ``plan`` (insurers) and ``fund_plan`` (fund channel), then resolve."""
    return asyncio.run(_run(seed, n, plan, fund_plan or FaultPlan(seed, rate=0.0), catalogs, policy, budget))


def _live_paid(insurer: FakeInsurer, reference: str) -> int:
    order = insurer.orders.get(reference)
    return 0 if order is None or order.cancelled else int(order.result.paid_fen)


def check_run(r: Run) -> list[str]:
    """Every breach of the invariants in a run (empty when it holds); messages carry the seed."""
    bad: list[str] = []

    def fail(msg: str) -> None:
        bad.append(f"seed {r.seed}: {msg}")

    if sorted(o.index for o in r.outcomes) != list(range(len(r.outcomes))):
        fail("a settlement was lost")
    for o in r.outcomes:
        s = o.settlement
        if r.faulty_fund.attempts("settle", o.fund_reference) != 1:
            fail(f"{o.fund_reference}: fund settle sent {r.faulty_fund.attempts('settle', o.fund_reference)} times")
        fund_live = r.fund.live(o.fund_reference)
        if o.status == "settled" and not fund_live:
            fail(f"{o.fund_reference}: settled but nothing stands at the fund")
        if o.status == "failed" and fund_live and o.fund_reference not in r.manual:
            fail(f"{o.fund_reference}: failed but the fund settlement stands (not on the manual queue)")
        for leg in s.commercial:
            ref, payer = leg.reference, leg.payer
            sent = r.faulty[payer].attempts("settle", ref)
            if sent != 1:
                fail(f"{ref}: settle sent {sent} times (must be exactly once)")
            if ref in r.manual:
                continue
            live = _live_paid(r.insurers[payer], ref)
            expected = int(leg.paid_fen) if o.status == "settled" else 0
            if live != expected:
                fail(f"{ref}: insurer holds {live} fen live, settlement ({o.status}) says {expected}")
            if o.status == "settled" and leg.status not in (
                AnswerStatus.APPROVED,
                AnswerStatus.PARTIAL,
                AnswerStatus.DECLINED,
                AnswerStatus.UNKNOWN,
                AnswerStatus.PENDING,
            ):
                fail(f"{ref}: leg status {leg.status} is not a known state")
    for ref, reason in r.manual.items():
        if not reason:
            fail(f"{ref}: on the manual queue without a reason")
    return bad


def paid_totals(r: Run) -> tuple[int, int]:
    """(Σ what settlements say commercial payers paid, Σ what insurers hold live), manual legs excluded."""
    said = sum(
        int(leg.paid_fen)
        for o in r.outcomes
        if o.status == "settled"
        for leg in o.settlement.commercial
        if leg.reference not in r.manual
    )
    held = sum(_live_paid(ins, ref) for ins in r.insurers.values() for ref in ins.orders if ref not in r.manual)
    return said, held
