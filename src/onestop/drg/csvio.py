"""The batch file formats of ``onestop drg group``: case rows in, result rows (and trace lines) out.

Input columns (fixed; the gateway and simulator rely on them)::

    case_id,sex,age,age_days,birth_weight_g,dept,los_days,discharge_way,diagnoses,procedures
    [,vent_hours,insutype,region,discharge_date,total_cost_fen,cidl_cost_fen,cidl_covered]

Diagnoses and procedures are ``|``-separated, principal first; money columns are integer fen. A malformed
row becomes an ``invalid`` result naming its line and field; the other rows go on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal

from pydantic import ValidationError

from onestop.drg.case import Case
from onestop.drg.payment import Payment
from onestop.drg.result import GroupResult

__all__ = [
    "INPUT_OPTIONAL",
    "INPUT_REQUIRED",
    "OUTPUT_COLUMNS",
    "RowError",
    "missing_columns",
    "parse_case_row",
    "result_row",
]

INPUT_REQUIRED = (
    "case_id",
    "sex",
    "age",
    "age_days",
    "birth_weight_g",
    "dept",
    "los_days",
    "discharge_way",
    "diagnoses",
    "procedures",
)
INPUT_OPTIONAL = (
    "vent_hours",
    "insutype",
    "region",
    "discharge_date",
    "total_cost_fen",
    "cidl_cost_fen",
    "cidl_covered",
)
OUTPUT_COLUMNS = (
    "case_id",
    "status",
    "mdc",
    "adrg",
    "drg",
    "weight",
    "base_rate_fen",
    "drg_payment_fen",
    "cost_ratio",
    "cost_class",
    "special_review",
    "reason",
)
_INT_RE = re.compile(r"^[0-9]+$")
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"", "0", "false", "no", "n"}


class RowError(ValueError):
    """A case row that cannot become a :class:`Case`; the message names the line and field."""

    def __init__(self, case_id: str, message: str) -> None:
        super().__init__(message)
        self.case_id = case_id
        self.message = message


def missing_columns(header: list[str] | None) -> list[str]:
    """The required input columns absent from a header row."""
    have = set(header or ())
    return [c for c in INPUT_REQUIRED if c not in have]


def _int(row: Mapping[str, str | None], name: str, line: int, case_id: str) -> int | None:
    text = (row.get(name) or "").strip()
    if not text:
        return None
    if not _INT_RE.match(text):
        raise RowError(case_id, f"line {line}: {name}: {text!r} is not a whole non-negative number")
    return int(text)


def _codes(row: Mapping[str, str | None], name: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in (row.get(name) or "").split("|") if c.strip())


def parse_case_row(row: Mapping[str, str | None], line: int) -> Case:
    """Read one CSV row into a :class:`Case`.

    Empty values stay empty (the grouper answers ``missing_data`` where it needs them).

    Raises:
        RowError: A malformed value; the message names ``line`` and the field.
    """
    case_id = (row.get("case_id") or "").strip()
    if not case_id:
        raise RowError("", f"line {line}: case_id: empty")
    text = {k: (row.get(k) or "").strip() for k in ("sex", "dept", "discharge_way", "insutype", "region")}
    date_text = (row.get("discharge_date") or "").strip()
    discharge_date = None
    if date_text:
        try:
            discharge_date = dt.date.fromisoformat(date_text)
        except ValueError:
            raise RowError(case_id, f"line {line}: discharge_date: {date_text!r} is not a date (YYYY-MM-DD)") from None
    covered_text = (row.get("cidl_covered") or "").strip().lower()
    if covered_text not in _TRUE | _FALSE:
        raise RowError(case_id, f"line {line}: cidl_covered: {covered_text!r} is not 1/0 or true/false")
    try:
        return Case(
            case_id=case_id,
            sex=text["sex"] or None,
            age=_int(row, "age", line, case_id),
            age_days=_int(row, "age_days", line, case_id),
            birth_weight_g=_int(row, "birth_weight_g", line, case_id),
            dept=text["dept"],
            los_days=_int(row, "los_days", line, case_id),
            discharge_way=text["discharge_way"] or None,
            diagnoses=_codes(row, "diagnoses"),
            procedures=_codes(row, "procedures"),
            vent_hours=_int(row, "vent_hours", line, case_id),
            insutype=text["insutype"] or None,
            region=text["region"] or None,
            discharge_date=discharge_date,
            total_cost_fen=_int(row, "total_cost_fen", line, case_id),
            cidl_cost_fen=_int(row, "cidl_cost_fen", line, case_id) or 0,
            cidl_covered=covered_text in _TRUE,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise RowError(case_id, f"line {line}: {field}: {first['msg']}") from None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):  # Fen's str() is its repr
        return str(int(value))
    return str(value)


def result_row(result: GroupResult, payment: Payment | None) -> dict[str, str]:
    """One output row; payment columns are empty where there is no payment."""
    p = payment
    return {
        "case_id": result.case_id,
        "status": result.status.value,
        "mdc": result.mdc,
        "adrg": result.adrg,
        "drg": result.drg,
        "weight": _text(result.weight),
        "base_rate_fen": _text(p.base_rate_fen if p else None),
        "drg_payment_fen": _text(p.drg_payment_fen if p else None),
        "cost_ratio": _text(p.cost_ratio if p else None),
        "cost_class": p.cost_class.value if p and p.cost_class else "",
        "special_review": _text(p.special_review if p else None),
        "reason": f"{result.reason}; {p.reason}" if p else result.reason,
    }
