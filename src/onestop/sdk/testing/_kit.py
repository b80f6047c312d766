"""The conformance kit for insurer adapters: a pytest class built from declared capabilities.

Usage, in an adapter package's ``tests/test_core.py``::

    TestCore = get_adapter_test_class(MyAdapter, config=MyAdapter.Config(...), fixtures=standard_fixtures("my"))

Cases (each a method whose docstring states the rule): load validation; happy path; partial;
decline; pre-settle = settle; pre-settle pays nothing; idempotent replay; lost answer → unknown →
query finds it; lost request → query says not found → failed; unknown at the cashier's deadline →
unpaid and cancelled, never paid twice; cancel/refund and its idempotence; CIDL lines;
totals-only offers; integrity violations rejected; unsupported flows; eligibility; reconcile;
secrets never logged; stateful adapters reverse by negative deltas.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from onestop.domain.offer import AnswerStatus, Category, Offer
from onestop.errors import IntegrityViolation, UnsupportedFlow
from onestop.sdk import (
    INSURER_REQUIRED,
    AdapterConfig,
    CallPolicy,
    CancelInput,
    CancelOutcome,
    EligibilityInput,
    InsurerAdapter,
    InsurerCaller,
    InsurerFlow,
    OfferDetail,
    PaymentResult,
    PreSettleInput,
    QueryInput,
    ReasonCode,
    ReconcileInput,
    Resolver,
    SettleInput,
    validate_adapter,
)
from onestop.sdk.testing._samples import sample_offer, with_fresh_reference
from onestop.sdk.testing._shims import Inflate, LoseAnswer, LoseRequest, Misreference, Record, UnreachableQuery
from onestop.testing import FakeClock, InMemoryStateStore

__all__ = ["AdapterFixtures", "get_adapter_test_class", "standard_fixtures"]

T = TypeVar("T")
_PAYING = (AnswerStatus.APPROVED, AnswerStatus.PARTIAL)


@dataclass(frozen=True, slots=True)
class AdapterFixtures:
    """Offers the kit settles, each with the outcome the adapter's rules must give.

    Attributes:
        happy: An offer the adapter pays (APPROVED or PARTIAL, something paid).
        partial: An offer it pays only in part (PARTIAL, 0 < paid < offered); case skipped when None.
        decline: An offer it declines (DECLINED, nothing paid, a reason); case skipped when None.
        cidl: An offer with a CIDL drug line it pays (something in the CIDL category); skipped when None.
    """

    happy: Offer
    partial: Offer | None = None
    decline: Offer | None = None
    cidl: Offer | None = None


def standard_fixtures(payer: str) -> AdapterFixtures:
    """The kit's own sample offers for ``payer`` (happy and CIDL; add partial/decline for your rules)."""
    return AdapterFixtures(happy=sample_offer(payer), cidl=sample_offer(payer, kind="cidl"))


def _payments(r: PaymentResult) -> tuple[str, tuple[Any, ...], dict[Category, int]]:
    lines = tuple(
        sorted((lp.feedetl_sn, tuple(sorted((str(c), int(v)) for c, v in lp.amounts.items()))) for lp in r.lines)
    )
    return (str(r.status), lines, {c: int(v) for c, v in r.totals.items() if v})


