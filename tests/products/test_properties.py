"""Invariants of the adjudication over generated offers and claim sequences (hypothesis)."""

from __future__ import annotations

import asyncio
import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onestop_huiminbao import HuiminbaoAdapter, HuiminbaoConfig
from products.prod_helpers import line, offer

from onestop.domain.offer import PAYABLE, AnswerStatus, Category, Offer
from onestop.products import MemberFacts, adjudicate, in_process_payer, shipped_designs
from onestop.sdk import CancelInput, SettleInput
from onestop.testing import InMemoryStateStore

DESIGNS = shipped_designs()
MEMBER = MemberFacts(enrolled_on=dt.date(2026, 1, 1), pre_existing=frozenset({"malignant_tumour"}))
_CATS = sorted(PAYABLE, key=list(Category).index)

amounts = st.dictionaries(st.sampled_from(_CATS), st.integers(0, 60_000_000), min_size=1, max_size=4)
lines_st = st.lists(st.tuples(amounts, st.sampled_from([None, 1, 4, 10, 11, 19])), min_size=1, max_size=6).map(
    lambda rows: [line(str(i), a, cidl_no=c) for i, (a, c) in enumerate(rows, 1)]
)
diagnoses = st.sampled_from([("C83.300",), ("K35.800",), ("I21.000", "C34.900")])


def _offer(rows: list, product: str, dx: tuple[str, ...], ref: str = "r", totals_only: bool = False) -> Offer:
    o = offer(rows, product=product, diagnoses=dx, reference=ref)
    return o.model_copy(update={"lines": ()}) if totals_only else o


@settings(max_examples=150, deadline=None)
@given(rows=lines_st, product=st.sampled_from(sorted(DESIGNS)), dx=diagnoses, totals_only=st.booleans())
def test_never_pays_more_than_offered_and_deltas_match(rows, product, dx, totals_only):
    """No cell or category is paid above the offer; the paid deltas equal what was paid; status follows the amounts."""
    o = _offer(rows, product, dx, totals_only=totals_only)
    r = adjudicate(DESIGNS[product], o, MEMBER, {})
    for c, v in r.totals.items():
        assert 0 < v <= o.totals[c]
    offered_cells = {(lo.feedetl_sn, c): v for lo in o.lines for c, v in lo.amounts.items()}
    for lp in r.lines:
        for c, v in lp.amounts.items():
            assert v <= offered_cells[(lp.feedetl_sn, c)]
    if o.lines:
        assert sum(int(v) for lp in r.lines for v in lp.amounts.values()) == r.paid_fen
    assert sum(v for k, v in r.deltas.items() if k.startswith("paid:")) == r.paid_fen
    assert sum(o.paid_fen for o in r.outcomes) == r.paid_fen
    assert (r.status is AnswerStatus.DECLINED) == (r.paid_fen == 0)
    assert (r.status is AnswerStatus.APPROVED) == (0 < r.paid_fen == o.total)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    claims=st.lists(st.tuples(lines_st, diagnoses), min_size=1, max_size=5), product=st.sampled_from(sorted(DESIGNS))
)
def test_year_never_exceeds_sums_insured_or_deductibles_and_adapter_agrees(claims, product):
    """Over a year of claims the pools are never exceeded; the adapter pays exactly the in-process payer, and
    cancelling every leg brings every counter back to zero."""
    design = DESIGNS[product]
    payer = in_process_payer("huiminbao", [design])
    offers = [_offer(rows, product, dx, ref=f"r{i}") for i, (rows, dx) in enumerate(claims)]
    expected = [payer(o) for o in offers]
    (acc,) = payer.accumulators.values() if payer.accumulators else ({},)
    for pool, amount in design.deductibles.items():
        assert 0 <= acc.get(f"deductible:{pool}", 0) <= amount
    for pool, amount in design.limits.items():
        assert 0 <= acc.get(f"paid:{pool}", 0) <= amount

    async def run() -> None:
        store = InMemoryStateStore()
        a = HuiminbaoAdapter(HuiminbaoConfig(register_required=False), state=store)
        for o, want in zip(offers, expected, strict=True):
            got = (await a.settle(SettleInput(offer=o))).to_answer()
            assert (got.status, got.lines, got.totals) == (want.status, want.lines, want.totals)
        for o in reversed(offers):
            await a.cancel(CancelInput(reference=o.reference, payer="huiminbao"))
        assert all(v == 0 for v in store.values.values())

    asyncio.run(run())
