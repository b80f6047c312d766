"""Hypothesis strategies for bills as a hospital would send them: valid ones, and broken ones that know their faults.

A broken bill is a valid bill with one or more *mutations* applied to its JSON document. Each
mutation records the field paths a correct validator must name (``lines[3].quantity``,
``patient.name``…), so a test can check that every offending field is reported, and that nothing
else is. Unknown item codes are deliberately *not* a mutation: such a line is out of catalog, not
invalid.

Cross-field checks (a line's amount against quantity × price, visit dates in order) can only be
judged when the fields they read are valid themselves; a mutation says which fields it reads
(``needs``), and the expectation drops it when another mutation broke one of them. Duplicate line
ids and line dates outside the visit are judged on the final document (a later mutation may move
or undo them) and must be reported whatever else is wrong with the bill.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "ADMISSION",
    "DISCHARGE",
    "PLANTED_CERT",
    "PLANTED_NAME",
    "UNKNOWN_CODES",
    "Broken",
    "Mutation",
    "broken_bills",
    "expected_paths",
    "matches",
    "valid_bill_docs",
]

ADMISSION = dt.date(2026, 3, 1)
DISCHARGE = dt.date(2026, 3, 6)

#: Planted personal data: must never appear in an error message.
PLANTED_NAME = "欧阳秘密"
PLANTED_CERT = "110101199003077777"

#: Item codes that exist in no catalog: out of catalog, never a validation error.
UNKNOWN_CODES = ("ZZ-NOT-IN-ANY-CATALOG", "XA01ZZZ999A999999999", "9999999999")

_CATEGORIES = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14")


def _line(sn: str, code: str, category: str, qty: Decimal, price: Decimal, day: dt.date, pick: int) -> dict[str, Any]:
    exact = qty * price * 100
    # Any whole fen within 1 fen of quantity × price is a correct amount (hospitals round differently).
    low, high = int(exact.to_integral_value(ROUND_FLOOR)), int(exact.to_integral_value(ROUND_CEILING))
    choices = sorted({a for a in (low - 1, low, high, high + 1) if a >= 0 and abs(a - exact) <= 1})
    amount = choices[pick % len(choices)]
    return {
        "feedetl_sn": sn,
        "national_code": code,
        "name": f"项目{sn}",
        "category": category,
        "quantity": f"{qty:f}",
        "unit_price": f"{price:f}",
        "amount_fen": amount,
        "date": day.isoformat(),
    }


@st.composite
def valid_bill_docs(draw: st.DrawFn, *, codes: tuple[str, ...] = UNKNOWN_CODES, max_lines: int = 6) -> dict[str, Any]:
    """A valid bill document (JSON-able dict) in the fictional textbook region 990100.

    Args:
        draw: Hypothesis draw.
        codes: National codes lines may carry (by default codes in no catalog: out of catalog, valid).
        max_lines: Upper bound on the number of lines.
    """
    n = draw(st.integers(1, max_lines))
    lines = []
    for i in range(n):
        qty = Decimal(draw(st.integers(1, 99_999))).scaleb(-draw(st.integers(0, 4)))
        price = Decimal(draw(st.integers(0, 10**8))).scaleb(-draw(st.integers(0, 6)))
        day = ADMISSION + dt.timedelta(days=draw(st.integers(0, (DISCHARGE - ADMISSION).days)))
        lines.append(
            _line(
                f"{i + 1:04d}",
                draw(st.sampled_from(codes)),
                draw(st.sampled_from(_CATEGORIES)),
                qty,
                price,
                day,
                draw(st.integers(0, 3)),
            )
        )
    return {
        "hospital": {"code": "H0001", "tier": draw(st.sampled_from(["一级", "二级", "三级"])), "region": "990100"},
        "patient": {
            "psn_no": "P0001",
            "cert_type": "02",
            "cert_no": PLANTED_CERT,
            "name": PLANTED_NAME,
            "insutype": draw(st.sampled_from(["310", "390"])),
            "psn_type": "11",
            "age": draw(st.integers(0, 110)),
            "sex": draw(st.sampled_from(["1", "2"])),
            "insured_region": "990100",
        },
        "visit": {
            "mdtrt_id": "V0001",
            "med_type": "21",
            "admission_date": ADMISSION.isoformat(),
            "discharge_date": DISCHARGE.isoformat(),
            "diagnoses": [{"code": "K35.800"}],
        },
        "lines": lines,
    }


@dataclass(frozen=True)
class Mutation:
    """One fault planted in a bill document."""

    kind: str
    """What kind of fault (for failure messages and coverage reporting)."""
    expect: tuple[str, ...]
    """Field paths a correct validator names for this fault."""
    apply: Edit = field(repr=False)
    needs: tuple[str, ...] = ()
    """Cross-field faults: fields that must be valid for the fault to be judged at all."""


@dataclass(frozen=True)
class Broken:
    """A bill document with its planted faults."""

    doc: dict[str, Any]
    mutations: tuple[Mutation, ...]

    @property
    def text(self) -> str:
        """The document as the JSON a hospital sends."""
        return json.dumps(self.doc, ensure_ascii=False, allow_nan=True)


_DELETE = object()


@dataclass(frozen=True)
class Edit:
    """Set (or delete) the value at a path of the document."""

    path: tuple[str | int, ...]
    value: Any = _DELETE

    @property
    def target(self) -> str:
        """The dotted path written."""
        return _dotted(self.path)

    def __call__(self, doc: dict[str, Any]) -> None:
        node: Any = doc
        for part in self.path[:-1]:
            node = node[part]
        if self.value is _DELETE:
            del node[self.path[-1]]
        else:
            node[self.path[-1]] = copy.deepcopy(self.value)


def _set(path: tuple[str | int, ...], value: Any) -> Edit:
    return Edit(path, value)


def _delete(path: tuple[str | int, ...]) -> Edit:
    return Edit(path)


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return out


# Values that are not plain decimal text: NaN/Inf (as text and as JSON tokens), exponents, signs,
# floats, separators, whitespace, empty, non-ASCII digits.
_NOT_DECIMAL: tuple[Any, ...] = (
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1e2",
    "1E-3",
    "2.5e0",
    "+1",
    "1,000",
    " 1",
    "1 ",
    "",
    "0x10",
    "１",
    "٣",
    1.5,
    float("nan"),
    float("inf"),
    True,
    None,
    [],
)

_LINE_MISSING = ("feedetl_sn", "name", "category", "quantity", "unit_price", "amount_fen", "date")
_SECTION_MISSING: tuple[tuple[str, ...], ...] = (
    ("hospital",),
    ("patient",),
    ("visit",),
    ("lines",),
    ("hospital", "code"),
    ("hospital", "tier"),
    ("hospital", "region"),
    ("patient", "psn_no"),
    ("patient", "cert_type"),
    ("patient", "cert_no"),
    ("patient", "name"),
    ("patient", "insutype"),
    ("patient", "psn_type"),
    ("patient", "age"),
    ("patient", "sex"),
    ("patient", "insured_region"),
    ("visit", "mdtrt_id"),
    ("visit", "med_type"),
    ("visit", "admission_date"),
    ("visit", "discharge_date"),
    ("visit", "diagnoses"),
)
_UNKNOWN_ENUMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("patient", "insutype"), ("999", "300", "工伤", "")),
    (("patient", "cert_type"), ("09", "1", "")),
    (("patient", "sex"), ("3", "M", "")),
    (("patient", "medical_assistance"), ("rich", "")),
    (("visit", "med_type"), ("99", "31", "1", "")),
    (("visit", "discharge_way"), ("0", "X")),
)
_LINE_ENUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("category", ("00", "15", "99", "9", "")),
    ("hosp_appr_flag", ("7", "Y", "")),
)
# (path, max length) of bounded strings; the mutation exceeds the bound by 1..many characters.
_BOUNDED_TEXT: tuple[tuple[tuple[str, ...], int], ...] = (
    (("hospital", "code"), 50),
    (("hospital", "tier"), 50),
    (("hospital", "group"), 200),
    (("patient", "psn_no"), 50),
    (("patient", "cert_no"), 64),
    (("patient", "name"), 50),
    (("patient", "psn_type"), 50),
    (("visit", "mdtrt_id"), 50),
    (("visit", "dept"), 200),
)
_LINE_BOUNDED_TEXT: tuple[tuple[str, int], ...] = (
    ("feedetl_sn", 50),
    ("national_code", 50),
    ("hospital_code", 50),
    ("name", 200),
    ("dosage_form", 200),
    ("spec", 200),
    ("e_prescription_id", 200),
)


@st.composite
def _mutation(draw: st.DrawFn, doc: dict[str, Any]) -> Mutation:
    lines = doc.get("lines")
    n = len(lines) if isinstance(lines, list) else 0
    i = draw(st.integers(0, n - 1)) if n else 0
    lp = f"lines[{i}]"
    line_kinds = {
        "quantity_not_positive",
        "quantity_negative",
        "price_negative",
        "too_many_decimals",
        "not_decimal",
        "amount_not_int",
        "amount_negative",
        "amount_mismatch",
        "line_enum",
        "line_date_outside_visit",
        "line_missing",
        "line_oversize",
    }
    kinds = [
        "quantity_not_positive",
        "quantity_negative",
        "price_negative",
        "too_many_decimals",
        "not_decimal",
        "amount_not_int",
        "amount_negative",
        "amount_mismatch",
        "line_enum",
        "enum",
        "line_date_outside_visit",
        "line_missing",
        "missing",
        "line_oversize",
        "oversize",
        "extra_field",
        "bad_date",
        "bad_admdvs",
        "visit_dates_reversed",
        "age_out_of_range",
        "wrong_type",
    ]
    if n >= 2:
        kinds.append("duplicate_line_id")
    if n == 0:  # an earlier mutation removed or retyped the lines
        kinds = [k for k in kinds if k not in line_kinds]
    kind = draw(st.sampled_from(kinds))
    if kind == "quantity_not_positive":
        v = draw(st.sampled_from(["0", "0.0", "0.0000"]))
        return Mutation(kind, (f"{lp}.quantity",), _set(("lines", i, "quantity"), v))
    if kind == "quantity_negative":
        v = draw(st.sampled_from(["-1", "-0.5", "-0", "-0.0001"]))
        return Mutation(kind, (f"{lp}.quantity",), _set(("lines", i, "quantity"), v))
    if kind == "price_negative":
        v = draw(st.sampled_from(["-3", "-0.01", "-12.345678"]))
        return Mutation(kind, (f"{lp}.unit_price",), _set(("lines", i, "unit_price"), v))
    if kind == "too_many_decimals":
        name = draw(st.sampled_from(["quantity", "unit_price"]))
        places = draw(st.integers(5, 12)) if name == "quantity" else draw(st.integers(7, 14))
        v = "1." + "0" * (places - 1) + "1"
        return Mutation(kind, (f"{lp}.{name}",), _set(("lines", i, name), v))
    if kind == "not_decimal":
        name = draw(st.sampled_from(["quantity", "unit_price"]))
        v = draw(st.sampled_from(_NOT_DECIMAL))
        return Mutation(kind, (f"{lp}.{name}",), _set(("lines", i, name), v))
    if kind == "amount_not_int":
        v = draw(st.sampled_from([12.5, 1000.0, "1000", "10.00", float("nan"), float("inf"), 1e300, None, True]))
        return Mutation(kind, (f"{lp}.amount_fen",), _set(("lines", i, "amount_fen"), v))
    if kind == "amount_negative":
        v = draw(st.integers(-(10**12), -1))
        return Mutation(kind, (f"{lp}.amount_fen",), _set(("lines", i, "amount_fen"), v))
    if kind == "amount_mismatch":
        line = doc["lines"][i]
        delta = draw(st.integers(2, 10**9))
        up = draw(st.booleans())
        try:
            base = int((Decimal(line["quantity"]) * Decimal(line["unit_price"]) * 100).to_integral_value())
        except (ArithmeticError, TypeError, ValueError, KeyError):
            base = None  # an earlier mutation broke quantity or price: nothing to mismatch against
        if base is not None:
            v = base + delta if up or base - delta < 0 else base - delta
            return Mutation(kind, (f"{lp}.amount_fen",), _set(("lines", i, "amount_fen"), v), needs=(lp,))
        return Mutation("amount_negative", (f"{lp}.amount_fen",), _set(("lines", i, "amount_fen"), -delta))
    if kind == "line_enum":
        name, values = draw(st.sampled_from(_LINE_ENUMS))
        return Mutation(kind, (f"{lp}.{name}",), _set(("lines", i, name), draw(st.sampled_from(values))))
    if kind == "enum":
        path, values = draw(st.sampled_from(_UNKNOWN_ENUMS))
        return Mutation(kind, (_dotted(path),), _set(path, draw(st.sampled_from(values))))
    if kind == "line_date_outside_visit":
        before = draw(st.booleans())
        days = draw(st.integers(1, 4000))
        day = ADMISSION - dt.timedelta(days=days) if before else DISCHARGE + dt.timedelta(days=days)
        return Mutation(kind, (f"{lp}.date",), _set(("lines", i, "date"), day.isoformat()))
    if kind == "duplicate_line_id":
        j = draw(st.integers(0, n - 1).filter(lambda j: j != i))
        later = max(i, j)
        return Mutation(
            kind,
            (f"lines[{later}].feedetl_sn",),
            _set(("lines", later, "feedetl_sn"), doc["lines"][min(i, j)].get("feedetl_sn", "0001")),
        )
    if kind == "line_missing":
        name = draw(st.sampled_from(_LINE_MISSING))
        return Mutation(kind, (f"{lp}.{name}",), _delete(("lines", i, name)))
    if kind == "missing":
        path = draw(st.sampled_from(_SECTION_MISSING))
        return Mutation(kind, (_dotted(path),), _delete(path))
    if kind == "line_oversize":
        name, limit = draw(st.sampled_from(_LINE_BOUNDED_TEXT))
        v = "长" * (limit + draw(st.integers(1, 5000)))
        return Mutation(kind, (f"{lp}.{name}",), _set(("lines", i, name), v))
    if kind == "oversize":
        path, limit = draw(st.sampled_from(_BOUNDED_TEXT))
        v = "x" * (limit + draw(st.integers(1, 5000)))
        return Mutation(kind, (_dotted(path),), _set(path, v))
    if kind == "extra_field":
        where = draw(st.sampled_from([(), ("patient",), ("visit",), ("hospital",), ("lines", i)] if n else [()]))
        name = draw(st.sampled_from(["fund_pay_fen", "__proto__", "settled", "备注"]))
        return Mutation(kind, (_dotted((*where, name)),), _set((*where, name), 1))
    if kind == "bad_date":
        v = draw(
            st.sampled_from(["2026-02-30", "2026-13-01", "20260301", "yesterday", "", "2026-03-01T25:00:00", 20260301])
        )
        target = draw(st.sampled_from([("lines", i, "date"), ("visit", "admission_date"), ("visit", "discharge_date")]))
        return Mutation(kind, (_dotted(target),), _set(target, v))
    if kind == "bad_admdvs":
        target = draw(st.sampled_from([("hospital", "region"), ("patient", "insured_region")]))
        v = draw(st.sampled_from(["99010", "9901000", "99010A", "", "990 100", "９９０１００", "٩٩٠١٠٠"]))
        return Mutation(kind, (_dotted(target),), _set(target, v))
    if kind == "visit_dates_reversed":
        v = (ADMISSION - dt.timedelta(days=draw(st.integers(1, 400)))).isoformat()
        return Mutation(kind, ("visit.discharge_date",), _set(("visit", "discharge_date"), v), needs=("visit",))
    if kind == "age_out_of_range":
        v = draw(st.sampled_from([-1, 151, 10**30, -(10**30)]))
        return Mutation(kind, ("patient.age",), _set(("patient", "age"), v))
    # wrong_type: a JSON value of the wrong type where a section or list is expected.
    target, v = draw(
        st.sampled_from(
            [
                (("patient",), "P0001"),
                (("visit", "diagnoses"), "K35.800"),
                (("visit", "diagnoses"), []),
                (("lines",), {}),
                (("lines",), []),
                (("patient", "age"), "forty"),
                (("patient", "use_account"), "yes"),
                (("lines", i, "work_related"), "false"),
            ]
        )
    )
    return Mutation("wrong_type", (_dotted(target),), _set(target, v))


@st.composite
def broken_bills(draw: st.DrawFn, *, max_mutations: int = 3) -> Broken:
    """A valid bill with 1..``max_mutations`` faults planted, each knowing the field it breaks."""
    doc = draw(valid_bill_docs())
    k = draw(st.integers(1, max_mutations))
    muts: list[Mutation] = []
    for _ in range(k):
        m = draw(_mutation(doc))
        try:
            m.apply(doc)
        except (KeyError, IndexError, TypeError):
            # A previous mutation removed or retyped the place this one targets: skip it.
            continue
        muts.append(m)
    if not muts:
        # Every mutation collided (rare): fall back to one that always applies.
        m = Mutation("quantity_not_positive", ("lines[0].quantity",), _set(("lines", 0, "quantity"), "0"))
        m.apply(doc)
        muts.append(m)
    return Broken(copy.deepcopy(doc), tuple(muts))


def _covers(reported: str, path: str) -> bool:
    """True when ``reported`` names ``path`` or something inside it (or ``path`` is inside ``reported``)."""
    return (
        reported == path
        or reported.startswith((path + ".", path + "["))
        or path.startswith((reported + ".", reported + "["))
    )


def matches(reported: str, path: str) -> bool:
    """True when a reported violation field (feedetl_sn suffix stripped) names ``path``."""
    return reported.split(" (feedetl_sn", 1)[0] == path


def expected_paths(broken: Broken) -> tuple[set[str], set[str]]:
    """The paths a correct validator must name, and the cross-field paths it may only name when judgeable.

    Returns:
        ``(required, conditional)``: simple field faults are required; a cross-field fault is
        required only when none of the fields it reads was broken by another mutation, else it is
        conditional (may or may not be reported).
    """
    live = [m for k, m in enumerate(broken.mutations) if not _superseded(m, broken.mutations[k + 1 :])]
    # Later mutations can move or undo a planted duplicate or out-of-visit date: judge both on the final document.
    raw = {"duplicate_line_id", "line_date_outside_visit"}
    final = _raw_cross_faults(broken.doc)
    conditional: set[str] = {p for m in live if m.kind in raw for p in m.expect} - set(final)
    live = [m for m in live if m.kind not in raw]
    simple = {p for m in live if not m.needs for p in m.expect}
    required = simple | set(final)
    for m in live:
        if not m.needs:
            continue
        blocked = any(_covers(s, n) for s in simple for n in m.needs)
        (conditional if blocked else required).update(m.expect)
    return required, conditional


def _iso(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10 or not value.isascii():
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _raw_cross_faults(doc: dict[str, Any]) -> tuple[str, ...]:
    """Duplicate line ids, and line dates outside an in-order visit, as the final document has them."""
    lines = doc.get("lines")
    if not isinstance(lines, list):
        return ()
    visit = doc.get("visit") if isinstance(doc.get("visit"), dict) else {}
    start, end = _iso(visit.get("admission_date")), _iso(visit.get("discharge_date"))
    seen: set[str] = set()
    out = []
    for k, line in enumerate(lines):
        if not isinstance(line, dict):
            continue
        sn = line.get("feedetl_sn")
        if isinstance(sn, str):
            if sn in seen:
                out.append(f"lines[{k}].feedetl_sn")
            seen.add(sn)
        day = _iso(line.get("date"))
        if start is not None and end is not None and start <= end and day is not None and not start <= day <= end:
            out.append(f"lines[{k}].date")
    return tuple(out)


def _superseded(m: Mutation, later: tuple[Mutation, ...]) -> bool:
    """A later mutation rewrote what ``m`` broke, or replaced or removed an ancestor of it."""
    mine = m.apply.target
    return any(mine == n.apply.target or mine.startswith((n.apply.target + ".", n.apply.target + "[")) for n in later)
