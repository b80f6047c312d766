"""Faults at the payers (seeded): nothing lost, nothing paid twice, every leg closed or on the manual queue."""

from __future__ import annotations

import datetime as dt

import pytest
from reliability.catalogs import catalogs
from reliability.profile import FULL, size
from reliability.saga import check_run, paid_totals, run

from onestop.policy import policy_for
from onestop.testing.faults import Fault, FaultPlan

# In the full profile (make proof: -m slow) the same tests run at the counts of reliability.md §6.
pytestmark = [pytest.mark.slow] if FULL else []

CATALOGS = catalogs()
POLICY = policy_for("990100", dt.date(2026, 3, 1))
N = size(300, 5_000)


@pytest.mark.parametrize("seed", [11, 29])
def test_faulty_insurers_and_fund_keep_every_invariant(seed):
    """30% of payer calls fail (all fault kinds): settle sent once per leg, insurer and settlement agree to the fen."""
    r = run(
        seed, N, FaultPlan(seed, rate=0.3), catalogs=CATALOGS, policy=POLICY, fund_plan=FaultPlan(seed + 1, rate=0.3)
    )
    print(f"seed {seed}: faults {r.fault_counts()} manual {len(r.manual)} passes {r.passes}")
    assert check_run(r) == []
    said, held = paid_totals(r)
    assert said == held
    # Every fault kind actually fired on settle, or the run proves less than it claims.
    fired = {k.split(":")[2] for k in r.fault_counts() if k.split(":")[1] == "settle"}
    assert fired >= {f.value for f in Fault if f is not Fault.NONE}


def test_non_sticky_faults_leave_nothing_on_the_manual_queue():
    """With transient faults only, the resolver closes every open leg within its pass budget (expected 0 manual)."""
    seed = 5
    r = run(
        seed, N, FaultPlan(seed, rate=0.3), catalogs=CATALOGS, policy=POLICY, fund_plan=FaultPlan(seed + 1, rate=0.3)
    )
    assert r.manual == {}


def test_fund_failure_after_commercial_approval_cancels_each_approval_with_its_own_reference():
    """The fund leg always declines: every approved commercial leg is cancelled once, under its own reference."""
    seed = 41
    n = size(60, 1_000)
    r = run(
        seed,
        n,
        FaultPlan(seed, rate=0.0),
        catalogs=CATALOGS,
        policy=POLICY,
        fund_plan=FaultPlan(seed, rate=1.0, weights={Fault.DECLINE: 1}, flows=frozenset({"settle"})),
    )
    assert check_run(r) == []
    assert {o.status for o in r.outcomes} == {"failed"}
    approvals = {leg.reference: leg.payer for o in r.outcomes for leg in o.settlement.commercial if leg.paid_fen > 0}
    assert approvals, "the run must have commercial approvals to compensate"
    for ref, payer in approvals.items():
        cancels = [c for c in r.insurers[payer].calls if c == ("cancel", ref)]
        assert len(cancels) == 1
    assert paid_totals(r) == (0, 0)


def test_cancellations_that_keep_failing_land_on_the_manual_queue_with_a_reason():
    """A sticky cancel fault never clears: past the budget the leg is on the manual queue, reported, never lost."""
    seed = 73
    n = size(120, 2_000)
    plan = FaultPlan(
        seed,
        rate=0.6,
        weights={Fault.UNAVAILABLE: 1, Fault.DECLINE: 1},
        flows=frozenset({"cancel"}),
        sticky_rate=0.5,
    )
    fund_plan = FaultPlan(seed, rate=0.5, weights={Fault.DECLINE: 1}, flows=frozenset({"settle"}))
    r = run(seed, n, plan, catalogs=CATALOGS, policy=POLICY, fund_plan=fund_plan, budget=4)
    print(f"seed {seed}: manual queue {len(r.manual)} of {n} settlements")
    assert check_run(r) == []
    assert r.manual, "sticky cancel faults must put legs on the manual queue"
    for ref, reason in r.manual.items():
        payer = ref.rsplit(":", 1)[1]
        assert r.faulty[payer].attempts("cancel", ref) == 4
        assert reason.startswith("cancel did not finish")
        # The insurer still holds the approval: that is exactly why a human must act.
        assert r.insurers[payer].orders[ref].cancelled is False
