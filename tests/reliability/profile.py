"""Profiles of the reliability suite: ``ci`` (default, inside ``make test``) or ``full`` (``make proof``).

``ONESTOP_PROFILE=full`` raises every count to the figures of reliability.md §6; tests that only
make sense at full size carry the ``slow`` marker.
"""

from __future__ import annotations

import os

PROFILE = os.environ.get("ONESTOP_PROFILE", "ci")
FULL = PROFILE == "full"


def size(ci: int, full: int) -> int:
    """The count for the active profile."""
    return full if FULL else ci
