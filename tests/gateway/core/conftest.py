"""Fixtures of the gateway core tests: every storage test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway.core.gwcore_helpers import DATA_KEY
from sqlalchemy import create_engine, text

from onestop.catalog import default_catalogs
from onestop.gateway import Gateway, GatewayConfig

PG_ADMIN_URL = os.environ.get("ONESTOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def catalogs() -> Any:
    """The packaged catalogs, loaded once."""
    return default_catalogs()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped at the end)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"onestop_gw_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server: the PostgreSQL half is skipped, loudly
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}); set ONESTOP_TEST_PG_URL")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_PG_TABLES = (
    "resolver_queue, adapter_calls, reversals, adapter_state_ops, adapter_state, accumulator_journal, "
    "accumulators, idempotency_keys, lines, legs, settlements"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: an SQLite file in tmp, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gw.db'}"
    url: str = request.getfixturevalue("pg_server")
    eng = create_engine(url)
    with eng.connect() as conn:
        exists = conn.execute(text("SELECT to_regclass('settlements')")).scalar()
        if exists:
            conn.execute(text(f"TRUNCATE {_PG_TABLES}"))
            conn.commit()
    eng.dispose()
    return url


@pytest.fixture
def open_gateway(db_url: str, catalogs: Any) -> Iterator[Callable[..., Gateway]]:
    """Open gateways on the test database (closed at teardown)."""
    opened: list[Gateway] = []

    def _open(**kw: Any) -> Gateway:
        kw.setdefault("pseudonym_key", b"test-key")
        kw.setdefault("data_key", DATA_KEY)
        gw = Gateway.open(GatewayConfig(database_url=db_url, catalogs=catalogs, **kw))
        opened.append(gw)
        return gw

    yield _open
    for gw in opened:
        gw.close()
