"""Stop the shared fake work-injury centre at the end of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from onestop_workinjury.testing import stop_shared_centre


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_wi_centre() -> Iterator[None]:
    yield
    stop_shared_centre()
