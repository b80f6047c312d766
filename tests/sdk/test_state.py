"""State for stateful adapters: deltas under a reference, applied once; reversal by negation."""

from __future__ import annotations

import asyncio

import pytest

from onestop.sdk import StateDelta, StateKey, negate
from onestop.testing import FakeClock, InMemoryStateStore

K = StateKey("hmb", "hlj-basic", "m1", 2026, "deductible_used")


def test_apply_is_idempotent_by_reference() -> None:
    """The same reference applied twice changes the counters once."""

    async def body() -> None:
        store = InMemoryStateStore()
        assert await store.apply("ref-1", [StateDelta(K, 500)]) is True
        assert await store.apply("ref-1", [StateDelta(K, 500)]) is False
        assert await store.get(K) == 500

    asyncio.run(body())


def test_reversal_is_negative_deltas_in_the_journal() -> None:
    """Undoing applies the negated deltas; the journal sums to the counters, which return to zero."""

    async def body() -> None:
        store = InMemoryStateStore()
        other = StateKey("hmb", "hlj-basic", "m1", 2026, "paid:in_catalog")
        deltas = [StateDelta(K, 1200), StateDelta(other, 3400)]
        await store.apply("ref-1", deltas)
        await store.apply("ref-2", [StateDelta(K, 100)])
        await store.apply("ref-1:cancel", negate(deltas))
        assert [d.delta for _r, d in store.journal] == [1200, 3400, 100, -1200, -3400]
        assert store.values == store.replayed_values() == {K: 100, other: 0}

    asyncio.run(body())


def test_state_delta_refuses_non_integers() -> None:
    """A delta is an integer (fen or count), never a float or bool."""
    with pytest.raises(TypeError):
        StateDelta(K, 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        StateDelta(K, True)


def test_fake_clock_times_out_at_the_deadline_without_waiting() -> None:
    """A fake sleep crossing a wait_for deadline raises TimeoutError at the deadline; plain sleeps advance time."""

    async def body() -> None:
        clock = FakeClock()
        await clock.sleep(5)
        assert clock.monotonic() == 5

        async def slow() -> str:
            await clock.sleep(100)
            return "late"

        with pytest.raises(TimeoutError):
            await clock.wait_for(slow(), 10)
        assert clock.monotonic() == 15
        assert clock.sleeps == [5, 100]

    asyncio.run(body())
