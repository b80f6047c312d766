"""The CSV import formats, one per kind, with all-or-nothing validation.

Column names follow the NHSA 1312 (目录信息), 1318 (限价) and 1319 (先自付比例) field names where
those exist (``med_list_codg``, ``hilist_name``, ``chrgitm_lv``, ``hilist_pric_uplmt_amt``,
``hilist_lmtpric_type``, ``selfpay_prop``, ``insu_admdvs``, ``begndate``, ``enddate``, ``memo``,
``fixmedins_code``, ``medins_list_codg``, ``drug_genname``, ``drug_dosform``, ``drug_spec``); the
rest are named plainly. Files are UTF-8 (a BOM is accepted); leading ``#`` lines are comments.
Every bad row is reported as ``file:line: reason`` and nothing is returned unless the whole file
is valid (:func:`read_csv` raises :class:`onestop.errors.InvalidRequest` listing them all).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from onestop.catalog._rows import (
    NATIONAL,
    CidlRow,
    ConfidentialRow,
    DrugRow,
    EditionRow,
    ItemRow,
    ListRow,
    MapRow,
    PrepRow,
    StandardRow,
    TransitionRow,
)
from onestop.catalog.resolution import StandardSource
from onestop.domain.codes import ChrgitmLv
from onestop.errors import FieldViolation, InvalidRequest
from onestop.money import MoneyError, parse_ratio, parse_yuan

__all__ = ["EDITION_KIND", "KINDS", "Column", "Kind", "parse_records", "read_csv"]

MAX_TEXT = 500
_REGION = re.compile(r"^\d{6}$")
_CODE = {
    "drug": re.compile(r"^[XZ][0-9A-Za-z]{19}(?:[0-9A-Za-z]{3})?$"),
    "service": re.compile(r"^\d{15}$"),
    "consumable": re.compile(r"^C[0-9A-Za-z]{1,26}$"),
    "any": re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.\-]{0,49}$"),
}
_LV = {"甲": ChrgitmLv.A, "乙": ChrgitmLv.B, "丙": ChrgitmLv.C, "01": ChrgitmLv.A, "02": ChrgitmLv.B, "03": ChrgitmLv.C}
_BOOL = {"1": True, "0": False, "true": True, "false": False, "是": True, "否": False, "": False}
EDITION_KINDS = ("drug", "service", "consumable", "cidl", "preparation")
#: Which edition kind a row kind's ``edition`` column must name.
EDITION_KIND = {
    "drug": "drug",
    "service": "service",
    "consumable": "consumable",
    "cidl": "cidl",
    "preparation": "preparation",
    "transition": "drug",
}


def _text(v: str) -> str:
    if len(v) > MAX_TEXT:
        raise ValueError(f"longer than {MAX_TEXT} characters")
    return v


def _required(v: str) -> str:
    if not v:
        raise ValueError("is required")
    return _text(v)


def _region(v: str) -> str:
    if not v:
        return NATIONAL
    if not _REGION.match(v):
        raise ValueError(f"must be a 6-digit admdvs code, got {v!r}")
    return v


def _date(v: str) -> dt.date:
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"must be a date YYYY-MM-DD, got {v!r}") from None


def _date_opt(v: str) -> dt.date | None:
    return _date(v) if v else None


def _lv(v: str) -> ChrgitmLv:
    try:
        return _LV[v]
    except KeyError:
        raise ValueError(f"must be 甲/乙/丙 or 01/02/03, got {v!r}") from None


def _fen(v: str) -> int:
    try:
        fen = int(parse_yuan(v))
    except MoneyError:
        raise ValueError(f"must be a yuan amount with at most 2 decimals, got {v!r}") from None
    if fen < 0:
        raise ValueError("must not be negative")
    return fen


def _fen_opt(v: str) -> int | None:
    return _fen(v) if v else None


def _fen_or_star(v: str) -> int | None:
    if v == "*":
        return None
    if not v:
        raise ValueError('is required (a yuan amount, or "*" for a confidential standard)')
    return _fen(v)


def _ratio(v: str) -> Decimal | None:
    if not v:
        return None
    try:
        return parse_ratio(v)
    except MoneyError:
        raise ValueError(f"must be a ratio between 0 and 1 such as 0.10, got {v!r}") from None


def _bool(v: str) -> bool:
    try:
        return _BOOL[v.lower()]
    except KeyError:
        raise ValueError(f"must be 0 or 1, got {v!r}") from None


def _bool_true(v: str) -> bool:
    return True if not v else _bool(v)


def _int(v: str) -> int:
    if not v.isdigit() or int(v) <= 0:
        raise ValueError(f"must be a positive integer, got {v!r}")
    return int(v)


def _list(v: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in v.split("|") if p.strip())


def _source(v: str) -> StandardSource:
    try:
        return StandardSource(v)
    except ValueError:
        raise ValueError(f"must be one of {', '.join(s.value for s in StandardSource)}, got {v!r}") from None


def _edition_kind(v: str) -> str:
    if v not in EDITION_KINDS:
        raise ValueError(f"must be one of {', '.join(EDITION_KINDS)}, got {v!r}")
    return v


def _code(kind: str, required: bool) -> Callable[[str], str]:
    pattern = _CODE[kind]

    def parse(v: str) -> str:
        if not v:
            if required:
                raise ValueError("is required")
            return ""
        if not pattern.match(v):
            raise ValueError(f"is not a valid {kind} code: {v!r}")
        return v

    return parse


_PREPARATION_CODE = re.compile(r"^Z\d{2}[0-9A-Za-z]{4,30}$")


def _national_code(v: str) -> str:
    """A national drug (20/23 characters), service (15 digits), consumable (C…) or provincial preparation code."""
    if not v:
        raise ValueError("is required")
    if not any(_CODE[k].match(v) for k in ("drug", "service", "consumable")) and not _PREPARATION_CODE.match(v):
        raise ValueError(f"is not a national drug, service, consumable or preparation code: {v!r}")
    return v


@dataclass(frozen=True, slots=True)
class Column:
    """One CSV column: header name, row attribute, parser, whether the header must be present."""

    name: str
    attr: str
    parse: Callable[[str], Any]
    required: bool = True
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Kind:
    """An import kind: its columns, the row it builds, its duplicate key and cross-field check."""

    name: str
    columns: tuple[Column, ...]
    build: Callable[[dict[str, Any]], Any]
    key: Callable[[Any], tuple[object, ...]]
    check: Callable[[Any], str | None] = lambda _row: None


def _dates_ordered(row: Any) -> str | None:
    if row.valid_to is not None and row.valid_to < row.valid_from:
        return "enddate is before begndate"
    return None


def _negotiated_is_b_class(row: Any) -> str | None:
    # Drugs of the negotiated section are paid as 乙类 (national rule); a 甲 or 丙 there is a data error.
    if "谈判" in row.section and row.lv is not ChrgitmLv.B:
        return "chrgitm_lv: a drug of the negotiated section (协议期内谈判药品) is 乙类"
    return None


def _code_or_name(row: Any) -> str | None:
    if not row.code and not row.name:
        return "needs med_list_codg or drug_genname"
    return _dates_ordered(row) if hasattr(row, "valid_from") else None


def _fixture() -> Column:
    return Column("fixture", "fixture", _bool, False, "1 for invented rows (never shown as official)")


def _item_columns(kind: str) -> tuple[Column, ...]:
    """Columns of the service and consumable kinds (they differ only in their code pattern)."""
    return (
        Column("edition", "edition", _required, doc="edition id (an edition of this kind)"),
        Column("insu_admdvs", "region", _region, False, "admdvs the row applies to; empty = 000000 national"),
        Column("med_list_codg", "code", _code(kind, True), doc="national code"),
        Column("hilist_name", "name", _required),
        Column("med_chrgitm_type", "chrgitm_type", _required, doc="医疗收费项目类别 01..14"),
        Column("chrgitm_lv", "lv", _lv, doc="甲/乙/丙"),
        Column("begndate", "valid_from", _date),
        Column("enddate", "valid_to", _date_opt, False),
        Column("memo", "memo", _text, False, "备注 verbatim"),
        Column("selfpay_prop", "selfpay_ratio", _ratio, False, "先行自付 ratio (1319), e.g. 0.10"),
        _fixture(),
    )


KINDS: dict[str, Kind] = {
    "edition": Kind(
        "edition",
        (
            Column("edition", "edition", _required, doc="id, e.g. nrdl-2025"),
            Column("kind", "kind", _edition_kind, doc="drug|service|consumable|cidl|preparation"),
            Column("title", "title", _required, doc="official title"),
            Column("insu_admdvs", "region", _region, False),
            Column("begndate", "valid_from", _date),
            Column("enddate", "valid_to", _date_opt, False),
            Column("source", "source", _text, False, "the notice that states it"),
            _fixture(),
        ),
        lambda v: EditionRow(**v),
        lambda r: (r.edition,),
        _dates_ordered,
    ),
    "drug": Kind(
        "drug",
        (
            Column("edition", "edition", _required, doc="drug edition id"),
            Column(
                "med_list_codg", "code", _code("drug", False), doc="医保药品代码 (20/23 chars); empty = listing only"
            ),
            Column("catalog_no", "catalog_no", _text, False, "编号 in the edition"),
            Column("drug_genname", "name", _required, doc="通用名 (as listed)"),
            Column("drug_dosform", "form", _text, False, "剂型"),
            Column("drug_spec", "spec", _text, False, "规格"),
            Column("section", "section", _required, doc="西药部分 / 中成药部分 / 协议期内谈判药品部分… / 竞价药品部分"),
            Column("chrgitm_lv", "lv", _lv, doc="甲/乙/丙 (negotiated drugs: 乙)"),
            Column("memo", "memo", _text, False, "备注 verbatim"),
            Column("category_code", "category_code", _text, False, "NHSA drug class, e.g. XA03A"),
            _fixture(),
        ),
        lambda v: DrugRow(**v),
        lambda r: (r.edition, r.code) if r.code else (r.edition, "", r.name, r.form),
        _negotiated_is_b_class,
    ),
    "service": Kind(
        "service",
        _item_columns("service"),
        lambda v: ItemRow(**v),
        lambda r: (r.edition, r.region, r.code, r.valid_from),
        _dates_ordered,
    ),
    "consumable": Kind(
        "consumable",
        _item_columns("consumable"),
        lambda v: ItemRow(**v),
        lambda r: (r.edition, r.region, r.code, r.valid_from),
        _dates_ordered,
    ),
    "standard": Kind(
        "standard",
        (
            Column("med_list_codg", "code", _code("any", False), False, "national code, or empty with drug_genname"),
            Column("drug_genname", "name", _text, False, "generic name as listed"),
            Column("drug_spec", "spec", _text, False, "规格 the standard is quoted for"),
            Column("unit", "unit", _text, False, "per unit, e.g. 粒"),
            Column("hilist_lmtpric_type", "source", _source, doc="negotiated|bid|vbp|price_cap"),
            Column("hilist_pric_uplmt_amt", "amount_fen", _fen_or_star, doc='yuan per unit, or "*" (confidential)'),
            Column("insu_admdvs", "region", _region, False),
            Column("begndate", "valid_from", _date),
            Column("enddate", "valid_to", _date_opt, False),
            _fixture(),
        ),
        lambda v: StandardRow(**v, confidential=v["amount_fen"] is None, text=""),
        lambda r: (r.code, r.name, r.spec, r.source, r.region, r.valid_from),
        _code_or_name,
    ),
    "confidential": Kind(
        "confidential",
        (
            Column("med_list_codg", "code", _code("any", False), False, "national code, or empty with drug_genname"),
            Column("drug_genname", "name", _text, False, "generic name as in the standard row"),
            Column("drug_spec", "spec", _text, False, "规格; empty = every spec"),
            Column("hilist_pric_uplmt_amt", "amount_fen", _fen, doc="yuan per unit"),
            Column("insu_admdvs", "region", _region, False),
            Column("begndate", "valid_from", _date),
            Column("enddate", "valid_to", _date_opt, False),
            _fixture(),
        ),
        lambda v: ConfidentialRow(**v),
        lambda r: (r.code, r.name, r.spec, r.region, r.valid_from),
        _code_or_name,
    ),
    "hospital-map": Kind(
        "hospital-map",
        (
            Column("fixmedins_code", "hospital", _required, doc="hospital (定点医药机构) code"),
            Column("medins_list_codg", "hospital_code", _required, doc="the hospital's own item code"),
            Column(
                "med_list_codg", "code", _national_code, doc="national code (drug, service, consumable or preparation)"
            ),
            _fixture(),
        ),
        lambda v: MapRow(**v),
        lambda r: (r.hospital, r.hospital_code),
    ),
    "cidl": Kind(
        "cidl",
        (
            Column("edition", "edition", _required, doc="cidl edition id"),
            Column("cidl_no", "no", _int, doc="序号 in the list"),
            Column("drug_genname", "name", _required),
            Column("drug_dosform", "form", _text, False),
            Column("brand_name", "brand", _text, False),
            Column("category_code", "category_code", _text, False, "e.g. XL01XL (CAR-T)"),
            Column("begndate", "valid_from", _date),
            Column("enddate", "valid_to", _date_opt, False),
            Column("med_list_codg", "code", _code("any", False), False, "national code mapped to it, if any"),
            _fixture(),
        ),
        lambda v: CidlRow(**v),
        lambda r: (r.edition, r.no, r.code),
        _dates_ordered,
    ),
    "preparation": Kind(
        "preparation",
        (
            Column("edition", "edition", _required, doc="preparation list edition id"),
            Column("insu_admdvs", "region", _region),
            Column("med_list_codg", "code", _code("any", True)),
            Column("drug_genname", "name", _required),
            Column("drug_dosform", "form", _text, False),
            Column("drug_spec", "spec", _text, False),
            Column("chrgitm_lv", "lv", _lv),
            Column("memo", "memo", _text, False),
            Column("producer_codes", "producers", _list, doc="producing hospitals' codes, |-separated"),
            Column("group_approved", "group_approved", _bool, False, "1 = approved for use across its groups"),
            Column("groups", "groups", _list, False, "hospital group ids, |-separated"),
            Column("hilist_pric_uplmt_amt", "amount_fen", _fen_opt, False, "payment standard, yuan per unit"),
            _fixture(),
        ),
        lambda v: PrepRow(**v),
        lambda r: (r.edition, r.region, r.code),
    ),
    "transition": Kind(
        "transition",
        (
            Column("edition", "edition", _required, doc="the drug edition that removed the drug"),
            Column("insu_admdvs", "region", _region),
            Column("med_list_codg", "code", _code("any", False), False),
            Column("drug_genname", "name", _text, False),
            Column("drug_dosform", "form", _text, False),
            Column("begndate", "valid_from", _date),
            Column("enddate", "valid_to", _date),
            Column("source", "source", _text, False),
            _fixture(),
        ),
        lambda v: TransitionRow(**v),
        lambda r: (r.edition, r.region, r.code, r.name),
        _code_or_name,
    ),
}

_LIST_COLUMNS = (
    Column("insu_admdvs", "region", _region),
    Column("med_list_codg", "code", _code("any", False), False),
    Column("drug_genname", "name", _text, False),
    Column("drug_dosform", "form", _text, False),
    Column("listed", "listed", _bool_true, False, "1 = on the list (default), 0 = taken off for this region"),
    Column("begndate", "valid_from", _date),
    Column("enddate", "valid_to", _date_opt, False),
    Column("source", "source", _text, False),
    _fixture(),
)
for _name in ("dual-channel", "two-diseases"):
    KINDS[_name] = Kind(
        _name,
        _LIST_COLUMNS,
        lambda v: ListRow(**v),
        lambda r: (r.region, r.code, r.name, r.form, r.valid_from),
        _code_or_name,
    )


def parse_records(
    kind: str,
    header: list[str],
    records: Iterable[tuple[int, list[str]]],
    source: str,
    editions: Mapping[str, str] | None = None,
) -> tuple[list[Any], list[FieldViolation]]:
    """Validate records of one kind.

    Args:
        kind: A key of :data:`KINDS`.
        header: Column names as in the file.
        records: ``(line number, cells)`` pairs.
        source: File name used in error locations.
        editions: Known edition id → edition kind, for the ``edition`` column check.

    Returns:
        ``(rows, violations)``; rows are meaningful only when violations is empty.
    """
    spec = KINDS[kind]
    errors: list[FieldViolation] = []
    header = [h.strip() for h in header]
    known = {c.name for c in spec.columns}
    missing = [c.name for c in spec.columns if c.required and c.name not in header]
    unknown = [h for h in header if h not in known]
    if missing or unknown:
        why = []
        if missing:
            why.append("missing column(s) " + ", ".join(missing))
        if unknown:
            why.append("unknown column(s) " + ", ".join(unknown))
        return [], [FieldViolation(f"{source}:header", "; ".join(why))]
    if len(set(header)) != len(header):
        return [], [FieldViolation(f"{source}:header", "duplicate column names")]
    index = {h: i for i, h in enumerate(header)}
    edition_kinds = dict(editions or {})
    rows: list[Any] = []
    seen: dict[tuple[object, ...], int] = {}
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        where = f"{source}:{line}"
        if len(cells) != len(header):
            errors.append(FieldViolation(where, f"has {len(cells)} cells, the header has {len(header)}"))
            continue
        values: dict[str, Any] = {}
        bad = []
        for col in spec.columns:
            raw = cells[index[col.name]].strip() if col.name in index else ""
            try:
                values[col.attr] = col.parse(raw)
            except ValueError as exc:
                bad.append(f"{col.name} {exc}")
        if kind in EDITION_KIND and values.get("edition"):
            want = EDITION_KIND[kind]
            got = edition_kinds.get(values["edition"])
            if got is None:
                bad.append(f"edition {values['edition']!r} is not loaded (import it with --kind edition first)")
            elif got != want:
                bad.append(f"edition {values['edition']!r} is a {got} edition, not {want}")
        if bad:
            errors.append(FieldViolation(where, "; ".join(bad)))
            continue
        row = spec.build(values)
        problem = spec.check(row)
        if problem is None and kind == "edition":
            edition_kinds.setdefault(row.edition, row.kind)
        if problem is not None:
            errors.append(FieldViolation(where, problem))
            continue
        key = spec.key(row)
        if key in seen:
            errors.append(FieldViolation(where, f"duplicate of line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(row)
    return rows, errors


def read_csv(path: Path, kind: str, editions: Mapping[str, str] | None = None) -> tuple[Any, ...]:
    """Read and validate one CSV file of one kind, all or nothing.

    Args:
        path: The file.
        kind: A key of :data:`KINDS` (e.g. ``"drug"``).
        editions: Known edition id → edition kind (those already loaded).

    Returns:
        The typed rows, in file order.

    Raises:
        InvalidRequest: Listing every bad row as ``file:line`` + reason; nothing is returned then.
    """
    if kind not in KINDS:
        raise InvalidRequest(f"unknown kind {kind!r}; one of {', '.join(sorted(KINDS))}")
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"{name}: not valid UTF-8", violations=(FieldViolation(f"{name}:1", f"not UTF-8 ({exc.reason})"),)
        ) from None
    except OSError as exc:
        raise InvalidRequest(f"{name}: cannot read ({exc.strerror})") from None
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and (lines[start].startswith("#") or not lines[start].strip()):
        start += 1
    if start == len(lines):
        raise InvalidRequest(f"{name}: no header row", violations=(FieldViolation(f"{name}:1", "no header row"),))
    reader = csv.reader(io.StringIO("".join(lines[start:])))
    header = next(reader)
    records = ((start + reader.line_num, cells) for cells in reader)
    rows, errors = parse_records(kind, header, records, name, editions)
    if errors:
        raise InvalidRequest(
            f"{name}: {len(errors)} bad row(s); nothing was loaded",
            violations=tuple(
                FieldViolation(e.field.replace(":header", f":{start + 1}"), e.description) for e in errors
            ),
        )
    return tuple(rows)
