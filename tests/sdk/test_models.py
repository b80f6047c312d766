"""Flow models, status mapping, wire units and integrity checks (with properties over generated answers)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from onestop.domain.offer import PAYABLE, AnswerStatus, Category, LinePayment
from onestop.money import Fen, MoneyError
from onestop.sdk import (
    AmountUnit,
    Capabilities,
    InsurerFlow,
    OfferDetail,
    PaymentResult,
    QueryResult,
    ReasonCode,
    StatusMapping,
    amount_from_wire,
    amount_to_wire,
    payment_problems,
)
from onestop.sdk.testing import sample_offer

CAPS = Capabilities(flows=frozenset(InsurerFlow), categories=PAYABLE)
OFFER = sample_offer("acme", reference="ref-1")


def test_status_mapping_unlisted_is_pending() -> None:
    """An insurer status the mapping does not list is PENDING, never a paid status."""
    m = StatusMapping({"1": AnswerStatus.APPROVED, "4": AnswerStatus.DECLINED})
    assert (m("1"), m("4"), m("7"), m("")) == (
        AnswerStatus.APPROVED,
        AnswerStatus.DECLINED,
        AnswerStatus.PENDING,
        AnswerStatus.PENDING,
    )


def test_status_mapping_refuses_unknown_target() -> None:
    """UNKNOWN is the SDK's own state: an adapter cannot map a raw status to it."""
    with pytest.raises(ValueError, match="UNKNOWN is the SDK's state"):
        StatusMapping({"9": AnswerStatus.UNKNOWN})


def test_unpaid_status_cannot_carry_payments() -> None:
    """A declined, pending or unknown result with payments does not validate."""
    with pytest.raises(ValidationError, match="cannot carry payments"):
        PaymentResult(reference="r", payer="p", status=AnswerStatus.DECLINED, totals={Category.COPAY: Fen(1)})


def test_not_found_query_is_empty() -> None:
    """A not-found query result carries no payments, claim id or cancellation."""
    with pytest.raises(ValidationError, match="not-found"):
        QueryResult(
            reference="r", payer="p", status=AnswerStatus.APPROVED, found=False, totals={Category.COPAY: Fen(5)}
        )


def test_float_amount_refused_by_models() -> None:
    """Amounts are integer fen: a float is refused at the model boundary."""
    with pytest.raises(ValidationError):
        PaymentResult(reference="r", payer="p", status=AnswerStatus.APPROVED, totals={Category.COPAY: 1.5})  # type: ignore[dict-item]


def test_to_answer_keeps_reason_and_raw_codes() -> None:
    """to_answer carries status, payments, the unified reason and the raw code into the engine's answer."""
    res = PaymentResult(
        reference="r",
        payer="p",
        status=AnswerStatus.PARTIAL,
        totals={Category.COPAY: Fen(300), Category.CIDL: Fen(0)},
        reason=ReasonCode.CAP_REACHED,
        raw_code="1",
        payer_claim_id="C9",
    )
    answer = res.to_answer()
    assert (answer.status, answer.reason, answer.raw_code, answer.payer_claim_id) == (
        AnswerStatus.PARTIAL,
        "CAP_REACHED",
        "1",
        "C9",
    )
    assert answer.totals == {Category.COPAY: 300}


@pytest.mark.parametrize(
    ("fen", "unit", "wire"),
    [(1230, AmountUnit.FEN, 1230), (1230, AmountUnit.YUAN_DECIMAL, "12.30"), (5, AmountUnit.YUAN_DECIMAL, "0.05")],
)
def test_wire_units_round_trip(fen: int, unit: AmountUnit, wire: int | str) -> None:
    """Fen go to the insurer's declared unit and come back unchanged."""
    assert amount_to_wire(fen, unit) == wire
    assert amount_from_wire(wire, unit) == fen


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (12.3, AmountUnit.FEN),
        (True, AmountUnit.FEN),
        ("12.3", AmountUnit.FEN),
        (12.3, AmountUnit.YUAN_DECIMAL),
        ("1.234", AmountUnit.YUAN_DECIMAL),
    ],
)
def test_wire_refuses_floats_and_fractions(value: object, unit: AmountUnit) -> None:
    """Floats, bools, text in a fen field and fractions of a fen are refused from the wire."""
    with pytest.raises(MoneyError):
        amount_from_wire(value, unit)


