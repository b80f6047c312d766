"""Opening the database: SQLite (WAL, synchronous=FULL, busy timeout) or PostgreSQL, then migrations.

SQLite writes start with ``BEGIN IMMEDIATE`` (the write lock is taken up front, so two writers
never deadlock upgrading a read lock); reads start a plain deferred transaction. PostgreSQL runs at
READ COMMITTED; the idempotency row's primary key is the lock that serialises duplicate requests.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text

from onestop.gateway.store.checkpoint import AUTOCHECKPOINT_PAGES

__all__ = ["HEAD", "connect", "migrate", "sqlite_pragmas"]

#: The newest migration revision this code expects.
HEAD = "0003"
#: Milliseconds a SQLite writer waits for the lock before giving up.
BUSY_TIMEOUT_MS = 30_000
#: Advisory-lock id that serialises concurrent migrations on PostgreSQL.
_PG_MIGRATION_LOCK = 0x0E5707


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own would be deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Checkpoints run in a background thread (see checkpoint.py); this is only the safety valve.
        cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


def connect(url: str) -> Engine:
    """An engine for ``url`` with the gateway's durability settings.

    Args:
        url: ``sqlite:///path`` or ``postgresql+psycopg://…``.
    """
    if url.startswith("sqlite"):
        # One connection per thread, reused; the file is the database.
        # The pool outnumbers the request threads (16 by default) plus the checkpointer's connection.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            pool_size=20,
            max_overflow=20,
        )
        _sqlite_setup(engine)
        return engine
    if url.startswith("postgresql") and "+psycopg" not in url.split("://", 1)[0]:
        url = url.replace("postgresql", "postgresql+psycopg", 1)
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def sqlite_pragmas(engine: Engine) -> dict[str, Any]:
    """The durability PRAGMAs a SQLite connection of ``engine`` runs with (for checks and tests)."""
    with engine.connect() as conn:
        return {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "wal_autocheckpoint")
        }


def migrate(engine: Engine) -> None:
    """Bring the schema to :data:`HEAD` with the packaged Alembic migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(files("onestop.gateway") / "migrations"))
    with engine.connect().execution_options(write=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
