"""The catalog store: catalog rows in SQL (SQLite by default, any SQLAlchemy URL).

One table per row kind, with one column per row field (money as BIGINT fen, dates as DATE,
lists as ``|``-joined text). A new store is seeded from the packaged data on first open. An import
replaces rows with the same key and is checked by building a :class:`CatalogSet` from the result
inside the same transaction, so a file that would leave the catalogs inconsistent loads nothing.
Confidential numbers are never stored: ``import --kind confidential`` validates the file and
records its path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import types
import typing
from collections.abc import Sequence
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.types import TypeEngine

from onestop.catalog._rows import (
    AuditRule,
    CatalogData,
    CidlRow,
    DrugRow,
    EditionRow,
    ItemRow,
    ListRow,
    MapRow,
    PrepRow,
    StandardRow,
    TransitionRow,
)
from onestop.catalog.csvformat import KINDS
from onestop.catalog.resolution import StandardSource
from onestop.domain.codes import ChrgitmLv

__all__ = ["CatalogStore", "default_url"]

_META = MetaData()
_meta_table = Table(
    "catalog_meta",
    _META,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# import kind → (table name, row class, CatalogData field)
_TABLES: dict[str, tuple[str, type[Any], str]] = {
    "edition": ("catalog_edition", EditionRow, "editions"),
    "drug": ("catalog_drug", DrugRow, "drugs"),
    "service": ("catalog_item", ItemRow, "items"),
    "consumable": ("catalog_item", ItemRow, "items"),
    "standard": ("catalog_standard", StandardRow, "standards"),
    "hospital-map": ("catalog_hospital_map", MapRow, "hospital_map"),
    "cidl": ("catalog_cidl", CidlRow, "cidl"),
    "dual-channel": ("catalog_dual_channel", ListRow, "dual_channel"),
    "two-diseases": ("catalog_two_diseases", ListRow, "two_diseases"),
    "preparation": ("catalog_preparation", PrepRow, "preparations"),
    "transition": ("catalog_transition", TransitionRow, "transitions"),
    "audit": ("catalog_audit_rule", AuditRule, "audit_rules"),
}
_SEEDED = "seeded"
_CONFIDENTIAL = "confidential_path"


def _column_type(tp: Any) -> tuple[TypeEngine[Any], bool]:
    """SQL type and nullability for a row field annotation."""
    nullable = False
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        nullable, tp = True, args[0]
    if tp is bool:
        return Boolean(), nullable
    if tp is int:
        return BigInteger(), nullable
    if tp is dt.date:
        return Date(), nullable
    return Text(), nullable


def _fields(cls: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _table(name: str, cls: type[Any]) -> Table:
    cols: list[Column[Any]] = [Column("id", Integer, primary_key=True, autoincrement=True)]
    for field, tp in _fields(cls).items():
        sql_type, nullable = _column_type(tp)
        cols.append(Column(field, sql_type, nullable=nullable))
    return Table(name, _META, *cols)


_SQL: dict[str, Table] = {}
for _kind, (_name, _cls, _attr) in _TABLES.items():
    if _name not in _SQL:
        _SQL[_name] = _table(_name, _cls)


def _to_db(value: Any) -> Any:
    if isinstance(value, tuple):
        return "|".join(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def _from_db(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if typing.get_origin(tp) is tuple:
        return tuple(p for p in str(value).split("|") if p)
    if tp is ChrgitmLv:
        return ChrgitmLv(value)
    if tp is StandardSource:
        return StandardSource(value)
    if tp is Decimal:
        return Decimal(value)
    return value


def default_url() -> str:
    """``sqlite:///$ONESTOP_DATA_DIR/catalog.sqlite`` (``./var`` when the variable is unset)."""
    base = Path(os.environ.get("ONESTOP_DATA_DIR", "var"))
    return f"sqlite:///{base / 'catalog.sqlite'}"