class _InsurerKit:
    """Shared machinery of the generated class (pytest does not collect underscore classes)."""

    adapter_cls: type[InsurerAdapter]
    fixtures: AdapterFixtures
    _config: AdapterConfig | Callable[[], AdapterConfig] | None = None

    # -- machinery -------------------------------------------------------------------------------

    def make_config(self) -> AdapterConfig:
        """The adapter's config (override in a subclass to build it from a running test server)."""
        cfg = self._config
        if cfg is None:
            return self.adapter_cls.Config()
        return cfg() if callable(cfg) else cfg

    def make_adapter(self, state: InMemoryStateStore | None = None) -> InsurerAdapter:
        """A fresh adapter for one case."""
        return self.adapter_cls(self.make_config(), state=state if state is not None else InMemoryStateStore())

    def run(
        self, body: Callable[[InsurerAdapter, FakeClock], Awaitable[T]], *, state: InMemoryStateStore | None = None
    ) -> T:
        """Run one async case against a fresh adapter, closing it afterwards."""

        async def main() -> T:
            adapter = self.make_adapter(state)
            try:
                return await body(adapter, FakeClock())
            finally:
                await adapter.aclose()

        return asyncio.run(main())

    @staticmethod
    def caller(target: Any, clock: FakeClock) -> InsurerCaller:
        """The SDK caller around ``target`` with the fake clock."""
        return InsurerCaller(target, clock=clock, policy=CallPolicy())

    def offer(self, which: str = "happy") -> Offer:
        """A fixture offer under a fresh reference (``pytest.skip`` when the fixture is absent)."""
        base: Offer | None = getattr(self.fixtures, which)
        if base is None:
            pytest.skip(f"no {which!r} fixture given to get_adapter_test_class")
        return with_fresh_reference(base, which[:3] + "-")

    # -- cases -----------------------------------------------------------------------------------

    def test_validates_at_load(self) -> None:
        """The adapter class passes the SDK's load-time validation."""
        assert validate_adapter(self.adapter_cls, name=self.adapter_cls.name) is self.adapter_cls

    def test_happy_path_pays_within_offer(self) -> None:
        """The happy offer is paid (something, never more than offered) and converts to the engine's answer."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            res = await self.caller(a, clock).settle(SettleInput(offer=offer))
            assert res.status in _PAYING, res
            assert 0 < res.paid_fen <= offer.total
            answer = res.to_answer()
            assert (answer.reference, answer.payer, answer.status) == (offer.reference, offer.payer, res.status)

        self.run(body)

    def test_partial_approval(self) -> None:
        """The partial offer is paid in part: PARTIAL with 0 < paid < offered."""
        offer = self.offer("partial")

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            res = await self.caller(a, clock).settle(SettleInput(offer=offer))
            assert res.status is AnswerStatus.PARTIAL, res
            assert 0 < res.paid_fen < offer.total

        self.run(body)

    def test_decline(self) -> None:
        """The decline offer is DECLINED, pays nothing and says why."""
        offer = self.offer("decline")

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            res = await self.caller(a, clock).settle(SettleInput(offer=offer))
            assert res.status is AnswerStatus.DECLINED, res
            assert res.paid_fen == 0
            assert res.reason is not ReasonCode.NONE or res.raw_code

        self.run(body)

    def test_pre_settle_equals_settle(self) -> None:
        """Pre-settle and settle answer the same payments for the same offer."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            c = self.caller(a, clock)
            trial = await c.pre_settle(PreSettleInput(offer=offer))
            final = await c.settle(SettleInput(offer=offer))
            assert _payments(trial) == _payments(final)

        self.run(body)

    def test_pre_settle_pays_nothing(self) -> None:
        """A pre-settle leaves no paid leg at the insurer."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            c = self.caller(a, clock)
            await c.pre_settle(PreSettleInput(offer=offer))
            q = await c.query(QueryInput(reference=offer.reference, payer=offer.payer))
            assert not (q.found and q.status in _PAYING and not q.cancelled), q

        self.run(body)

    def test_replay_same_reference_pays_once(self) -> None:
        """A settle replayed with the same reference returns the first result and pays once."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            c = self.caller(a, clock)
            first = await c.settle(SettleInput(offer=offer))
            again = await c.settle(SettleInput(offer=offer))
            assert _payments(first) == _payments(again)
            assert first.payer_claim_id == again.payer_claim_id
            if a.supports(InsurerFlow.RECONCILE):
                rec = await c.reconcile(ReconcileInput(payer=offer.payer, day=dt.datetime.now(dt.UTC).date()))
                if rec.references:
                    assert rec.references.count(offer.reference) == 1

        self.run(body)

    def test_lost_answer_is_resolved_by_query(self) -> None:
        """A settle whose answer is lost is UNKNOWN, then resolved by query to what the insurer booked."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            rec = Record(a)
            res = await self.caller(LoseAnswer(rec), clock).settle(SettleInput(offer=offer))
            assert len(rec.settles) == 1, "a settle must never be re-sent"
            assert res.status in _PAYING, res
            q = await self.caller(a, clock).query(QueryInput(reference=offer.reference, payer=offer.payer))
            assert _payments(res) == _payments(q.to_settle_result())

        self.run(body)

    def test_lost_request_is_failed_after_query(self) -> None:
        """A settle that never arrived is failed only because the query says, definitively, not found."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            res = await self.caller(LoseRequest(a), clock).settle(SettleInput(offer=offer))
            assert res.status is AnswerStatus.DECLINED
            assert res.reason is ReasonCode.SETTLE_FAILED
            assert res.paid_fen == 0

        self.run(body)

    def test_unknown_at_deadline_is_unpaid_then_cancelled(self) -> None:
        """A leg still unknown at the cashier's deadline pays nothing now and is cancelled, never paid twice."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            rec = Record(a)
            flaky = self.caller(UnreachableQuery(LoseAnswer(rec)), clock)
            resolver = Resolver({offer.payer: flaky})
            answer = await resolver.settle_for_cashier(SettleInput(offer=offer))
            assert answer.status is AnswerStatus.UNKNOWN
            assert not answer.lines
            assert not any(answer.totals.values())
            assert [leg.reference for leg in resolver.pending] == [offer.reference]
            outcomes = await resolver.resolve_pending()
            assert [o.done for o in outcomes] == [True]
            assert resolver.pending == ()
            assert len(rec.settles) == 1
            q = await self.caller(a, clock).query(QueryInput(reference=offer.reference, payer=offer.payer))
            assert not q.found or q.cancelled, q

        self.run(body)

    def test_cancel_refunds_and_is_idempotent(self) -> None:
        """Cancel undoes a paid leg (refund or cancel); a second cancel has nothing to do."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            c = self.caller(a, clock)
            paid = await c.settle(SettleInput(offer=offer))
            first = await c.cancel(CancelInput(reference=offer.reference, payer=offer.payer))
            assert first.outcome in (CancelOutcome.REFUNDED, CancelOutcome.CANCELLED)
            if first.outcome is CancelOutcome.REFUNDED:
                assert first.refunded_fen == paid.paid_fen
            q = await c.query(QueryInput(reference=offer.reference, payer=offer.payer))
            assert q.found
            assert q.cancelled
            again = await c.cancel(CancelInput(reference=offer.reference, payer=offer.payer))
            assert again.outcome is CancelOutcome.NOTHING_TO_CANCEL

        self.run(body)

    def test_unknown_reference(self) -> None:
        """Query of a reference never settled is a definitive not-found; cancel of it has nothing to do."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            c = self.caller(a, clock)
            q = await c.query(QueryInput(reference=offer.reference, payer=offer.payer))
            assert q.found is False
            res = await c.cancel(CancelInput(reference=offer.reference, payer=offer.payer))
            assert res.outcome is CancelOutcome.NOTHING_TO_CANCEL

        self.run(body)

    def test_cidl_lines(self) -> None:
        """An adapter that declares CIDL pays CIDL drug lines in the CIDL category; others never do."""
        offer = self.offer("cidl")

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            res = await self.caller(a, clock).settle(SettleInput(offer=offer))
            cidl_paid = res.paid_by_category().get(Category.CIDL, 0)
            if a.capabilities.pays_cidl:
                assert cidl_paid > 0, res
            else:
                assert cidl_paid == 0

        self.run(body)

    def test_totals_only_offer(self) -> None:
        """An offer without line detail (no consent) is answered in category totals."""
        offer = self.offer().model_copy(update={"lines": ()})

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            res = await self.caller(a, clock).settle(SettleInput(offer=offer))
            assert res.lines == ()
            assert res.status in _PAYING, res

        self.run(body)

    def test_detail_follows_capabilities(self) -> None:
        """A totals-only adapter never receives lines; a per-line adapter receives them."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            rec = Record(a)
            await self.caller(rec, clock).settle(SettleInput(offer=offer))
            sent = rec.settles[0].offer
            assert bool(sent.lines) is (a.capabilities.detail is OfferDetail.LINES)

        self.run(body)

    def test_overpayment_is_rejected_and_logged(self) -> None:
        """A result paying more than offered is rejected (IntegrityViolation) and logged, never returned."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            with capture_logs() as logs, pytest.raises(IntegrityViolation):
                await self.caller(Inflate(a), clock).settle(SettleInput(offer=offer))
            assert any(e["event"] == "adapter.integrity_violation" for e in logs)

        self.run(body)

    def test_reference_must_echo(self) -> None:
        """A result under another reference is rejected."""
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            with pytest.raises(IntegrityViolation):
                await self.caller(Misreference(a), clock).settle(SettleInput(offer=offer))

        self.run(body)

    def test_unsupported_flows_raise(self) -> None:
        """Every optional flow not declared raises UnsupportedFlow, from the adapter and from the caller."""
        offer = self.offer()
        missing = [f for f in InsurerFlow if f not in self.adapter_cls.capabilities.flows]
        assert not (INSURER_REQUIRED & set(missing))
        inputs: dict[InsurerFlow, Any] = {
            InsurerFlow.ELIGIBILITY: EligibilityInput(
                reference=offer.reference,
                payer=offer.payer,
                product=offer.product,
                policy_no=offer.policy_no,
                member_ref=offer.member_ref,
                on_date=dt.date(2026, 3, 2),
            ),
            InsurerFlow.RECONCILE: ReconcileInput(payer=offer.payer, day=dt.date(2026, 3, 2)),
        }

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            c = self.caller(a, clock)
            for flow in missing:
                with pytest.raises(UnsupportedFlow):
                    await getattr(a, flow.value)(inputs[flow])
                with pytest.raises(UnsupportedFlow):
                    await getattr(c, flow.value)(inputs[flow])

        self.run(body)

    def test_eligibility(self) -> None:
        """Eligibility echoes the reference and says whether the member is covered."""
        if not self.adapter_cls.capabilities.flows >= {InsurerFlow.ELIGIBILITY}:
            pytest.skip("eligibility not declared")
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            res = await self.caller(a, clock).eligibility(
                EligibilityInput(
                    reference=offer.reference,
                    payer=offer.payer,
                    product=offer.product,
                    policy_no=offer.policy_no,
                    member_ref=offer.member_ref,
                    on_date=dt.date(2026, 3, 2),
                )
            )
            assert res.reference == offer.reference
            assert res.eligible is True

        self.run(body)

    def test_reconcile_counts_standing_legs(self) -> None:
        """Reconcile lists a settled leg once, and not after it was cancelled."""
        if InsurerFlow.RECONCILE not in self.adapter_cls.capabilities.flows:
            pytest.skip("reconcile not declared")
        offer = self.offer()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            c = self.caller(a, clock)
            day = dt.datetime.now(dt.UTC).date()
            await c.settle(SettleInput(offer=offer))
            before = await c.reconcile(ReconcileInput(payer=offer.payer, day=day))
            await c.cancel(CancelInput(reference=offer.reference, payer=offer.payer))
            after = await c.reconcile(ReconcileInput(payer=offer.payer, day=day))
            assert after.count == before.count - 1
            if before.references:
                assert offer.reference in before.references
                assert offer.reference not in after.references

        self.run(body)

    def test_secrets_never_logged_or_printed(self) -> None:
        """No SecretStr value of the config appears in its repr or in any log event of a settle."""
        offer = self.offer()
        config = self.make_config()
        secrets = [v.get_secret_value() for _k, v in config if isinstance(v, SecretStr) and v.get_secret_value()]
        for s in secrets:
            assert s not in repr(config)
            assert s not in str(config)

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            with capture_logs() as logs:
                await self.caller(a, clock).settle(SettleInput(offer=offer))
            assert logs, "the caller logs every call"
            for s in secrets:
                assert all(s not in repr(e) for e in logs)

        self.run(body)

    def test_state_reversed_by_negative_deltas(self) -> None:
        """A stateful adapter's cancel applies the negated deltas of its settle (never a snapshot)."""
        if not self.adapter_cls.capabilities.stateful:
            pytest.skip("adapter is not stateful")
        offer = self.offer()
        store = InMemoryStateStore()

        async def body(a: InsurerAdapter, clock: FakeClock) -> None:
            c = self.caller(a, clock)
            await c.settle(SettleInput(offer=offer))
            await c.settle(SettleInput(offer=offer))
            settled = [d for ref, d in store.journal]
            assert settled, "a paid settle of a stateful adapter changes its state"
            await c.cancel(CancelInput(reference=offer.reference, payer=offer.payer))
            undo = [d for ref, d in store.journal[len(settled) :]]
            assert sorted((d.key, -d.delta) for d in undo) == sorted((d.key, d.delta) for d in settled)
            assert store.values == store.replayed_values()
            assert all(v == 0 for v in store.values.values())

        self.run(body, state=store)


def get_adapter_test_class(
    adapter_cls: type[InsurerAdapter],
    *,
    config: AdapterConfig | Callable[[], AdapterConfig] | None = None,
    fixtures: AdapterFixtures | None = None,
) -> type:
    """Build the conformance test class for an insurer adapter.

    Args:
        adapter_cls: The adapter class.
        config: Its config, or a callable returning one per case (e.g. pointing at a test server).
            Default: ``adapter_cls.Config()``.
        fixtures: Offers and expected outcomes (default: :func:`standard_fixtures`).

    Returns:
        A pytest test class; bind it to a ``Test…`` name in a test module. Cases that do not apply
        to the declared capabilities or fixtures are skipped with the reason.
    """
    fx = fixtures or standard_fixtures(adapter_cls.name)
    ns: dict[str, Any] = {
        "adapter_cls": adapter_cls,
        "fixtures": fx,
        "_config": staticmethod(config) if callable(config) else config,
        "__doc__": f"Conformance of the {adapter_cls.name!r} insurer adapter (onestop.sdk.testing).",
    }
    return type(f"Test{adapter_cls.__name__}Conformance", (_InsurerKit,), ns)
