"""Fixtures of the reliability suite's server tests: a database per backend, a fake insurer over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from onestop_directpay.testing import FakeDirectPayServer
from reliability.serve_harness import fresh_pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(name, database URL): an SQLite file in tmp, or a fresh PostgreSQL database for this test."""
    if request.param == "sqlite":
        yield "sqlite", f"sqlite:///{tmp_path / 'gw.db'}"
        return
    url, drop = fresh_pg_database()
    yield "postgres", url
    drop()


@pytest.fixture
def insurer() -> Iterator[FakeDirectPayServer]:
    """A fake direct-pay insurer on 127.0.0.1; its ledger outlives every gateway process."""
    with FakeDirectPayServer() as srv:
        yield srv