class CatalogStore:
    """Catalog rows in a SQL database."""

    def __init__(self, url: str | None = None) -> None:
        """Open (and create the tables of) the store at ``url`` (default :func:`default_url`)."""
        self.url = url or default_url()
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(self.url)
        _META.create_all(self.engine)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # -------------------------------------------------------------- meta

    def _get_meta(self, conn: Connection, key: str) -> str | None:
        return conn.execute(select(_meta_table.c.value).where(_meta_table.c.key == key)).scalar_one_or_none()

    def _set_meta(self, conn: Connection, key: str, value: str) -> None:
        conn.execute(delete(_meta_table).where(_meta_table.c.key == key))
        conn.execute(insert(_meta_table).values(key=key, value=value))

    @property
    def seeded(self) -> bool:
        """True once the packaged data (or an explicit seed) has been written."""
        with self.engine.connect() as conn:
            return self._get_meta(conn, _SEEDED) is not None

    @property
    def confidential_path(self) -> Path | None:
        """The confidential-standards file registered by ``import --kind confidential``, if any."""
        with self.engine.connect() as conn:
            value = self._get_meta(conn, _CONFIDENTIAL)
        return Path(value) if value else None

    def register_confidential(self, path: Path) -> None:
        """Record where the confidential numbers live (the numbers themselves are not stored)."""
        with self.engine.begin() as conn:
            self._set_meta(conn, _CONFIDENTIAL, str(path.resolve()))

    # -------------------------------------------------------------- rows

    def seed(self, data: CatalogData) -> None:
        """Write every row of ``data`` (except confidential numbers) into an empty store."""
        with self.engine.begin() as conn:
            for table_name, cls, attr in {(t, c, a) for t, c, a in _TABLES.values()}:
                rows = getattr(data, attr)
                if rows:
                    self._insert(conn, _SQL[table_name], cls, rows)
            self._set_meta(conn, _SEEDED, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @staticmethod
    def _insert(conn: Connection, table: Table, cls: type[Any], rows: Sequence[Any]) -> None:
        names = list(_fields(cls))
        conn.execute(insert(table), [{n: _to_db(getattr(r, n)) for n in names} for r in rows])

    def _read(self, conn: Connection, table: Table, cls: type[Any]) -> list[tuple[int, Any]]:
        fields = _fields(cls)
        out = []
        for rec in conn.execute(select(table).order_by(table.c.id)).mappings():
            out.append((rec["id"], cls(**{n: _from_db(tp, rec[n]) for n, tp in fields.items()})))
        return out

    def load(self) -> CatalogData:
        """Every stored row as a :class:`CatalogData` (confidential numbers are never stored)."""
        with self.engine.connect() as conn:
            return self._load(conn)

    def _load(self, conn: Connection) -> CatalogData:
        values: dict[str, tuple[Any, ...]] = {}
        for table_name, cls, attr in {(t, c, a) for t, c, a in _TABLES.values()}:
            values[attr] = tuple(r for _, r in self._read(conn, _SQL[table_name], cls))
        return CatalogData(**values)

    def edition_kinds(self) -> dict[str, str]:
        """Loaded edition id → kind."""
        return {e.edition: e.kind for e in self.load().editions}

    def replace_rows(self, kind: str, rows: Sequence[Any], check: typing.Callable[[CatalogData], object]) -> int:
        """Insert ``rows`` of ``kind`` in one transaction, replacing stored rows with the same key.

        Args:
            kind: An import kind (not ``confidential``).
            rows: Validated rows.
            check: Called with the resulting data before commit; raising rolls everything back.

        Returns:
            How many stored rows were replaced.
        """
        table_name, cls, _attr = _TABLES[kind]
        table = _SQL[table_name]
        key = KINDS[kind].key
        new_keys = {key(r) for r in rows}
        with self.engine.begin() as conn:
            stale = [rid for rid, r in self._read(conn, table, cls) if key(r) in new_keys]
            for i in range(0, len(stale), 500):
                conn.execute(delete(table).where(table.c.id.in_(stale[i : i + 500])))
            if rows:
                self._insert(conn, table, cls, rows)
            check(self._load(conn))
        return len(stale)
