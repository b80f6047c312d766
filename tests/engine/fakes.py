"""Test doubles for engine tests: a dict-backed catalog and bill builders (not catalog data)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

from onestop.catalog.resolution import (
    AuditHit,
    CidlMatch,
    MatchedBy,
    Resolution,
    Restriction,
    RestrictionKind,
    Standard,
    StandardSource,
)
from onestop.domain import Bill, BillLine, ChrgitmLv, ItemKind

OUT = Resolution(in_catalog=False, matched_by=MatchedBy.NONE, kind=ItemKind.DRUG, edition="test-edition")


def entry(code: str, lv: str = "甲", *, kind: ItemKind = ItemKind.DRUG, **kw: Any) -> Resolution:
    """A catalog entry: lv 甲/乙/丙."""
    level = {"甲": ChrgitmLv.A, "乙": ChrgitmLv.B, "丙": ChrgitmLv.C}[lv]
    return Resolution(
        in_catalog=True,
        matched_by=MatchedBy.NATIONAL_CODE,
        kind=kind,
        edition="test-edition",
        national_code=code,
        name=kw.pop("name", code),
        chrgitm_lv=level,
        **kw,
    )


def standard(fen: int, *, source: StandardSource = StandardSource.BID, confidential: bool = False) -> Standard:
    """A per-unit payment standard in fen."""
    return Standard(
        source=source,
        unit="",
        spec="",
        amount_fen=fen,
        confidential=confidential,
        valid_from=dt.date(2026, 1, 1),
        valid_to=None,
        region="000000",
    )


def restriction(kind: RestrictionKind, value: int | None = None) -> Restriction:
    """A parsed 备注 restriction."""
    return Restriction(kind=kind, text=kind.value, value=value)


def cidl(no: int = 10, *, car_t: bool = True) -> CidlMatch:
    """A CIDL match (10 = 阿基仑赛注射液 in the real list)."""
    return CidlMatch(
        no=no, name="阿基仑赛注射液", matched_by=MatchedBy.NAME, category_code="XL01XL" if car_t else "XL01FD"
    )


class FakeCatalog:
    """CatalogView over a dict: national code → Resolution; anything else is out of catalog."""

    def __init__(self, entries: dict[str, Resolution], audit_hits: tuple[AuditHit, ...] = ()) -> None:
        self.entries = entries
        self.audit_hits = audit_hits

    def resolve(self, line: BillLine, hospital: Any) -> Resolution:
        return self.entries.get(line.national_code, OUT)

    def audit(self, bill: Bill) -> tuple[AuditHit, ...]:
        return self.audit_hits


def line(
    sn: str, code: str, price: str, qty: str = "1", *, day: dt.date = dt.date(2026, 3, 2), **kw: Any
) -> dict[str, Any]:
    """A bill line as JSON-able dict; amount computed exactly from price × qty."""
    amount = Decimal(price) * Decimal(qty) * 100
    assert amount == amount.to_integral_value(), "test line must be a whole number of fen"
    d: dict[str, Any] = {
        "feedetl_sn": sn,
        "national_code": code,
        "name": kw.pop("name", code),
        "category": kw.pop("category", "09"),
        "quantity": qty,
        "unit_price": price,
        "amount_fen": int(amount),
        "date": day.isoformat(),
    }
    d.update(kw)
    return d


def bill(lines: list[dict[str, Any]], **over: Any) -> Bill:
    """A 职工 inpatient bill in the fictional textbook region (990100), overridable per section."""
    doc: dict[str, Any] = {
        "hospital": {"code": "H0001", "tier": "三级", "region": "990100", "group": "G1"},
        "patient": {
            "psn_no": "P001",
            "cert_type": "02",
            "cert_no": "110101199001011234",
            "name": "张三",
            "insutype": "310",
            "psn_type": "11",
            "age": 40,
            "sex": "1",
            "insured_region": "990100",
        },
        "visit": {
            "mdtrt_id": "V001",
            "med_type": "21",
            "admission_date": "2026-03-01",
            "discharge_date": "2026-03-05",
            "diagnoses": [{"code": "K35.800"}],
        },
        "lines": lines,
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    import json

    return Bill.model_validate_json(json.dumps(doc))


__all__ = ["OUT", "FakeCatalog", "bill", "cidl", "entry", "line", "replace", "restriction", "standard"]
