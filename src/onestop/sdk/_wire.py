"""Amounts on an insurer's wire: the one place fen become the insurer's unit and back."""

from __future__ import annotations

from onestop.money import Fen, MoneyError, format_yuan, parse_yuan
from onestop.sdk._capabilities import AmountUnit

__all__ = ["amount_from_wire", "amount_to_wire"]


def amount_to_wire(amount: int, unit: AmountUnit) -> int | str:
    """``amount`` (fen) in the insurer's unit: an int for FEN, exact yuan text for YUAN_DECIMAL."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(f"amounts are integer fen, got {type(amount).__name__}")
    if unit is AmountUnit.FEN:
        return int(amount)
    return format_yuan(amount)


def amount_from_wire(value: object, unit: AmountUnit) -> Fen:
    """An amount received from the insurer, as fen; floats and fractions of a fen are refused.

    Raises:
        MoneyError: For a float, a bool, a fraction of a fen, or a value not in the declared unit.
    """
    if unit is AmountUnit.FEN:
        if isinstance(value, bool) or not isinstance(value, int):
            raise MoneyError(f"expected integer fen on the wire, got {type(value).__name__} {value!r}")
        return Fen(value)
    if not isinstance(value, str):
        raise MoneyError(f"expected exact yuan text on the wire, got {type(value).__name__} {value!r}")
    return parse_yuan(value)