def _lines_strategy() -> st.SearchStrategy[tuple[LinePayment, ...]]:
    per_line = [
        st.fixed_dictionaries({c: st.integers(0, int(v)) for c, v in lo.amounts.items()}).map(
            lambda d, sn=lo.feedetl_sn: LinePayment(feedetl_sn=sn, amounts={c: Fen(v) for c, v in d.items()})
        )
        for lo in OFFER.lines
    ]
    return st.tuples(*per_line)


@settings(max_examples=60, deadline=None)
@given(_lines_strategy())
def test_any_payment_within_offer_is_sound(lines: tuple[LinePayment, ...]) -> None:
    """Property: every per-line answer within the offer, line by line, passes the integrity check."""
    res = PaymentResult(reference="ref-1", payer="acme", status=AnswerStatus.PARTIAL, lines=lines)
    assert payment_problems(OFFER, res, CAPS) == []


@settings(max_examples=60, deadline=None)
@given(_lines_strategy(), st.integers(0, len(OFFER.lines) - 1), st.integers(1, 10_000))
def test_any_overpaid_cell_is_caught(lines: tuple[LinePayment, ...], i: int, extra: int) -> None:
    """Property: raising any one cell above what that line offered in that category is a violation."""
    lo = OFFER.lines[i]
    cat = sorted(lo.amounts)[0]
    bumped = LinePayment(feedetl_sn=lo.feedetl_sn, amounts={**lines[i].amounts, cat: Fen(int(lo.amounts[cat]) + extra)})
    res = PaymentResult(
        reference="ref-1", payer="acme", status=AnswerStatus.PARTIAL, lines=(*lines[:i], bumped, *lines[i + 1 :])
    )
    problems = payment_problems(OFFER, res, CAPS)
    assert any(f"line {lo.feedetl_sn} {cat}: pays" in p for p in problems)


@pytest.mark.parametrize(
    ("change", "caps", "expected"),
    [
        ({"reference": "other"}, CAPS, "does not echo the offer's 'ref-1'"),
        ({"payer": "someone"}, CAPS, "payer 'someone' does not echo"),
        (
            {"lines": (LinePayment(feedetl_sn="L999", amounts={Category.COPAY: Fen(1)}),)},
            CAPS,
            "'L999' was not offered",
        ),
        (
            {"lines": (LinePayment(feedetl_sn="L001", amounts={Category.COPAY: Fen(1)}),) * 2},
            CAPS,
            "'L001' answered twice",
        ),
        (
            {"lines": (LinePayment(feedetl_sn="L001", amounts={Category.COPAY: Fen(1)}),)},
            Capabilities(flows=frozenset(InsurerFlow), categories=PAYABLE, detail=OfferDetail.TOTALS),
            "declares category totals",
        ),
        (
            {"totals": {Category.FULAMT_OWNPAY: Fen(86_001)}},
            CAPS,
            "fulamt_ownpay: pays 86001 > offered 86000",
        ),
        (
            {"totals": {Category.CIDL: Fen(1)}},
            Capabilities(flows=frozenset(InsurerFlow), categories=frozenset({Category.COPAY})),
            "does not declare it pays this category",
        ),
    ],
    ids=[
        "reference",
        "payer",
        "line-not-offered",
        "line-twice",
        "lines-to-totals-adapter",
        "over-total",
        "undeclared-category",
    ],
)
def test_integrity_problems_named(change: dict[str, object], caps: Capabilities, expected: str) -> None:
    """Each kind of violation is found and named."""
    base = PaymentResult(reference="ref-1", payer="acme", status=AnswerStatus.APPROVED)
    res = base.model_copy(update=change)
    assert any(expected in p for p in payment_problems(OFFER, res, caps)), payment_problems(OFFER, res, caps)


def test_non_integer_amount_smuggled_past_validation_is_caught() -> None:
    """An amount that is not integer fen (built without validation) is named as a violation."""
    res = PaymentResult.model_construct(
        reference="ref-1", payer="acme", status=AnswerStatus.APPROVED, lines=(), totals={Category.COPAY: Decimal("1.5")}
    )
    assert any("is not integer fen" in p for p in payment_problems(OFFER, res, CAPS))
