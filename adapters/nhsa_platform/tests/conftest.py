"""Stop the shared fake platform at the end of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from onestop_nhsa_platform.testing import stop_shared_centre


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_centre() -> Iterator[None]:
    yield
    stop_shared_centre()
