"""Typed catalog rows, one dataclass per import kind, and the bundle a :class:`CatalogSet` is built from.

Rows are what a CSV import, the packaged data and the SQL store all produce; they carry money as
integer fen, dates as :class:`datetime.date` (``valid_to`` inclusive, ``None`` = open) and a
``fixture`` flag so that nothing invented is ever shown as official.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from onestop.catalog.resolution import StandardSource
from onestop.domain.codes import ChrgitmLv

__all__ = [
    "NATIONAL",
    "AuditRule",
    "CatalogData",
    "CidlRow",
    "ConfidentialRow",
    "DrugRow",
    "EditionRow",
    "ItemRow",
    "ListRow",
    "MapRow",
    "PrepRow",
    "StandardRow",
    "TransitionRow",
    "in_force",
]

NATIONAL = "000000"


def in_force(valid_from: dt.date, valid_to: dt.date | None, day: dt.date) -> bool:
    """True when ``day`` lies in ``[valid_from, valid_to]`` (``valid_to`` None = open-ended)."""
    return valid_from <= day and (valid_to is None or day <= valid_to)


@dataclass(frozen=True, slots=True)
class EditionRow:
    """A catalog edition (drug, service, consumable, cidl or preparation list)."""

    edition: str
    kind: str
    title: str
    region: str
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    fixture: bool


@dataclass(frozen=True, slots=True)
class DrugRow:
    """One drug of a national edition (NHSA 1301/1312 shape); ``code`` empty for a name-only listing."""

    edition: str
    code: str
    catalog_no: str
    name: str
    form: str
    spec: str
    section: str
    lv: ChrgitmLv
    memo: str
    category_code: str
    fixture: bool


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One medical service item (1305) or consumable (1306), region-scoped and dated."""

    edition: str
    region: str
    code: str
    name: str
    chrgitm_type: str
    lv: ChrgitmLv
    valid_from: dt.date
    valid_to: dt.date | None
    memo: str
    selfpay_ratio: Decimal | None
    fixture: bool


@dataclass(frozen=True, slots=True)
class StandardRow:
    """A payment-standard row (1318 shape), keyed by national code or by generic name + spec."""

    code: str
    name: str
    spec: str
    unit: str
    source: StandardSource
    amount_fen: int | None
    """Per unit, fen; ``None`` when confidential (``*``) or kept as text."""
    confidential: bool
    region: str
    valid_from: dt.date
    valid_to: dt.date | None
    text: str
    """Unparsed quotation (e.g. ``见备注2(…)``) when ``amount_fen`` is None and not confidential."""
    fixture: bool


@dataclass(frozen=True, slots=True)
class ConfidentialRow:
    """The number behind a ``*`` standard, from the separately configured confidential file."""

    code: str
    name: str
    spec: str
    amount_fen: int
    region: str
    valid_from: dt.date
    valid_to: dt.date | None
    fixture: bool


@dataclass(frozen=True, slots=True)
class MapRow:
    """A hospital's own item code mapped to a national code (目录对照)."""

    hospital: str
    hospital_code: str
    code: str
    fixture: bool


@dataclass(frozen=True, slots=True)
class CidlRow:
    """A 商保创新药目录 drug; ``code`` set only where a national code is mapped to it."""

    edition: str
    no: int
    name: str
    form: str
    brand: str
    category_code: str
    valid_from: dt.date
    valid_to: dt.date | None
    code: str
    fixture: bool


@dataclass(frozen=True, slots=True)
class ListRow:
    """A provincial list row (双通道 or 两病): listed (or delisted) for a region over a period."""

    region: str
    code: str
    name: str
    form: str
    listed: bool
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    fixture: bool


@dataclass(frozen=True, slots=True)
class PrepRow:
    """A 医疗机构制剂 on a provincial preparation list."""

    edition: str
    region: str
    code: str
    name: str
    form: str
    spec: str
    lv: ChrgitmLv
    memo: str
    producers: tuple[str, ...]
    group_approved: bool
    groups: tuple[str, ...]
    amount_fen: int | None
    fixture: bool


@dataclass(frozen=True, slots=True)
class TransitionRow:
    """A removed negotiated drug paid at its original standard in a region for a while."""

    edition: str
    """The edition that removed it."""
    region: str
    code: str
    name: str
    form: str
    valid_from: dt.date
    valid_to: dt.date
    source: str
    fixture: bool


@dataclass(frozen=True, slots=True)
class AuditRule:
    """One NHSA 两库 knowledge point bound to a national code (a warning, never a refusal)."""

    rule_set: str
    code: str
    name: str
    kind: str
    """age_children | sex | fund | setting | facility | course."""
    value: str
    """儿童 / 男 / 女 / 工伤 / 生育 / 住院 / 二级 / 三级 / 14 (days)."""
    text: str


@dataclass(frozen=True, slots=True)
class CatalogData:
    """Every row a :class:`~onestop.catalog.CatalogSet` is built from."""

    editions: tuple[EditionRow, ...] = ()
    drugs: tuple[DrugRow, ...] = ()
    items: tuple[ItemRow, ...] = ()
    standards: tuple[StandardRow, ...] = ()
    confidential: tuple[ConfidentialRow, ...] = ()
    hospital_map: tuple[MapRow, ...] = ()
    cidl: tuple[CidlRow, ...] = ()
    dual_channel: tuple[ListRow, ...] = ()
    two_diseases: tuple[ListRow, ...] = ()
    preparations: tuple[PrepRow, ...] = ()
    transitions: tuple[TransitionRow, ...] = ()
    audit_rules: tuple[AuditRule, ...] = ()
    notes: tuple[str, ...] = field(default=())
    """Warnings produced while loading (e.g. a standard kept as text)."""
