"""Money: integer fen, exact ratios, one rounding rule, one allocation function.

Every amount in onestop is an integer number of fen (分, 0.01 yuan). Floats never touch an amount:
:class:`Fen` refuses them at construction, ratios are :class:`decimal.Decimal`, and the two places
where a fractional value becomes fen are named here and nowhere else:

* :func:`round_to_fen` — half-up to the fen (the rule used by NHSA settlement and by most
  Chinese payers' calculation notes);
* :func:`allocate` — largest-remainder split of an amount over weights, exact conservation,
  ties broken by a caller-given key so results are deterministic whatever the input order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, cast

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = [
    "Fen",
    "MoneyError",
    "allocate",
    "allocate_ints",
    "apply_ratio",
    "format_yuan",
    "parse_ratio",
    "parse_yuan",
    "round_to_fen",
    "trusted_fen",
]

# ASCII digits only ([0-9], not \d, which also matches full-width and other Unicode digits).
_YUAN_RE = re.compile(r"^(-?)([0-9]+)(?:\.([0-9]{1,2}))?$")
_RATIO_RE = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
_ONE = Decimal(1)


class MoneyError(ValueError):
    """An amount or ratio that cannot be represented exactly in fen."""


def _refuse_inexact(other: object, op: str) -> None:
    """Raise for a float, Decimal, fraction or bool operand of Fen arithmetic; other types may answer themselves."""
    if isinstance(other, (bool, float, complex, Decimal, Fraction)):
        raise MoneyError(f"Fen {op} {type(other).__name__}: amounts are integer fen; convert with parse_yuan()")


_int_new = int.__new__
_int_add = int.__add__
_int_sub = int.__sub__
_int_neg = int.__neg__


class Fen(int):
    """An amount of money in integer fen (分).

    ``Fen`` is an ``int`` so it costs nothing in arithmetic, stores as BIGINT and serialises as a
    JSON integer, but it refuses to be built from a float, a bool or a string, so a yuan value can
    never slip in by accident. Use :func:`parse_yuan` for yuan text such as ``"12.30"``.

    Sums and differences of ``Fen`` stay ``Fen``; multiplying by a ratio must go through
    :func:`apply_ratio`, which names the rounding.
    """

    __slots__ = ()

    def __new__(cls, value: int | Fen = 0) -> Fen:
        """Build from an integer number of fen; floats, bools and text are refused."""
        kind = value.__class__
        if kind is int or kind is Fen:  # the common case, checked without isinstance chains
            return _int_new(cls, value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise MoneyError(f"Fen needs an integer number of fen, got {type(value).__name__} {value!r}")
        return _int_new(cls, value)

    # Arithmetic results are built with int.__new__ directly: both operands are already known to be
    # integers, so re-running the constructor's checks would only cost time on the engine's hot path.
    # A float, Decimal or bool operand is refused outright: answering NotImplemented would let
    # float.__radd__ turn the sum into a float amount.
    def __add__(self, other: int) -> Fen:
        if other.__class__ is bool or not isinstance(other, int):
            _refuse_inexact(other, "+")
            return NotImplemented
        return _int_new(Fen, _int_add(self, other))

    __radd__ = __add__

    def __sub__(self, other: int) -> Fen:
        if other.__class__ is bool or not isinstance(other, int):
            _refuse_inexact(other, "-")
            return NotImplemented
        return _int_new(Fen, _int_sub(self, other))

    def __rsub__(self, other: int) -> Fen:
        if other.__class__ is bool or not isinstance(other, int):
            _refuse_inexact(other, "-")
            return NotImplemented
        return _int_new(Fen, _int_sub(other, self))

    def __neg__(self) -> Fen:
        return _int_new(Fen, _int_neg(self))

    def __mul__(self, other: int) -> Fen:
        # Only integer multiples (quantities of whole units); ratios go through apply_ratio.
        if not isinstance(other, int) or isinstance(other, bool):
            raise MoneyError("multiply Fen by a ratio with apply_ratio(), which names the rounding")
        return _int_new(Fen, int.__mul__(self, other))

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Any:
        raise MoneyError("dividing Fen would make a fraction of a fen; use allocate() or apply_ratio()")

    def __repr__(self) -> str:
        return f"Fen({int(self)})"

    # str() must stay the plain integer (CSV writers, f-strings, logs); only repr() names the type.
    __str__ = int.__repr__

    @property
    def yuan(self) -> str:
        """The amount as exact yuan text, e.g. ``Fen(1230).yuan == "12.30"``."""
        return format_yuan(self)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        # Strict int in, Fen out; JSON output is a plain integer.
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.int_schema(strict=True),
            serialization=core_schema.plain_serializer_function_ser_schema(int, when_used="always"),
        )


def trusted_fen(value: int) -> Fen:
    """Wrap an int already known to be integer fen, skipping the checks (engine hot path only)."""
    return int.__new__(Fen, value)


def parse_yuan(text: str) -> Fen:
    """Parse exact yuan text into fen.

    Args:
        text: A decimal yuan amount with at most two decimals, e.g. ``"12.3"``, ``"12.30"``, ``"-5"``.

    Returns:
        The amount in fen.

    Raises:
        MoneyError: For more than two decimals, exponents, NaN/Inf, thousands separators, floats or
            anything else that is not plain decimal text.
    """
    if not isinstance(text, str):
        raise MoneyError(f"yuan amounts are parsed from text, got {type(text).__name__}")
    m = _YUAN_RE.match(text.strip())
    if m is None:
        raise MoneyError(f"not an exact yuan amount with at most 2 decimals: {text!r}")
    sign, whole, frac = m.groups()
    fen = int(whole) * 100 + int((frac or "").ljust(2, "0"))
    return Fen(-fen if sign else fen)


def format_yuan(amount: int) -> str:
    """Format fen as exact yuan text with two decimals (``1230 -> "12.30"``)."""
    kind = amount.__class__
    if kind is not int and kind is not Fen and (isinstance(amount, bool) or not isinstance(amount, int)):
        raise MoneyError(f"format_yuan needs integer fen, got {type(amount).__name__}")
    if amount < 0:
        q, r = divmod(-int(amount), 100)
        return f"-{q}.{r:02d}"
    q, r = divmod(amount, 100)
    return f"{q}.{r:02d}"


def parse_ratio(value: str | Decimal | int) -> Decimal:
    """Parse an exact ratio in [0, 1] (e.g. ``"0.85"``); floats are refused.

    Raises:
        MoneyError: For floats, NaN/Inf, exponents, negatives or values above 1.
    """
    if isinstance(value, (bool, float)):
        raise MoneyError(f"ratios are exact decimals, never floats: {value!r}")
    if isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"ratio must be finite: {value!r}")
        d = value
    elif isinstance(value, str):
        if not _RATIO_RE.match(value.strip()):
            raise MoneyError(f"not a plain decimal ratio: {value!r}")
        try:
            d = Decimal(value.strip())
        except InvalidOperation as exc:  # pragma: no cover - the regex already rules this out
            raise MoneyError(f"not a decimal ratio: {value!r}") from exc
    else:
        raise MoneyError(f"ratios are exact decimals, got {type(value).__name__}")
    if d < 0 or d > _ONE:
        raise MoneyError(f"ratio must be between 0 and 1: {value!r}")
    return d


def round_to_fen(value: Decimal) -> Fen:
    """The one rounding rule: half-up (away from zero at .5) to a whole fen.

    Args:
        value: An exact amount in fen that may carry a fraction, e.g. ``Decimal("1234.5")``.
    """
    if not isinstance(value, Decimal):
        raise MoneyError(f"round_to_fen takes a Decimal, got {type(value).__name__}")
    return Fen(int(value.quantize(_ONE, rounding=ROUND_HALF_UP)))


def apply_ratio(amount: int, ratio: Decimal) -> Fen:
    """``amount × ratio`` rounded half-up to the fen (the named place ratios meet money)."""
    kind = amount.__class__
    if kind is not int:
        if kind is bool or not isinstance(amount, int):
            raise MoneyError(f"apply_ratio needs integer fen, got {type(amount).__name__}")
        amount = int(amount)  # a plain int, so the product below runs in C
    if ratio.__class__ is not Decimal and not isinstance(ratio, Decimal):
        raise MoneyError(f"ratios are Decimal, got {type(ratio).__name__}")
    # Exact integer arithmetic, the same result as the Decimal product quantized ROUND_HALF_UP (ties
    # away from zero) without building Decimals on the per-line hot path: amount × num / den, rounded.
    try:
        num, den = ratio.as_integer_ratio()
    except (ValueError, OverflowError):  # NaN / infinity
        raise MoneyError(f"a ratio must be a finite Decimal, got {ratio}") from None
    x = amount * num
    if x >= 0:
        return _int_new(Fen, (2 * x + den) // (2 * den))
    return _int_new(Fen, -((-2 * x + den) // (2 * den)))


_INT_TYPES = frozenset({int, Fen})


def allocate(total: int, weights: Sequence[int], keys: Sequence[Hashable] | None = None) -> list[Fen]:
    """Split ``total`` fen over ``weights`` by largest remainder (see :func:`allocate_ints`), as ``Fen``."""
    return [int.__new__(Fen, p) for p in allocate_ints(total, weights, keys)]


def allocate_ints(total: int, weights: Sequence[int], keys: Sequence[Hashable] | None = None) -> list[int]:
    """Split ``total`` fen over ``weights`` by largest remainder, conserving the total exactly.

    Each part starts at ``floor(total × w / Σw)``; the fen left over go one each to the parts with
    the largest fractional remainders, ties broken by ascending ``keys`` (default: position). A
    zero weight never receives anything unless every weight is zero, in which case nothing can be
    allocated and a ``MoneyError`` is raised for a non-zero total.

    Args:
        total: Amount to split, in fen (≥ 0).
        weights: Non-negative integer weights, usually fen amounts per line.
        keys: Tie-break keys, one per weight (e.g. ``feedetl_sn``); must be mutually comparable.

    Returns:
        One part per weight (plain ints, for hot loops), in the order given, summing to ``total``.
    """
    if isinstance(total, bool) or not isinstance(total, int):
        raise MoneyError("allocate needs an integer total in fen")
    if total < 0:
        raise MoneyError(f"allocate needs a non-negative total, got {total}")
    n = len(weights)
    if keys is not None and len(keys) != n:
        raise MoneyError("allocate: one key per weight")
    # Plain ints and Fen (the engine's hot loops) are checked at C speed; anything else gets the full check.
    if not set(map(type, weights)) <= _INT_TYPES:
        if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights):
            raise MoneyError("allocate: weights must be non-negative integers")
    elif n and min(weights) < 0:
        raise MoneyError("allocate: weights must be non-negative integers")
    wsum = sum(weights)
    if wsum == 0:
        if total == 0:
            return [Fen(0)] * n
        raise MoneyError(f"allocate: cannot split {total} fen over zero weights")
    products = [total * w for w in weights]
    parts = [p // wsum for p in products]
    left = total - sum(parts)
    if left:
        rems = [p % wsum for p in products]
        # Largest remainder first; equal remainders by ascending key, then position; zero weights never
        # chosen. Two stable sorts (by key, then by remainder descending) give exactly that order.
        order = [i for i in range(n) if weights[i] > 0]
        if keys is not None:
            tie: list[Any] = list(keys)
            order.sort(key=cast("Callable[[int], Any]", tie.__getitem__))
        order.sort(key=cast("Callable[[int], int]", rems.__getitem__), reverse=True)
        for i in order[:left]:
            parts[i] += 1
    return parts
