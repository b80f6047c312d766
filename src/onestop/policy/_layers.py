"""Integer arithmetic shared by the fund calculators: bands, inverse shares, and taking payments off burdens."""

from __future__ import annotations

from decimal import Decimal

from onestop.money import apply_ratio
from onestop.policy._terms import Band

__all__ = ["banded", "base_for_share", "clamp_ratio", "take"]

_ZERO = Decimal(0)
_ONE = Decimal(1)


def clamp_ratio(value: Decimal) -> Decimal:
    """A ratio after adding bonus or adjustment points, held inside [0, 1]."""
    return min(_ONE, max(_ZERO, value))


def banded(threshold: int, bands: tuple[Band, ...], before: int, after: int, bonus: Decimal) -> int:
    """What a banded layer pays for moving its accumulated base from ``before`` to ``after``.

    Each band covers the accumulated base from the previous edge (the threshold for the first) up to
    its ``upto_fen``; the piece of ``(before, after]`` inside a band is paid at the band's ratio
    plus ``bonus`` (capped at 1), one :func:`apply_ratio` per piece.
    """
    lo = max(before, threshold)
    if after <= lo:
        return 0
    pay = 0
    edge = threshold
    for band in bands:
        top = after if band.upto_fen is None else min(after, int(band.upto_fen))
        start = max(lo, edge)
        if top > start:
            pay += int(apply_ratio(top - start, clamp_ratio(band.ratio + bonus)))
        if band.upto_fen is None or int(band.upto_fen) >= after:
            break
        edge = int(band.upto_fen)
    return pay


def base_for_share(share: int, ratio: Decimal) -> int:
    """The smallest base whose share at ``ratio`` reaches ``share`` under the one rounding rule.

    This is the exact inverse of :func:`apply_ratio` (half-up): the least ``b ≥ 0`` with
    ``apply_ratio(b, ratio) ≥ share``, found with integer arithmetic on the ratio's exact fraction.
    It tells how much of a base a capped fund payment "used", so the rest is the over-cap base.
    """
    if share <= 0:
        return 0
    num, den = ratio.as_integer_ratio()
    if num == 0:
        raise ValueError("no base reaches a positive share at ratio 0")
    # round_half_up(b·n/d) ≥ s  ⇔  2·b·n ≥ (2s − 1)·d
    b = max(0, -(-((2 * share - 1) * den) // (2 * num)))
    # The integer bound is exact; the loops only guard the half-up edge against a future rounding change.
    while b > 0 and int(apply_ratio(b - 1, ratio)) >= share:
        b -= 1
    while int(apply_ratio(b, ratio)) < share:
        b += 1
    return b


def take(amount: int, copay: int, deductible: int) -> tuple[int, int]:
    """Take a fund payment off the patient's in-scope burden: the co-pay first, then the deductible.

    Returns:
        The co-pay and deductible left.
    """
    from_copay = min(amount, copay)
    return copay - from_copay, deductible - (amount - from_copay)
