"""Stop the shared fake direct-pay server at the end of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from onestop_directpay.testing import stop_shared_server


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_server() -> Iterator[None]:
    yield
    stop_shared_server()
