"""The gateway's storage: SQLite (embedded, default) or PostgreSQL, schema by Alembic migrations."""

from onestop.gateway.store.db import HEAD, connect, migrate, sqlite_pragmas
from onestop.gateway.store.repo import KeyRow, Store, utcnow
from onestop.gateway.store.state import SqlStateStore

__all__ = ["HEAD", "KeyRow", "SqlStateStore", "Store", "connect", "migrate", "sqlite_pragmas", "utcnow"]
