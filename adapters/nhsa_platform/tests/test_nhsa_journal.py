"""The channel's journal kept in the host's StateStore: a restarted channel still reverses by the original msgid."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onestop_nhsa_platform import (
    InMemoryJournal,
    JournalConflict,
    JournalEntry,
    NhsaPlatformChannel,
    StateJournal,
)
from onestop_nhsa_platform.testing import fresh_config, outpatient_bill, shared_centre
from sqlalchemy import create_engine, text

from onestop.domain.offer import AnswerStatus
from onestop.errors import PayerTimeout
from onestop.gateway.store import SqlStateStore, Store, connect, migrate
from onestop.sdk import (
    ChannelCaller,
    ChannelCancelInput,
    ChannelFlow,
    ChannelReconcileInput,
    ChannelSettleInput,
    ReversalInput,
    ReversalOutcome,
    StateStore,
)
from onestop.testing import FakeClock, InMemoryStateStore, NhsaFault

PG_ADMIN_URL = os.environ.get("ONESTOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def ref() -> str:
    return f"jr-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this module (dropped at the end); skipped when the server is unreachable."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"onestop_nhsa_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}); set ONESTOP_TEST_PG_URL")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _sql_store(url: str) -> Iterator[SqlStateStore]:
    engine = connect(url)
    migrate(engine)
    if engine.dialect.name == "postgresql":  # one database per module: each test starts with no adapter state
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE adapter_state_ops, adapter_state"))
    yield SqlStateStore(Store(engine))
    engine.dispose()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """A host state store: the test double, the gateway's on SQLite, the gateway's on PostgreSQL."""
    if request.param == "memory":
        yield InMemoryStateStore()
        return
    url = f"sqlite:///{tmp_path / 'nhsa.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    yield from _sql_store(url)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStateStore]:
    """The gateway's state store on an SQLite file."""
    yield from _sql_store(f"sqlite:///{tmp_path / 'race.db'}")


def test_restarted_channel_reverses_a_lost_2207_by_its_original_msgid(store: StateStore) -> None:
    """A 2207 booked whose answer was lost, then the process restarts: the new channel, sharing only the store,
    reverses it by 2601 with the original msgid, and no second 2207 is ever sent (not even on a replay)."""
    centre = shared_centre()
    bill = outpatient_bill()
    cfg = fresh_config(bill)
    r = ref()

    async def main() -> None:
        first = NhsaPlatformChannel(cfg, state=store)
        centre.fault("2207", NhsaFault(drop=True, after=True))
        try:
            with pytest.raises(PayerTimeout):
                await first.settle(ChannelSettleInput(reference=r, bill=bill))
        finally:
            await first.aclose()  # the process dies here: nothing but the store survives
        (booked,) = centre.standing()
        omsgid = next(m for i, m in centre.ledger.messages if i == "2207")

        second = NhsaPlatformChannel(cfg, state=store)
        try:
            caller = ChannelCaller(second, clock=FakeClock())
            rev = await caller.call(
                ChannelFlow.REVERSAL,
                ReversalInput(reference=ref(), original_reference=r, original_flow=ChannelFlow.SETTLE),
            )
            assert rev.outcome is ReversalOutcome.REVERSED
            assert centre.ledger.settlements[booked].msgid == omsgid
            assert centre.ledger.settlements[booked].undone_by == "2601"
            again = await caller.settle(ChannelSettleInput(reference=r, bill=bill), reversal_reference=ref())
            assert again.status is AnswerStatus.DECLINED
        finally:
            await second.aclose()
        assert centre.count("2207") == 1
        assert centre.count("2601") == 1
        assert centre.standing() == []
        assert centre.balance(bill.patient.psn_no) == int(bill.patient.account_balance_fen)

    asyncio.run(main())


