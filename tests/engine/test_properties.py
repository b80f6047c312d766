"""Properties of the whole engine over generated bills (Hypothesis) and seeded large bills."""

from __future__ import annotations

import json
import random
from decimal import Decimal

from engine.fakes import FakeCatalog, bill, cidl, entry, line, restriction, standard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onestop.catalog.resolution import RestrictionKind, StandardSource
from onestop.domain import AnswerStatus, Category, CommercialAnswer, ItemKind, LinePayment, Offer
from onestop.domain.settlement import Leg, PayerKey
from onestop.engine import apply_commercial, check_settlement, finalize, settle, settle_funds
from onestop.money import Fen
from onestop.policy import policy_for

CATALOG = FakeCatalog(
    {
        "A1": entry("A1", "甲"),
        "B1": entry("B1", "乙", standard=standard(5000)),
        "B2": entry(
            "B2", "乙", negotiated=True, standard=standard(8000, source=StandardSource.NEGOTIATED, confidential=True)
        ),
        "C1": entry("C1", "丙"),
        "CIDL": entry("CIDL", "丙", cidl=cidl()),
        "WI": entry("WI", "乙", restrictions=(restriction(RestrictionKind.WORK_INJURY_ONLY),)),
        "MAT": entry("MAT", "乙", restrictions=(restriction(RestrictionKind.MATERNITY_ONLY),)),
        "IND": entry("IND", "乙", restrictions=(restriction(RestrictionKind.INDICATION),)),
        "S1": entry("S1", "甲", kind=ItemKind.SERVICE, standard=standard(3000, source=StandardSource.PRICE_CAP)),
    }
)
CODES = ["A1", "B1", "B2", "C1", "CIDL", "WI", "MAT", "IND", "S1", "X"]
POLICY = policy_for("990100", __import__("datetime").date(2026, 3, 5))


