"""Time as a dependency: the SDK sleeps, times out and stamps through a :class:`Clock`.

Production uses :data:`SYSTEM_CLOCK`; tests use ``onestop.testing.FakeClock`` so retry back-off and
timeouts are exercised without real sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Protocol, TypeVar

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]

T = TypeVar("T")


class Clock(Protocol):
    """What the SDK needs of time."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock (latency, deadlines)."""
        ...

    def time(self) -> float:
        """Wall-clock seconds since the epoch (request timestamps, signatures)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (retry back-off)."""
        ...

    async def wait_for(self, aw: Awaitable[T], timeout: float) -> T:
        """Await ``aw``; raise ``TimeoutError`` when it takes longer than ``timeout`` seconds."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic``, ``time.time``, ``asyncio.sleep``, ``asyncio.wait_for``."""

    __slots__ = ()

    def monotonic(self) -> float:
        """See :meth:`Clock.monotonic`."""
        return time.monotonic()

    def time(self) -> float:
        """See :meth:`Clock.time`."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """See :meth:`Clock.sleep`."""
        await asyncio.sleep(seconds)

    async def wait_for(self, aw: Awaitable[T], timeout: float) -> T:
        """See :meth:`Clock.wait_for`."""
        return await asyncio.wait_for(aw, timeout)


#: The clock used when none is given.
SYSTEM_CLOCK: Clock = SystemClock()
