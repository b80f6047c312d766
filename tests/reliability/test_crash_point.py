"""The crash-point hook: SIGKILL exactly at the named point and hit, a no-op otherwise."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from onestop.testing.faults import CRASH_ENV

_SCRIPT = """
from onestop.testing.faults import crash_point
for i in range(3):
    crash_point("after_commit")
    print("survived", i, flush=True)
"""


def _run(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if value is not None:
        env[CRASH_ENV] = value
    return subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("value", "survived"), [(None, 3), ("before_commit", 3), ("after_commit", 0), ("after_commit:3", 2)]
)
def test_crash_point_kills_at_the_named_hit_only(value, survived):
    """The process dies by SIGKILL at the n-th hit of the named point, and runs on when another point is named."""
    proc = _run(value)
    assert proc.stdout.count("survived") == survived
    assert proc.returncode == (-signal.SIGKILL if survived < 3 else 0)