def test_restarted_channel_reads_a_booked_settle_back_instead_of_resending(store: StateStore) -> None:
    """A replay after a restart of a settle whose answer was lost finds the booking by 5203 (same setl_id)."""
    centre = shared_centre()
    bill = outpatient_bill()
    cfg = fresh_config(bill)
    r = ref()

    async def main() -> None:
        first = NhsaPlatformChannel(cfg, state=store)
        centre.fault("2207", NhsaFault(drop=True, after=True))
        try:
            with pytest.raises(PayerTimeout):
                await first.settle(ChannelSettleInput(reference=r, bill=bill))
        finally:
            await first.aclose()
        second = NhsaPlatformChannel(cfg, state=store)
        try:
            res = await ChannelCaller(second, clock=FakeClock()).settle(
                ChannelSettleInput(reference=r, bill=bill), reversal_reference=ref()
            )
        finally:
            await second.aclose()
        assert res.status is AnswerStatus.APPROVED
        assert [res.setl_id] == centre.standing()
        assert centre.count("2207") == 1

    asyncio.run(main())


def test_day_totals_survive_a_restart_and_follow_cancel(store: StateStore) -> None:
    """3201 after a restart sends the day's totals kept in the store: two settled, one cancelled → one agreed."""
    centre = shared_centre()
    a = outpatient_bill(visit_no="MZ-JOURNAL-A", psn_no="JOURNAL-PSN-A")
    b = outpatient_bill(visit_no="MZ-JOURNAL-B", psn_no="JOURNAL-PSN-B")
    cfg = fresh_config(a, b)
    ra, rb = ref(), ref()

    async def main() -> None:
        first = NhsaPlatformChannel(cfg, state=store)
        try:
            c = ChannelCaller(first, clock=FakeClock())
            sa = await c.settle(ChannelSettleInput(reference=ra, bill=a), reversal_reference=ref())
            sb = await c.settle(ChannelSettleInput(reference=rb, bill=b), reversal_reference=ref())
            assert (sa.status, sb.status) == (AnswerStatus.APPROVED, AnswerStatus.APPROVED)
        finally:
            await first.aclose()
        second = NhsaPlatformChannel(cfg, state=store)
        try:
            c = ChannelCaller(second, clock=FakeClock())
            can = await c.call(ChannelFlow.CANCEL, ChannelCancelInput(reference=ref(), original_reference=ra))
            assert can.outcome == "cancelled"
            today = dt.date.today()
            rec = await c.call(ChannelFlow.RECONCILE, ChannelReconcileInput(reference=ref(), day=today))
        finally:
            await second.aclose()
        assert sb.leg is not None
        assert (rec.count, rec.medfee_sumamt, rec.fund_pay_sumamt, rec.agreed) == (
            1,
            sb.leg.medfee_sumamt,
            sb.leg.fund_pay_sumamt,
            True,
        )
        assert centre.standing() == [sb.setl_id]

    asyncio.run(main())


_text = st.text(alphabet=st.sampled_from("0123456789ABCXYZ参保地-"), max_size=40)
_entries = st.builds(
    JournalEntry,
    psn_no=_text,
    insuplc_admdvs=_text,
    mdtrt_id=_text,
    insutype=st.sampled_from(["", "310", "390"]),
    settle_infno=st.sampled_from(["", "2207", "2304"]),
    settle_msgid=_text,
    setl_id=st.sampled_from(["", "SETL1", "SETL2"]),
    day=st.sampled_from([None, dt.date(2026, 3, 2), dt.date(2026, 3, 3)]),
    medfee_fen=st.integers(0, 10**9),
    fund_fen=st.integers(0, 10**9),
    acct_fen=st.integers(0, 10**9),
    undone=st.booleans(),
)
_REFS = ["r1", "r2", "x" * 80]


