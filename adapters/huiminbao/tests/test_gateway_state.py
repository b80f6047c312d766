"""The adapter over the gateway's database-backed state store, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from onestop_huiminbao import HuiminbaoAdapter, HuiminbaoConfig
from sqlalchemy import create_engine, text

from onestop.domain.codes import ChargeCategory, ChrgitmLv
from onestop.domain.offer import Category
from onestop.gateway.store import SqlStateStore, Store, connect, migrate
from onestop.products import load_design
from onestop.sdk import CancelInput, CancelOutcome, QueryInput, ReconcileInput, SettleInput, StateKey
from onestop.sdk.testing import sample_offer

PG_ADMIN_URL = os.environ.get("ONESTOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PRODUCT = "heilongjiang-upgraded-2025"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this module (dropped at the end); skipped when the server is unreachable."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"onestop_hmb_{uuid.uuid4().hex[:12]}"
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStateStore]:
    """The gateway's state store on a migrated database."""
    url = f"sqlite:///{tmp_path / 'hmb.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = connect(url)
    migrate(engine)
    yield SqlStateStore(Store(engine))
    engine.dispose()


def test_accumulators_register_and_claim_book_live_in_the_gateway_database(state: SqlStateStore) -> None:
    """Register, settle, replay and cancel through the database store: one deductible, undone by negative deltas,
    and a fresh adapter on the same database (a restart, another worker) sees the register, the accumulators
    and the claim book — it finds, cancels and reconciles a leg the first one booked."""
    design = load_design(PRODUCT)
    member = f"m-{uuid.uuid4().hex[:8]}"
    car_t = (("L1", "fixture: CAR-T", ChargeCategory.WESTERN_DRUG, ChrgitmLv.C, False, 10, {Category.CIDL: 5_000_000}),)
    offer = sample_offer("huiminbao", product=PRODUCT, lines=car_t, member_ref=member, reference=f"r-{member}")
    paid_key = StateKey("huiminbao", PRODUCT, member, 2026, "paid:car_t")

    async def body() -> None:
        a = HuiminbaoAdapter(HuiminbaoConfig(), state=state)
        await a.register.register(
            design, member, enrolled_on=dt.date(2026, 1, 1), region="230100", insutype="390", age=30
        )
        first = await a.settle(SettleInput(offer=offer))
        assert first.paid_fen == 3_800_000
        assert await a.settle(SettleInput(offer=offer)) == first
        assert await state.get(paid_key) == 3_800_000
        restarted = HuiminbaoAdapter(HuiminbaoConfig(), state=state)
        assert await restarted.register.facts(design, member) is not None
        other = offer.model_copy(update={"reference": f"r2-{member}"})
        assert (await restarted.settle(SettleInput(offer=other))).paid_fen == 5_000_000  # deductible already borne
        # The claim book is in the database too: the restarted adapter answers for the first leg and
        # cancels it (refunding its deltas), where an in-memory book would answer "nothing to cancel".
        found = await restarted.query(QueryInput(reference=offer.reference, payer="huiminbao"))
        assert found.found
        assert found.paid_fen == 3_800_000
        undone = await restarted.cancel(CancelInput(reference=offer.reference, payer="huiminbao"))
        assert undone.outcome is CancelOutcome.REFUNDED
        assert undone.refunded_fen == 3_800_000
        assert (await a.cancel(CancelInput(reference=offer.reference, payer="huiminbao"))).outcome is (
            CancelOutcome.NOTHING_TO_CANCEL
        )
        assert await state.get(paid_key) == 5_000_000
        assert await state.get(StateKey("huiminbao", PRODUCT, member, 2026, "deductible:car_t")) == 0
        booked = await restarted.claims.get(other.reference)
        assert booked is not None
        day = await restarted.reconcile(ReconcileInput(payer="huiminbao", day=booked.day))
        assert other.reference in day.references
        assert offer.reference not in day.references

    asyncio.run(body())
