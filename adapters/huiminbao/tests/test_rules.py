"""The 惠民保 adapter's own rules: member register, accumulators across legs, undo by negative deltas."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from onestop_huiminbao import HuiminbaoAdapter, HuiminbaoConfig

from onestop.domain.codes import ChargeCategory, ChrgitmLv
from onestop.domain.offer import AnswerStatus, Category, Offer
from onestop.errors import ConfigError, InvalidRequest
from onestop.products import load_design
from onestop.sdk import (
    CancelInput,
    CancelOutcome,
    EligibilityInput,
    PreSettleInput,
    QueryInput,
    ReasonCode,
    ReconcileInput,
    SettleInput,
    StateKey,
)
from onestop.sdk.testing import SampleLine, sample_offer
from onestop.testing import InMemoryStateStore

T = TypeVar("T")
PRODUCT = "heilongjiang-upgraded-2025"
DESIGN = load_design(PRODUCT)
C = Category


def _car_t(amount: int) -> tuple[SampleLine, ...]:
    return (("L1", "fixture: CAR-T", ChargeCategory.WESTERN_DRUG, ChrgitmLv.C, False, 10, {C.CIDL: amount}),)


def _offer(amount: int, *, ref: str, member: str = "m-1", diagnoses: tuple[str, ...] = ("C83.300",)) -> Offer:
    return sample_offer(
        "huiminbao", product=PRODUCT, lines=_car_t(amount), member_ref=member, reference=ref, diagnoses=diagnoses
    )


def _run(body: Callable[[HuiminbaoAdapter, InMemoryStateStore], Awaitable[T]], **config: object) -> T:
    store = InMemoryStateStore()
    adapter = HuiminbaoAdapter(HuiminbaoConfig.model_validate(config), state=store)
    return asyncio.run(body(adapter, store))


async def _enrol(a: HuiminbaoAdapter, member: str = "m-1", **kw: object) -> bool:
    args: dict[str, object] = {"enrolled_on": dt.date(2026, 1, 1), "region": "230100", "insutype": "310", "age": 52}
    args.update(kw)
    return await a.register.register(DESIGN, member, **args)  # type: ignore[arg-type]


def test_unregistered_member_is_declined_when_the_register_is_required():
    """With register_required (the default) a member missing from the register is declined NOT_ELIGIBLE."""

    async def body(a: HuiminbaoAdapter, store: InMemoryStateStore) -> None:
        res = await a.settle(SettleInput(offer=_offer(5_000_000, ref="r1")))
        assert (res.status, res.reason, res.paid_fen) == (AnswerStatus.DECLINED, ReasonCode.NOT_ELIGIBLE, 0)
        await _enrol(a)
        res = await a.settle(SettleInput(offer=_offer(5_000_000, ref="r2")))
        assert res.paid_fen == 5_000_000 - 1_200_000  # CAR-T: 100 % above the 1.2万 deductible

    _run(body)


def test_registered_pre_existing_condition_lowers_the_ratio():
    """A member registered with malignant tumours is paid 35 % on a CAR-T claim for a lymphoma (C83)."""

    async def body(a: HuiminbaoAdapter, store: InMemoryStateStore) -> None:
        await _enrol(a, pre_existing=("malignant_tumour",))
        res = await a.settle(SettleInput(offer=_offer(5_000_000, ref="r1")))
        assert res.paid_fen == 1_330_000  # (5万 − 1.2万) × 35 %
        assert res.reason is ReasonCode.PRE_EXISTING_CONDITION
        other = await a.settle(SettleInput(offer=_offer(5_000_000, ref="r2", diagnoses=("I21.000",))))
        assert other.paid_fen == 5_000_000  # deductible already borne this year; not a pre-existing diagnosis

    _run(body)


def test_register_checks_eligibility_period_and_groups_and_applies_once():
    """Registration refuses a member the design does not admit; a second registration changes nothing."""

    async def body(a: HuiminbaoAdapter, store: InMemoryStateStore) -> None:
        with pytest.raises(InvalidRequest, match="not admitted"):
            await _enrol(a, region="120100")
        with pytest.raises(InvalidRequest, match="outside the policy period"):
            await _enrol(a, enrolled_on=dt.date(2027, 1, 1))
        with pytest.raises(InvalidRequest, match="unknown pre-existing group"):
            await _enrol(a, pre_existing=("gout",))
        assert await _enrol(a) is True
        assert await _enrol(a, enrolled_on=dt.date(2026, 2, 1)) is False
        facts = await a.register.facts(DESIGN, "m-1")
        assert facts is not None
        assert facts.enrolled_on == dt.date(2026, 1, 1)

    _run(body)


def test_member_enrolled_after_admission_is_not_eligible():
    """Cover starts at enrolment: an admission before it is declined NOT_ELIGIBLE."""

    async def body(a: HuiminbaoAdapter, store: InMemoryStateStore) -> None:
        await _enrol(a, enrolled_on=dt.date(2026, 3, 5))
        res = await a.settle(SettleInput(offer=_offer(5_000_000, ref="r1")))
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, ReasonCode.NOT_ELIGIBLE)

    _run(body)


def test_accumulators_carry_across_legs_and_cancel_gives_them_back():
    """A second claim of the year bears no deductible again and is capped by what is left of the sum insured;
    cancelling the first gives its deductible and sum insured back by negative deltas."""

    async def body(a: HuiminbaoAdapter, store: InMemoryStateStore) -> None:
        first = await a.settle(SettleInput(offer=_offer(90_000_000, ref="r1")))
        assert first.paid_fen == 90_000_000 - 1_200_000
        second = await a.settle(SettleInput(offer=_offer(20_000_000, ref="r2")))
        assert second.paid_fen == 100_000_000 - first.paid_fen  # what is left of the 100万 CAR-T sum insured
        assert second.reason is ReasonCode.CAP_REACHED
        key = StateKey("huiminbao", PRODUCT, "m-1", 2026, "paid:car_t")
        assert await store.get(key) == 100_000_000
        await a.cancel(CancelInput(reference="r1", payer="huiminbao"))
        assert await store.get(key) == second.paid_fen
        assert await store.get(StateKey("huiminbao", PRODUCT, "m-1", 2026, "deductible:car_t")) == 0
        assert store.values == store.replayed_values()

    _run(body, register_required=False)


def test_a_cancel_that_overtakes_its_settle_keeps_it_from_booking():
    """A cancel for a leg not booked yet (its settle still on the way, its caller gone) leaves a cancelled
    tombstone: the late settle books nothing and answers DECLINED / CANCELLED, and no accumulator moves —
    a settle that is first is cancelled as usual."""

    async def body(a: HuiminbaoAdapter, store: InMemoryStateStore) -> None:
        first = await a.cancel(CancelInput(reference="late", payer="huiminbao"))
        assert first.outcome is CancelOutcome.NOTHING_TO_CANCEL
        late = await a.settle(SettleInput(offer=_offer(90_000_000, ref="late")))
        assert (late.status, late.reason, late.paid_fen) == (AnswerStatus.DECLINED, ReasonCode.CANCELLED, 0)
        assert not any(store.values.values())
        found = await a.query(QueryInput(reference="late", payer="huiminbao"))
        assert found.cancelled
        assert found.paid_fen == 0
        on_time = await a.settle(SettleInput(offer=_offer(90_000_000, ref="on-time")))
        assert on_time.paid_fen > 0
        undone = await a.cancel(CancelInput(reference="on-time", payer="huiminbao"))
        assert undone.outcome is CancelOutcome.REFUNDED
        assert not any(store.values.values())

    _run(body, register_required=False)


def test_pre_settle_writes_nothing_and_replay_answers_the_first():
    """A trial changes no counter; a replayed settle returns the first answer even after other legs."""

    async def body(a: HuiminbaoAdapter, store: InMemoryStateStore) -> None:
        trial = await a.pre_settle(PreSettleInput(offer=_offer(5_000_000, ref="r1")))
        assert trial.paid_fen == 3_800_000
        assert store.journal == []
        first = await a.settle(SettleInput(offer=_offer(5_000_000, ref="r1")))
        await a.settle(SettleInput(offer=_offer(5_000_000, ref="r2")))
        again = await a.settle(SettleInput(offer=_offer(5_000_000, ref="r1")))
        assert again == first
        q = await a.query(QueryInput(reference="r1", payer="huiminbao"))
        assert (q.found, q.paid_fen, q.payer_claim_id) == (True, first.paid_fen, first.payer_claim_id)

    _run(body, register_required=False)


def test_eligibility_reports_remaining_sum_insured_per_liability():
    """Eligibility says covered and what is left per liability after a paid claim."""

    async def body(a: HuiminbaoAdapter, store: InMemoryStateStore) -> None:
        await _enrol(a)
        await a.settle(SettleInput(offer=_offer(5_000_000, ref="r1")))
        inp = EligibilityInput(
            reference="e1",
            payer="huiminbao",
            product=PRODUCT,
            policy_no="P",
            member_ref="m-1",
            on_date=dt.date(2026, 4, 1),
        )
        res = await a.eligibility(inp)
        assert res.eligible
        assert res.remaining_fen["car_t"] == 100_000_000 - 3_800_000
        assert res.remaining_fen["in_catalog"] == 100_000_000
        stranger = await a.eligibility(inp.model_copy(update={"member_ref": "m-2"}))
        assert (stranger.eligible, stranger.reason) == (False, ReasonCode.NOT_ELIGIBLE)

    _run(body)


def test_reconcile_counts_paid_legs_of_the_day():
    """Reconcile counts the legs paid on the day and their total, not declined or cancelled ones."""

    async def body(a: HuiminbaoAdapter, store: InMemoryStateStore) -> None:
        day = dt.datetime.now(dt.UTC).date()
        await a.settle(SettleInput(offer=_offer(5_000_000, ref="r1")))
        await a.settle(SettleInput(offer=_offer(5_000_000, ref="r2", member="m-2")))
        await a.settle(SettleInput(offer=_offer(100, ref="r3", member="m-3")))  # below the deductible: declined
        await a.cancel(CancelInput(reference="r2", payer="huiminbao"))
        rec = await a.reconcile(ReconcileInput(payer="huiminbao", day=day))
        assert (rec.count, rec.paid_fen, rec.references) == (1, 3_800_000, ("r1",))

    _run(body, register_required=False)


def test_unknown_product_is_declined_and_bad_config_refused():
    """An offer for a product the adapter does not sell is declined NOT_COVERED; an unknown code in config is refused."""

    async def body(a: HuiminbaoAdapter, store: InMemoryStateStore) -> None:
        offer = _offer(5_000_000, ref="r1").model_copy(update={"product": "tianjin-2025"})
        res = await a.settle(SettleInput(offer=offer))
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, ReasonCode.NOT_COVERED)

    _run(body, products=(PRODUCT,))
    with pytest.raises(ConfigError, match="unknown products"):
        HuiminbaoAdapter(HuiminbaoConfig(products=("nowhere",)), state=InMemoryStateStore())
