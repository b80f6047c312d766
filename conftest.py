"""Rules for every test run (``tests/`` and the adapters' own tests).

Storage tests run on SQLite and on a real PostgreSQL. Without a reachable server they skip with the
reason — on a developer's machine. In CI (``CI`` set, as ``.ci/run`` does) such a skip is a failure:
CI must prove the PostgreSQL half, not pass without it.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

_PG_SKIP = "PostgreSQL not reachable"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    """Fail, in CI, a test skipped because PostgreSQL was unreachable."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") and _PG_SKIP in str(report.longrepr):
        report.outcome = "failed"
        report.longrepr = (
            f"{report.longrepr}\nCI must run the PostgreSQL tests: start PostgreSQL or set ONESTOP_TEST_PG_URL"
        )
