"""A fake clock: sleeps advance time at once, timeouts fire when a sleep crosses the deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["FakeClock"]

T = TypeVar("T")


class FakeClock:
    """A :class:`onestop.sdk.Clock` for tests: no real waiting, every sleep recorded.

    ``sleep(s)`` advances the clock by ``s`` immediately. Inside ``wait_for(aw, timeout)`` a sleep
    that would cross the deadline advances the clock to the deadline and raises ``TimeoutError``
    there — so a fake payer that "hangs" with ``await clock.sleep(60)`` before doing its work never
    does it, exactly as a real call cut off by its timeout. A payer that does its work and *then*
    sleeps past the deadline models an answer lost after the side effect.

    Args:
        start: Initial monotonic time in seconds.
        wall: Initial wall-clock time (epoch seconds) for :meth:`time`.
    """

    def __init__(self, start: float = 0.0, *, wall: float = 1_767_225_600.0) -> None:
        """Start at ``start`` (monotonic) and ``wall`` (epoch seconds, default 2026-01-01 UTC)."""
        self._now = start
        self._wall0 = wall - start
        self._deadlines: list[float] = []
        #: Every sleep asked for, in order (back-off and simulated latency).
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Current fake monotonic time."""
        return self._now

    def time(self) -> float:
        """Current fake wall-clock time."""
        return self._wall0 + self._now

    def advance(self, seconds: float) -> None:
        """Move time forward without sleeping (e.g. to age a timestamp)."""
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        """Advance by ``seconds``; raise ``TimeoutError`` at an enclosing deadline it would cross."""
        self.sleeps.append(seconds)
        target = self._now + seconds
        if self._deadlines and target > min(self._deadlines):
            self._now = min(self._deadlines)
            raise TimeoutError(f"fake deadline reached at t={self._now}")
        self._now = target
        await asyncio.sleep(0)

    async def wait_for(self, aw: Awaitable[T], timeout: float) -> T:
        """Await ``aw``; ``TimeoutError`` when it slept past ``timeout`` (then or on the way)."""
        deadline = self._now + timeout
        self._deadlines.append(deadline)
        try:
            result = await aw
        finally:
            self._deadlines.remove(deadline)
        if self._now > deadline:
            raise TimeoutError(f"fake call finished at t={self._now}, after its deadline {deadline}")
        return result
