"""Pause the cyclic garbage collector while a stage builds its (acyclic) result.

A settlement allocates tens of thousands of small objects (one ``LineResult`` and a few
``Allocation`` per line, the working records behind them). None of them forms a reference cycle, so
reference counting frees every one; the cyclic collector can reclaim nothing here. Left running,
it is triggered every 700 allocations, promotes the half-built result to older generations, and
every few bills walks the whole long-lived heap (the loaded catalogs included): measured, that was
about half of the engine's time on 500- and 2,000-line bills. Pausing it for the duration of a stage
changes no result and no state the caller can see; the collector resumes at the end (only if it was
running before, so a caller that disabled it keeps it disabled).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

__all__ = ["collector_paused"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def collector_paused(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` with the cyclic collector paused (nested calls leave it to the outermost one)."""

    @wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return run