def fraction_payer(name: str, tenths: int, per_line: bool):
    """An in-process payer paying ``tenths``/10 of every payable category (floored), per line or as totals."""

    def pay(offer: Offer) -> CommercialAnswer:
        if per_line and offer.lines:
            lines = tuple(
                LinePayment(
                    feedetl_sn=lo.feedetl_sn,
                    amounts={c: Fen(v * tenths // 10) for c, v in lo.amounts.items() if c is not Category.ACCOUNT_PAID},
                )
                for lo in offer.lines
            )
            return CommercialAnswer(reference=offer.reference, payer=name, status=AnswerStatus.APPROVED, lines=lines)
        totals = {c: Fen(v * tenths // 10) for c, v in offer.totals.items() if c is not Category.ACCOUNT_PAID}
        return CommercialAnswer(reference=offer.reference, payer=name, status=AnswerStatus.APPROVED, totals=totals)

    return pay


@st.composite
def bills(draw):
    n = draw(st.integers(1, 25))
    work = draw(st.sampled_from([None, "recognised", "pending"]))
    lines = []
    for i in range(n):
        code = draw(st.sampled_from(CODES))
        qty = draw(st.integers(1, 4))
        price_fen = draw(st.integers(0, 300_000))
        extra = {}
        if work and draw(st.booleans()):
            extra["work_related"] = True
        extra["hosp_appr_flag"] = draw(st.sampled_from(["0", "1", "1", "2"]))
        lines.append(line(f"L{i:03d}", code, f"{price_fen // 100}.{price_fen % 100:02d}", str(qty), **extra))
    med_type = draw(st.sampled_from(["11", "21", "21", "52"]))
    insutype = draw(st.sampled_from(["310", "390"]))
    over = {
        "visit": {"med_type": med_type},
        "patient": {
            "insutype": insutype,
            "use_account": draw(st.booleans()),
            "account_balance_fen": draw(st.integers(0, 200_000)),
        },
    }
    if work:
        over["work_injury"] = (
            {"status": "recognised", "decision_id": "WI-1", "decision_date": "2026-02-20"}
            if work == "recognised"
            else {"status": "pending"}
        )
    n_cov = draw(st.integers(0, 2))
    covs, payers = [], {}
    for k in range(n_cov):
        name = f"payer{k}"
        covs.append({"payer": name, "product": "P", "policy_no": f"N{k}", "consent_line_detail": draw(st.booleans())})
        payers[name] = fraction_payer(name, draw(st.integers(0, 10)), draw(st.booleans()))
    over["coverages"] = covs
    return bill(lines, **over), payers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bills())
def test_every_settlement_conserves_and_holds_invariants(case):
    """Per line and per bill the payers sum to the amount; NHSA identities hold; no fund on CIDL; one fund per line."""
    b, payers = case
    s = settle(b, CATALOG, POLICY, payers=payers)
    check_settlement(s)
    for ln in s.lines:
        assert all(a.amount_fen >= 0 for a in ln.allocations)
        if ln.cidl_no is not None:
            assert not any(PayerKey.is_fund(a.payer) for a in ln.allocations)


@settings(max_examples=100, deadline=None)
@given(bills(), st.randoms(use_true_random=False))
def test_same_bill_any_line_order_gives_identical_bytes(case, rnd):
    """Same input → byte-identical serialisation whatever the line order."""
    b, payers = case
    shuffled = list(b.lines)
    rnd.shuffle(shuffled)
    b2 = b.model_copy(update={"lines": tuple(shuffled)})
    one = settle(b, CATALOG, POLICY, payers=payers).model_dump_json()
    two = settle(b2, CATALOG, POLICY, payers=payers).model_dump_json()
    assert one == two


@settings(max_examples=100, deadline=None)
@given(bills())
def test_no_payer_above_offer_and_deltas_never_negative(case):
    """Each commercial payer gets ≤ its offer on every line; accumulator deltas are never negative."""
    b, payers = case
    state = settle_funds(b, CATALOG, POLICY)
    for idx, cov in enumerate(b.coverages):
        offer = state.offer_for(idx)
        answer = payers[cov.payer](offer)
        before = {w.sn: dict(w.remaining) for w in state.works}
        state = apply_commercial(state, answer, offer=offer)
        for w in state.works:
            paid = sum(a for p, _c, a in w.cells if p == PayerKey.commercial(cov.payer))
            assert paid <= sum(v for c, v in before[w.sn].items() if c is not Category.ACCOUNT_PAID)
    s = finalize(state)
    deltas = list(s.basic.accumulator_deltas if s.basic else ()) + list(
        s.maternity.accumulator_deltas if s.maternity else ()
    )
    assert all(d.delta_fen >= 0 for d in deltas)
    for leg in s.commercial:
        assert leg.paid_fen <= leg.offered_fen


@settings(max_examples=60, deadline=None)
@given(bills())
def test_work_injury_lines_never_reach_basic_funds(case):
    """Work-related lines go to the work-injury fund (recognised) or to nobody's fund (pending), never to basic."""
    b, payers = case
    s = settle(b, CATALOG, POLICY, payers=payers)
    related = {ln.feedetl_sn for ln in b.lines if ln.work_related}
    for ln in s.lines:
        if ln.feedetl_sn in related:
            assert ln.leg in (Leg.WORK_INJURY, Leg.NONE)
            assert not any(a.payer.startswith("fund:") for a in ln.allocations)


def seeded_bill(seed: int, n: int):
    """A large bill Hypothesis would not produce: n lines over every catalog status, fixed seed."""
    rnd = random.Random(seed)
    lines = []
    for i in range(n):
        price = rnd.randint(0, 500_000)
        lines.append(
            line(
                f"S{i:05d}",
                rnd.choice(CODES),
                f"{price // 100}.{price % 100:02d}",
                str(rnd.randint(1, 9)),
                hosp_appr_flag=rnd.choice("012"),
            )
        )
    return bill(lines, coverages=[{"payer": "big", "product": "P", "policy_no": "N", "consent_line_detail": True}])


def test_seeded_large_bills_hold_invariants():
    """200- and 2,000-line seeded bills settle with every invariant (allocation over many lines stays exact)."""
    for seed, n in ((1, 200), (2, 2000)):
        b = seeded_bill(seed, n)
        s = settle(b, CATALOG, POLICY, payers={"big": fraction_payer("big", 7, per_line=False)})
        check_settlement(s)
        assert len(s.lines) == n
        assert json.loads(s.model_dump_json())["totals"]["medfee_sumamt"] == sum(int(x.amount_fen) for x in b.lines)
        assert Decimal(0) <= s.indicators.self_pay_rate <= Decimal(1)
