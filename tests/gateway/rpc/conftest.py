"""Fixtures of the gateway RPC tests: a real gRPC server on a real port over a real database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from gateway.rpc.gwrpc_helpers import HOSPITAL_A, HOSPITAL_B, TOKEN_A, TOKEN_B, Stubs
from sqlalchemy import create_engine, text

from onestop.catalog import default_catalogs
from onestop.gateway import Gateway
from onestop.gateway.auth import hash_token
from onestop.gateway.server import RunningServer, gateway_config, start_server
from onestop.gateway.settings import InsurerSpec, ServeSettings

PG_ADMIN_URL = os.environ.get("ONESTOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def catalogs() -> Any:
    """The packaged catalogs, loaded once."""
    return default_catalogs()


@pytest.fixture(scope="session")
def rpc_pg_server() -> Iterator[str]:
    """A fresh PostgreSQL database for this session's RPC tests (dropped at the end)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"onestop_rpc_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server: the PostgreSQL half is skipped, loudly
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}); set ONESTOP_TEST_PG_URL")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def rpc_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: an SQLite file in tmp, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gw.db'}"
    url: str = request.getfixturevalue("rpc_pg_server")
    eng = create_engine(url)
    with eng.connect() as conn:
        tables = [r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        tables = [t for t in tables if t != "alembic_version"]
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)))
            conn.commit()
    eng.dispose()
    return url


@pytest.fixture
def start(catalogs: Any, tmp_path: Path) -> Iterator[Callable[..., tuple[RunningServer, Stubs]]]:
    """Start servers: ``start(db_url, **settings)`` → (running server, stubs on an insecure channel)."""
    running: list[tuple[RunningServer, grpc.Channel]] = []

    def _start(db_url: str | None = None, **settings: Any) -> tuple[RunningServer, Stubs]:
        values: dict[str, Any] = {
            "port": 0,
            "database_url": db_url or f"sqlite:///{tmp_path / f'gw-{len(running)}.db'}",
            "tokens": {hash_token(TOKEN_A): HOSPITAL_A, hash_token(TOKEN_B): HOSPITAL_B},
            "data_dir": str(tmp_path),
            "insurers": {"huiminbao": InsurerSpec(adapter="example", config={"pay_ratio": "0.8"})},
        }
        values.update(settings)
        s = ServeSettings(**values)
        gw = Gateway.open(gateway_config(s, catalogs=catalogs, pseudonym_key=b"rpc-test-key"))
        server = start_server(s, gw)
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        running.append((server, channel))
        return server, Stubs(channel)

    yield _start
    for server, channel in running:
        channel.close()
        server.stop(None)
