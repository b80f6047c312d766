"""Money rules: integer fen, exact yuan text, one rounding rule, one allocation."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onestop.money import (
    Fen,
    MoneyError,
    allocate,
    apply_ratio,
    format_yuan,
    parse_ratio,
    parse_yuan,
    round_to_fen,
)


def test_fen_refuses_float_bool_and_text():
    """A Fen can only be built from an integer: floats, bools and text are refused."""
    for bad in (1.0, True, "100", Decimal("1")):
        with pytest.raises(MoneyError):
            Fen(bad)  # type: ignore[arg-type]


def test_fen_arithmetic_stays_fen_and_refuses_ratios():
    """Sums stay Fen; multiplying by a non-integer or dividing is refused (must go through apply_ratio)."""
    assert isinstance(Fen(5) + Fen(7), Fen)
    assert isinstance(Fen(5) - 7, Fen)
    assert Fen(3) * 4 == 12
    with pytest.raises(MoneyError):
        Fen(3) * 0.5  # type: ignore[operator]
    with pytest.raises(MoneyError):
        Fen(3) / 2


@pytest.mark.parametrize("other", [1.5, 0.0, Decimal("0.5"), True, 1j])
def test_fen_plus_or_minus_a_non_integer_is_refused_never_a_float(other):
    """Fen + or - a float, Decimal or bool raises MoneyError: no float amount comes out of a Fen sum.

    (With the float on the left Python asks float first, which takes any int; only Fen's own
    operations can refuse.)"""
    for op in (lambda: Fen(5) + other, lambda: Fen(5) - other):
        with pytest.raises(MoneyError):
            op()


def test_apply_ratio_refuses_a_non_finite_ratio():
    """NaN and infinity are not ratios: MoneyError, like any other inexact money input."""
    for bad in (Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")):
        with pytest.raises(MoneyError):
            apply_ratio(100, bad)


@pytest.mark.parametrize(
    ("text", "fen"), [("12.30", 1230), ("12.3", 1230), ("0", 0), ("0.01", 1), ("-5", -500), ("1000000.99", 100000099)]
)
def test_parse_yuan_exact(text, fen):
    """Yuan text with up to two decimals parses exactly to fen."""
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("bad", ["12.345", "1e3", "NaN", "Inf", "-Infinity", "1,000", "", "12.", ".5", "+1", "0x10"])
def test_parse_yuan_rejects_inexact(bad):
    """More than 2 decimals, exponents, NaN/Inf and other notations are rejected."""
    with pytest.raises(MoneyError):
        parse_yuan(bad)


def test_parse_yuan_rejects_float():
    """A float is never parsed as money."""
    with pytest.raises(MoneyError):
        parse_yuan(12.3)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_yuan_round_trip(fen):
    """format_yuan and parse_yuan are inverse on every integer amount."""
    assert parse_yuan(format_yuan(fen)) == fen


def test_round_half_up():
    """The one rounding rule is half-up to the fen (away from zero at .5)."""
    assert round_to_fen(Decimal("2.5")) == 3
    assert round_to_fen(Decimal("2.49")) == 2
    assert round_to_fen(Decimal("-2.5")) == -3
    assert apply_ratio(1005, Decimal("0.1")) == 101  # 100.5 -> 101
    assert apply_ratio(11000, Decimal("0.1")) == 1100


def test_parse_ratio_exact_only():
    """Ratios are exact decimals in [0, 1]; floats, exponents and out-of-range values are refused."""
    assert parse_ratio("0.85") == Decimal("0.85")
    for bad in (0.85, "1e-1", "1.5", "-0.1", "NaN", Decimal("Infinity")):
        with pytest.raises(MoneyError):
            parse_ratio(bad)  # type: ignore[arg-type]


weights_st = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40).filter(lambda w: sum(w) > 0)


@given(st.integers(min_value=0, max_value=10**12), weights_st)
def test_allocate_conserves_and_is_non_negative(total, weights):
    """Largest remainder: parts sum exactly to the total, none negative, zero weights get nothing."""
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    assert all(p == 0 for p, w in zip(parts, weights, strict=True) if w == 0)


@given(st.integers(min_value=0, max_value=10**9), weights_st, st.randoms())
def test_allocate_is_deterministic_under_reordering(total, weights, rnd):
    """With keys, the same (weight, key) pair receives the same part whatever the input order."""
    keys = [f"k{i:03d}" for i in range(len(weights))]
    base = dict(zip(keys, allocate(total, weights, keys), strict=True))
    order = list(range(len(weights)))
    rnd.shuffle(order)
    shuffled = allocate(total, [weights[i] for i in order], [keys[i] for i in order])
    assert {keys[i]: p for i, p in zip(order, shuffled, strict=True)} == base


@given(st.integers(min_value=0, max_value=10**9), weights_st)
def test_allocate_parts_within_one_fen_of_exact_share(total, weights):
    """Every part is within one fen of its exact proportional share."""
    wsum = sum(weights)
    for p, w in zip(allocate(total, weights), weights, strict=True):
        assert abs(Decimal(p) - Decimal(total) * w / wsum) < 1


def test_allocate_tie_break_by_key():
    """Equal remainders go to the smallest key first (1 fen over two equal weights -> key 'a')."""
    assert allocate(1, [5, 5], ["b", "a"]) == [0, 1]


def test_allocate_refuses_negative_and_zero_weight_total():
    """A negative total, or a non-zero total over all-zero weights, cannot be allocated."""
    with pytest.raises(MoneyError):
        allocate(-1, [1])
    with pytest.raises(MoneyError):
        allocate(5, [0, 0])
    assert allocate(0, [0, 0]) == [0, 0]


def test_str_is_the_plain_integer_and_repr_names_the_type():
    """str(Fen) is what CSV writers and f-strings print, so it must be the bare integer of fen."""
    assert str(Fen(1230)) == "1230"
    assert f"{Fen(-5)}" == "-5"
    assert repr(Fen(1230)) == "Fen(1230)"


def _reference_allocate(total: int, weights: list[int], keys: list[str]) -> list[int]:
    """The named rule written out plainly: floor shares, then one fen each by (largest remainder, key, position)."""
    wsum = sum(weights)
    parts = [total * w // wsum for w in weights]
    rems = [total * w % wsum for w in weights]
    order = sorted((i for i in range(len(weights)) if weights[i] > 0), key=lambda i: (-rems[i], keys[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


@given(
    st.integers(min_value=0, max_value=500),
    st.lists(st.tuples(st.integers(min_value=0, max_value=6), st.sampled_from("abc")), min_size=1, max_size=30),
)
def test_allocate_matches_the_rule_written_out_even_with_tied_remainders_and_keys(total, pairs):
    """Small weights and repeated keys (many ties) still follow largest remainder → key → position exactly."""
    weights = [w for w, _k in pairs]
    keys = [k for _w, k in pairs]
    if sum(weights) == 0:
        return
    assert allocate(total, weights, keys) == _reference_allocate(total, weights, keys)


def test_allocate_refuses_bool_and_float_weights():
    """Weights are integer fen: a bool or a float weight is refused, never coerced."""
    for bad in ([True, 1], [1.0, 1], [1, -1]):
        with pytest.raises(MoneyError):
            allocate(1, bad)  # type: ignore[arg-type]


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.decimals(min_value=-10, max_value=10**4, places=4, allow_nan=False, allow_infinity=False),
)
def test_apply_ratio_equals_the_decimal_product_rounded_half_up(amount, ratio):
    """apply_ratio is exactly round_to_fen(Decimal(amount) × ratio), ties away from zero, for any sign."""
    assert apply_ratio(amount, ratio) == round_to_fen(Decimal(amount) * ratio)
    assert type(apply_ratio(amount, ratio)) is Fen


def test_apply_ratio_rounds_ties_away_from_zero():
    """Half a fen rounds away from zero: 5 × 0.5 = 2.5 → 3 and −5 × 0.5 → −3."""
    assert apply_ratio(5, Decimal("0.5")) == 3
    assert apply_ratio(-5, Decimal("0.5")) == -3
    assert apply_ratio(1, Decimal("0.4999")) == 0


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_yuan_round_trips_through_parse_yuan(fen):
    """Any integer fen formats as two-decimal yuan text that parses back to the same fen."""
    assert parse_yuan(format_yuan(fen)) == fen
    assert parse_yuan(format_yuan(Fen(fen))) == fen