@settings(max_examples=60, deadline=None)
@given(puts=st.lists(st.tuples(st.sampled_from(_REFS), _entries), min_size=1, max_size=8))
def test_state_journal_reads_back_what_was_put_and_keeps_the_in_memory_totals(
    puts: list[tuple[str, JournalEntry]],
) -> None:
    """Any sequence of puts reads back the last entry per reference (text, dates, flags, a reference longer
    than the store's column), and the day totals equal those the in-memory journal sums from its entries."""

    async def main() -> None:
        kept = StateJournal(InMemoryStateStore(), scope="nhsa-platform:H0")
        plain = InMemoryJournal()
        for reference, entry in puts:
            await kept.put(reference, entry)
            await plain.put(reference, entry)
        for reference in _REFS:
            assert await kept.get(reference) == await plain.get(reference)
        for day in (dt.date(2026, 3, 2), dt.date(2026, 3, 3)):
            for insutype in ("", "310", "390"):
                assert await kept.totals(day, insutype) == await plain.totals(day, insutype)

    asyncio.run(main())


def test_an_unchanged_put_applies_nothing_and_each_change_is_one_apply() -> None:
    """A put that changes nothing writes nothing; each change is a single atomic apply with its version."""
    store = InMemoryStateStore()
    j = StateJournal(store, scope="nhsa-platform:H0")
    entry = JournalEntry(psn_no="P1", insuplc_admdvs="220100", settle_infno="2207", settle_msgid="M1")

    async def main() -> None:
        await j.put("r", entry)
        await j.put("r", entry)
        await j.put("r", JournalEntry(psn_no="P1", insuplc_admdvs="220100", settle_infno="2207", settle_msgid="M1"))
        assert len({reference for reference, _d in store.journal}) == 1
        await j.put("r", JournalEntry(psn_no="P1", insuplc_admdvs="220100", undone=True))
        assert len({reference for reference, _d in store.journal}) == 2
        assert await j.get("r") == JournalEntry(psn_no="P1", insuplc_admdvs="220100", undone=True)
        assert store.values == store.replayed_values()

    asyncio.run(main())


def test_concurrent_writers_never_mix_two_entries(sqlite_store: SqlStateStore) -> None:
    """Two writers racing on one reference through the database: the stored entry is one of theirs, whole."""
    j = StateJournal(sqlite_store, scope="nhsa-platform:H0")
    a = JournalEntry(psn_no="PSN-A", insuplc_admdvs="220100", settle_infno="2207", settle_msgid="MSG-AAAAAAAAAAAA")
    b = JournalEntry(psn_no="PSN-BB", insuplc_admdvs="330100", mdtrt_id="V-B", setl_id="S-B", day=dt.date(2026, 3, 2))

    async def main() -> None:
        for i in range(10):
            await asyncio.gather(j.put(f"race-{i}", a), j.put(f"race-{i}", b))
            assert await j.get(f"race-{i}") in (a, b)

    asyncio.run(main())


class _AlwaysTaken:
    """A store on which every apply finds its reference already applied (another writer always wins)."""

    def __init__(self) -> None:
        self.inner = InMemoryStateStore()

    async def get(self, key: Any) -> int:
        return await self.inner.get(key)

    async def apply(self, reference: str, deltas: Any) -> bool:
        return False


def test_a_write_that_keeps_losing_the_race_is_refused_not_forced() -> None:
    """When every attempt loses to another writer the put raises JournalConflict instead of overwriting blindly."""
    j = StateJournal(_AlwaysTaken(), scope="nhsa-platform:H0")
    with pytest.raises(JournalConflict):
        asyncio.run(j.put("r", JournalEntry(psn_no="P", insuplc_admdvs="220100")))


def test_entry_fields_have_limits_the_store_can_keep() -> None:
    """A text field over 256 bytes and a scope too long for the store's column are refused before any write."""
    store = InMemoryStateStore()
    with pytest.raises(ValueError, match="psn_no"):
        asyncio.run(StateJournal(store, scope="s").put("r", JournalEntry(psn_no="x" * 257, insuplc_admdvs="")))
    assert store.journal == []
    with pytest.raises(ValueError, match="scope"):
        StateJournal(store, scope="s" * 49)
