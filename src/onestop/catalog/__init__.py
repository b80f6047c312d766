"""Effective-dated national and provincial catalogs, the CIDL, and line resolution.

* :func:`default_catalogs` — the packaged data (real 2025 excerpt, CIDL and NHSA rule lists,
  seeded provincial lists, labelled fixtures), built once and cached;
* :func:`open_catalogs` — the same from a catalog store (SQLite by default), where
  ``onestop catalog import`` loads more;
* :class:`CatalogSet` — ``resolve`` / ``audit`` for the engine (the :class:`CatalogView`
  contract), ``lookup`` and ``editions`` for people and services;
* :func:`fixture_samples` — codes a sample bill can use, one per catalog feature.
"""

from __future__ import annotations

import os
from dataclasses import replace
from functools import cache
from pathlib import Path

from onestop.catalog._rows import CatalogData
from onestop.catalog.catalogset import CatalogSet
from onestop.catalog.csvformat import read_csv
from onestop.catalog.packaged import load_packaged
from onestop.catalog.resolution import (
    AuditHit,
    CatalogView,
    CidlMatch,
    HospitalPreparation,
    MatchedBy,
    Resolution,
    Restriction,
    RestrictionKind,
    Standard,
    StandardSource,
)
from onestop.catalog.samples import FixtureSample, fixture_samples
from onestop.catalog.store import CatalogStore
from onestop.catalog.views import CidlView, EditionInfo, EntryView, LookupResult, StandardView

__all__ = [
    "CONFIDENTIAL_ENV",
    "AuditHit",
    "CatalogData",
    "CatalogSet",
    "CatalogStore",
    "CatalogView",
    "CidlMatch",
    "CidlView",
    "EditionInfo",
    "EntryView",
    "FixtureSample",
    "HospitalPreparation",
    "LookupResult",
    "MatchedBy",
    "Resolution",
    "Restriction",
    "RestrictionKind",
    "Standard",
    "StandardSource",
    "StandardView",
    "default_catalogs",
    "fixture_samples",
    "open_catalogs",
]

#: Environment variable naming the confidential-standards file (import format ``confidential``).
CONFIDENTIAL_ENV = "ONESTOP_CONFIDENTIAL_STANDARDS"


def _confidential_from_env() -> Path | None:
    value = os.environ.get(CONFIDENTIAL_ENV, "")
    return Path(value) if value else None


@cache
def default_catalogs() -> CatalogSet:
    """The packaged catalogs, built once per process.

    Confidential numbers come from ``$ONESTOP_CONFIDENTIAL_STANDARDS`` when set, else from the
    packaged, labelled fixture file (invented numbers, for tests and demos).
    """
    env = _confidential_from_env()
    return CatalogSet(load_packaged(env, with_confidential_fixture=env is None))


def open_catalogs(url: str | None = None, confidential_path: Path | None = None) -> CatalogSet:
    """Catalogs from a catalog store, seeded from the packaged data on first open.

    Args:
        url: A SQLAlchemy URL; default ``sqlite:///$ONESTOP_DATA_DIR/catalog.sqlite`` (``./var``).
        confidential_path: The confidential-standards file; default ``$ONESTOP_CONFIDENTIAL_STANDARDS``,
            else the path registered with ``onestop catalog import --kind confidential``. Without
            one, confidential standards have no number (the engine then warns, and shows ``*``).

    Raises:
        onestop.errors.InvalidRequest: The confidential file does not validate.
    """
    store = CatalogStore(url)
    try:
        if not store.seeded:
            store.seed(load_packaged())
        data = store.load()
        conf = confidential_path or _confidential_from_env() or store.confidential_path
    finally:
        store.close()
    if conf is not None:
        data = replace(data, confidential=read_csv(conf, "confidential"))
    return CatalogSet(data)
