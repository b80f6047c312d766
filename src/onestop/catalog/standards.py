"""Parse the 医保支付标准 column of the national drug catalog (pure).

The column quotes one or several specs, ``"1.36元(45mg(按C17H15ClO4计)/粒)；3.15元(135mg(…)/粒)"``,
a confidential ``"*"``, or free text such as ``"见备注2(…)"``. Each price becomes one
:class:`ParsedStandard` (amount in fen, spec, unit); what does not parse is kept as text with a
warning, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from onestop.catalog._text import norm
from onestop.money import MoneyError, parse_yuan

__all__ = ["ParsedStandard", "parse_standard_text"]

_PRICE = re.compile(r"^(\d+(?:\.\d{1,2})?)元\((.*)\)$")


@dataclass(frozen=True, slots=True)
class ParsedStandard:
    """One spec's standard as quoted in the catalog."""

    amount_fen: int | None
    """Per unit, fen; ``None`` for ``*`` (confidential) or text that did not parse."""
    spec: str
    unit: str
    confidential: bool
    text: str
    """The quoted part verbatim (NFKC), e.g. ``45mg(按C17H15ClO4计)/粒``."""


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p]


def _spec_unit(inner: str) -> tuple[str, str]:
    """``"45mg(按…计)/粒"`` → (``"45mg(按…计)"``, ``"粒"``); the unit is after the last top-level ``/``."""
    parts = _split_top(inner, "/")
    if len(parts) >= 2:
        return "/".join(parts[:-1]), parts[-1]
    return inner, ""


def parse_standard_text(text: str) -> tuple[tuple[ParsedStandard, ...], tuple[str, ...]]:
    """Parse a 支付标准 cell.

    Args:
        text: The cell verbatim; empty means the entry has no national standard.

    Returns:
        ``(standards, warnings)``. ``"*"`` gives one confidential standard without a number; a part
        that is not ``<yuan>元(<spec>)`` gives a standard with ``amount_fen=None`` and a warning.
    """
    t = norm(text)
    if not t:
        return (), ()
    if t == "*":
        return (ParsedStandard(None, "", "", True, "*"),), ()
    out: list[ParsedStandard] = []
    warnings: list[str] = []
    for part in _split_top(t, ";"):
        m = _PRICE.match(part)
        if m is None:
            out.append(ParsedStandard(None, "", "", False, part))
            warnings.append(f"STANDARD_AS_TEXT: {part}")
            continue
        try:
            fen = int(parse_yuan(m.group(1)))
        except MoneyError:  # pragma: no cover - the regex admits only exact yuan
            out.append(ParsedStandard(None, "", "", False, part))
            warnings.append(f"STANDARD_AS_TEXT: {part}")
            continue
        spec, unit = _spec_unit(m.group(2))
        out.append(ParsedStandard(fen, spec, unit, False, m.group(2)))
    return tuple(out), tuple(warnings)
