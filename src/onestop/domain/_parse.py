"""Parse a bill from JSON with errors that name every offending field and line."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from pydantic import ValidationError

from onestop.domain.bill import Bill
from onestop.errors import FieldViolation, InvalidRequest

__all__ = ["field_path", "parse_bill_json", "violations_from"]

# A model-level validator names the field it judged as "field: reason" (several joined by "; ").
_HEAD = re.compile(r"^([a-z_]+(?:\[[0-9]+\])?(?:\.[a-z_]+)*): (.+)$", re.S)


def field_path(loc: tuple[int | str, ...], doc: Any = None) -> str:
    """Turn a pydantic location into ``lines[3].quantity``, adding the line's feedetl_sn when known."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "json-or-python")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return _with_sn(out, doc)


_MAX_SN_ECHO = 50  # the bound of a code (onestop.domain.bill.Code)


def _with_sn(path: str, doc: Any) -> str:
    m = re.match(r"^lines\[([0-9]+)\]", path)
    if m and doc is not None:
        try:
            sn = doc["lines"][int(m.group(1))]["feedetl_sn"]
        except (KeyError, IndexError, TypeError, ValueError):
            sn = None
        # Only a feedetl_sn that is itself valid is echoed: an oversize one would make every refusal
        # as large as the input (and overflow the gRPC trailers a client accepts).
        if isinstance(sn, str) and 0 < len(sn) <= _MAX_SN_ECHO:
            path += f" (feedetl_sn {sn})"
    return path


def violations_from(exc: ValidationError, doc: Any = None) -> tuple[FieldViolation, ...]:
    """Every error of a pydantic ValidationError as a field violation (field path + message)."""
    out: list[FieldViolation] = []
    errors = exc.errors(include_url=False)
    item_errors = {tuple(e["loc"][:1]) for e in errors if len(e.get("loc", ())) > 1}
    for err in errors:
        loc = tuple(err.get("loc", ()))
        # A tuple whose invalid items were all reported also reports itself as too short: noise.
        if err.get("type") == "too_short" and loc in item_errors:
            continue
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        base = field_path(loc).split(" (feedetl_sn")[0]
        if err.get("type") == "value_error":
            parts = [_HEAD.match(p) for p in msg.split("; ")]
            if parts and all(parts):
                for m in parts:
                    assert m is not None
                    head = m.group(1)
                    path = head if base in ("", "bill") or head.startswith("lines[") else f"{base}.{head}"
                    out.append(FieldViolation(_with_sn(path, doc), m.group(2)))
                continue
        out.append(FieldViolation(_with_sn(base or "bill", doc), msg))
    return tuple(out)


def _date(value: Any) -> dt.date | None:
    """A date exactly as the model accepts it (YYYY-MM-DD), else None: no range check on guesses."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _raw_cross_checks(doc: Any) -> list[FieldViolation]:
    """Bill-level checks on the raw document, so they are reported even when other fields fail.

    The model runs them only once every field is valid; a cashier fixing one error should see all.
    """
    out: list[FieldViolation] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("lines"), list):
        return out
    raw_visit = doc.get("visit")
    visit: dict[str, Any] = raw_visit if isinstance(raw_visit, dict) else {}
    start, end = _date(visit.get("admission_date")), _date(visit.get("discharge_date"))
    if start is not None and end is not None and end < start:
        start = end = None  # reversed visit dates are reported on the visit; no range to judge lines by
    seen: set[str] = set()
    for i, line in enumerate(doc["lines"]):
        if not isinstance(line, dict):
            continue
        sn = line.get("feedetl_sn")
        if isinstance(sn, str):
            if sn in seen:
                out.append(FieldViolation(f"lines[{i}].feedetl_sn", f"duplicate feedetl_sn {sn!r}"))
            seen.add(sn)
        if start is not None and end is not None:
            day = _date(line.get("date"))
            if day is not None and not (start <= day <= end):
                out.append(
                    FieldViolation(_with_sn(f"lines[{i}].date", doc), f"{day} is outside the visit ({start}..{end})")
                )
    return out


def parse_bill_json(data: str | bytes) -> Bill:
    """Validate a bill given as JSON text.

    Raises:
        InvalidRequest: with one :class:`~onestop.errors.FieldViolation` per offending field.
    """
    try:
        return Bill.model_validate_json(data)
    except ValidationError as exc:
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            doc = None
        violations = list(violations_from(exc, doc))
        named = {v.field.split(" (feedetl_sn")[0] for v in violations}
        violations += [v for v in _raw_cross_checks(doc) if v.field.split(" (feedetl_sn")[0] not in named]
        raise InvalidRequest("the bill is not valid", violations=tuple(violations)) from None
    except RecursionError:
        raise InvalidRequest(
            "the bill is not valid", violations=(FieldViolation("bill", "nesting too deep"),)
        ) from None
