"""Builders for catalog tests: bill lines, hospitals and small hand-written catalog data sets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from onestop.catalog._rows import CatalogData, DrugRow, EditionRow, ListRow, StandardRow
from onestop.catalog.resolution import StandardSource
from onestop.domain.bill import BillLine, Hospital
from onestop.domain.codes import ChargeCategory, ChrgitmLv

D = dt.date
DAY = D(2026, 3, 2)
SINCE = D(2020, 1, 1)


def hospital(region: str = "220100", code: str = "H22010100001", group: str = "JL-GROUP-FX1") -> Hospital:
    return Hospital(code=code, tier="三级", region=region, group=group)


def line(
    code: str = "",
    day: dt.date = DAY,
    *,
    name: str = "item",
    category: str = "09",
    spec: str = "",
    form: str = "",
    hospital_code: str = "",
    sn: str = "1",
) -> BillLine:
    return BillLine(
        feedetl_sn=sn,
        national_code=code,
        hospital_code=hospital_code,
        name=name,
        dosage_form=form,
        spec=spec,
        category=ChargeCategory(category),
        quantity=Decimal(1),
        unit_price=Decimal(1),
        amount_fen=100,
        date=day,
    )


def edition(eid: str, start: dt.date, end: dt.date | None = None, kind: str = "drug") -> EditionRow:
    return EditionRow(eid, kind, f"title {eid}", "000000", start, end, "test", True)


def drug(edition_id: str, code: str, name: str, *, lv: ChrgitmLv = ChrgitmLv.B, section: str = "西药部分") -> DrugRow:
    return DrugRow(edition_id, code, "1", name, "", "", section, lv, "", "", True)


def std(
    amount: int | None,
    *,
    code: str = "",
    name: str = "",
    spec: str = "",
    region: str = "000000",
    source: StandardSource = StandardSource.BID,
    start: dt.date = SINCE,
    end: dt.date | None = None,
) -> StandardRow:
    return StandardRow(code, name, spec, "", source, amount, amount is None, region, start, end, "", True)


def listed(name: str, region: str, start: dt.date, end: dt.date | None = None, *, on: bool = True) -> ListRow:
    return ListRow(region, "", name, "", on, start, end, "test", True)


CODE_A = "XA01AFX0001000000000000"
CODE_B = "XA01AFX0002000000000000"


def small(**extra: object) -> CatalogData:
    """Two drug editions (2024, 2025) with drug A in both and drug B only in 2025."""
    base: dict[str, object] = {
        "editions": (edition("e2024", D(2024, 1, 1)), edition("e2025", D(2025, 1, 1))),
        "drugs": (
            drug("e2024", CODE_A, "甲药片"),
            drug("e2025", CODE_A, "甲药片"),
            drug("e2025", CODE_B, "乙药注射液"),
        ),
    }
    base.update(extra)
    return CatalogData(**base)  # type: ignore[arg-type]
