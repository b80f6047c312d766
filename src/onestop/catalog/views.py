"""Printable, serialisable views of catalog entries (``lookup``, ``editions``, the CLI and gRPC).

These are frozen strict pydantic models. They never carry a confidential number: a confidential
standard's amount is the string ``"*"`` here, whatever the engine computes with.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

__all__ = ["CidlView", "EditionInfo", "EntryView", "LookupResult", "PreparationView", "StandardView"]

MASK = "*"


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class EditionInfo(_View):
    """A loaded catalog edition, as a settlement records it."""

    id: str
    kind: str
    """drug | service | consumable | cidl | preparation."""
    title: str
    """Official title (or a fixture label for invented editions)."""
    region: str
    valid_from: dt.date
    valid_to: dt.date | None
    """Last day in force (inclusive), after abolition by the next edition; None = open."""
    source: str
    fixture: bool


class StandardView(_View):
    """A payment standard in force; ``amount`` is yuan text, or ``"*"`` when confidential."""

    source: str
    spec: str
    unit: str
    amount: str
    region: str
    valid_from: dt.date
    valid_to: dt.date | None
    fixture: bool


class CidlView(_View):
    """A 商保创新药目录 drug (never paid by the basic or work-injury funds)."""

    no: int
    name: str
    brand: str
    category_code: str
    car_t: bool
    matched_by: str
    valid_from: dt.date
    valid_to: dt.date | None
    fixture: bool


class PreparationView(_View):
    """A 医疗机构制剂 on a provincial list."""

    producer_codes: tuple[str, ...]
    group_approved: bool
    groups: tuple[str, ...]


class EntryView(_View):
    """One catalog entry as in force on a date in a region."""

    kind: str
    edition: str
    national_code: str
    name: str
    dosage_form: str
    spec: str
    section: str
    chrgitm_lv: str
    """甲 / 乙 / 丙."""
    negotiated: bool
    remark: str
    """备注 verbatim."""
    restrictions: tuple[str, ...]
    """Parsed restrictions, e.g. ``age_min=18``, ``indication``."""
    standards: tuple[StandardView, ...]
    """Every spec's standard in force (most specific region per spec)."""
    selfpay_ratio: str | None
    transition_until: dt.date | None
    dual_channel: bool
    two_diseases: bool
    preparation: PreparationView | None
    cidl: CidlView | None
    notes: tuple[str, ...]
    fixture: bool
    """True when the row is invented test/demo data, never an official value."""


class LookupResult(_View):
    """What ``onestop catalog lookup`` prints."""

    at: dt.date
    region: str
    code: str | None
    name: str | None
    form: str | None
    editions: tuple[EditionInfo, ...]
    """Editions in force on the date for the region (drug, service, consumable, cidl, preparation)."""
    entries: tuple[EntryView, ...]
    cidl: tuple[CidlView, ...]
    """CIDL drugs matched by name (or by the code)."""
