"""Storage settings, packaged migrations, the adapters' state store and the simulator export."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gateway.core.gwcore_helpers import DATA_KEY, HOSPITAL, bill_doc, fp, make_bill

from onestop.errors import InvalidRequest
from onestop.gateway import Caller, Gateway, GatewayConfig
from onestop.gateway.export import CLAIM_COLUMNS, LINE_COLUMNS, export
from onestop.gateway.store import HEAD, connect, migrate, sqlite_pragmas
from onestop.gateway.store.checkpoint import AUTOCHECKPOINT_PAGES
from onestop.sdk import StateDelta, StateKey

Open = Callable[..., Gateway]
DAY = dt.date(2026, 4, 10)


def test_sqlite_runs_wal_with_full_sync(tmp_path: Path) -> None:
    """Production SQLite opens in WAL with synchronous=FULL and a busy timeout (NORMAL may lose commits)."""
    engine = connect(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    p = sqlite_pragmas(engine)
    assert p["journal_mode"] == "wal"
    assert p["synchronous"] == 2
    assert p["busy_timeout"] > 0
    assert p["wal_autocheckpoint"] == AUTOCHECKPOINT_PAGES  # a safety valve: the checkpointer does the work
    engine.dispose()


def test_the_log_is_checkpointed_beside_the_requests_and_starts_over(tmp_path: Path) -> None:
    """With a gateway open, the write-ahead log is folded back by the checkpointer thread, not by a cashier's
    commit: after 300 settles it is wholly checkpointed and short (writers started it over), far below the
    valve; closing the gateway stops the thread."""
    import sqlite3
    import threading

    db = tmp_path / "ck.db"
    gw = Gateway.open(
        GatewayConfig(database_url=f"sqlite:///{db}", pseudonym_key=b"k", data_key=DATA_KEY, recover_on_open=False)
    )
    try:
        doc = bill_doc()
        for k in range(300):
            bill = make_bill(doc, mdtrt_id=f"CK-{k}")
            gw.settle(Caller(HOSPITAL), f"ck-{k}", bill, fp(bill))
        time.sleep(0.6)  # two checkpointer ticks
        busy, log, done = sqlite3.connect(db).execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert (busy, log) == (0, done)
        assert log < AUTOCHECKPOINT_PAGES // 4
    finally:
        gw.close()
    assert not any(t.name == "onestop-checkpoint" and t.is_alive() for t in threading.enumerate())


def test_migrations_run_from_the_package_and_are_idempotent(db_url: str) -> None:
    """The schema comes from the packaged migrations (no alembic.ini); running them twice changes nothing."""
    engine = connect(db_url)
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD
    engine.dispose()


def test_adapter_state_applies_once_per_reference(open_gateway: Open) -> None:
    """The StateStore applies a reference's deltas once; a replay changes nothing; negation undoes it."""
    gw = open_gateway()
    key = StateKey("hmb", "P1", "m1", 2026, "paid")

    async def run() -> tuple[bool, bool, int, int]:
        a = await gw.state_store.apply("ref-1", [StateDelta(key, 500)])
        b = await gw.state_store.apply("ref-1", [StateDelta(key, 500)])
        v = await gw.state_store.get(key)
        await gw.state_store.apply("ref-1:cancel", [StateDelta(key, -500)])
        return a, b, v, await gw.state_store.get(key)

    assert asyncio.run(run()) == (True, False, 500, 0)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _settle_some(gw: Gateway) -> list[str]:
    ids = []
    for k, name in enumerate(("outpatient_b_class.json", "inpatient_car_t_huiminbao.json", "maternity.json")):
        bill = make_bill(bill_doc(name), mdtrt_id=f"EXP-{k}")
        ids.append(gw.settle(Caller(HOSPITAL), f"e-{k}", bill, fp(bill)).settlement_id)
    return ids


def test_export_csv_is_pseudonymous_and_complete(open_gateway: Open, db_url: str, tmp_path: Path) -> None:
    """Claims and lines of settled bills are exported; no psn_no, certificate or name appears anywhere."""
    gw = open_gateway(today=lambda: DAY)
    ids = _settle_some(gw)
    gw.reverse(Caller(HOSPITAL), ids[2], "rev")  # reversed: not exported
    paths = export(
        GatewayConfig(database_url=db_url, pseudonym_key=b"secret", data_key=DATA_KEY), DAY, DAY, tmp_path / "x.csv"
    )
    members, claims, lines = (_read(p) for p in paths)
    assert sorted(c["settlement_id"] for c in claims) == sorted(ids[:2])
    assert tuple(claims[0]) == CLAIM_COLUMNS
    assert tuple(lines[0]) == LINE_COLUMNS
    psn = {bill_doc(n)["patient"]["psn_no"] for n in ("outpatient_b_class.json", "inpatient_car_t_huiminbao.json")}
    assert len(members) == len(psn)
    text = "".join(p.read_text(encoding="utf-8") for p in paths)
    for doc in (bill_doc("outpatient_b_class.json"), bill_doc("inpatient_car_t_huiminbao.json")):
        for secret in (doc["patient"]["psn_no"], doc["patient"]["cert_no"], doc["patient"]["name"]):
            assert secret not in text
    for c in claims:
        line_sum = sum(int(ln["amount_fen"]) for ln in lines if ln["settlement_id"] == c["settlement_id"])
        assert line_sum == int(c["medfee_sumamt_fen"])
    # Every diagnosis travels (principal first), so a product's pre-existing rule sees the secondary ones too.
    by_sid = {c["settlement_id"]: c for c in claims}
    for k, name in enumerate(("outpatient_b_class.json", "inpatient_car_t_huiminbao.json")):
        codes = [d["code"] for d in bill_doc(name)["visit"]["diagnoses"]]
        assert by_sid[ids[k]]["diagnoses"].split(";") == codes
        assert by_sid[ids[k]]["principal_diagnosis"] == codes[0]


def test_export_withholds_prices_of_confidential_standards(open_gateway: Open, db_url: str, tmp_path: Path) -> None:
    """A line priced against a confidential standard carries no quantity or unit price in the export."""
    gw = open_gateway(today=lambda: DAY)
    _settle_some(gw)
    paths = export(
        GatewayConfig(database_url=db_url, pseudonym_key=b"secret", data_key=DATA_KEY), DAY, DAY, tmp_path / "x.csv"
    )
    lines = _read(paths[2])
    conf = [ln for ln in lines if ln["standard_confidential"] == "True"]
    assert all(ln["quantity"] == "" and ln["unit_price_fen"] == "" for ln in conf)
    assert any(ln["unit_price_fen"] for ln in lines if ln["standard_confidential"] == "False")


def test_export_parquet_and_bad_arguments(open_gateway: Open, db_url: str, tmp_path: Path) -> None:
    """Parquet holds the same claims; a bad extension or range writes nothing."""
    pl = pytest.importorskip("polars")
    gw = open_gateway(today=lambda: DAY)
    _settle_some(gw)
    cfg = GatewayConfig(database_url=db_url, pseudonym_key=b"secret", data_key=DATA_KEY)
    out = tmp_path / "out"
    out.mkdir()
    paths = export(cfg, DAY, DAY, out / "x.parquet")
    assert pl.read_parquet(paths[1]).height == 3
    with pytest.raises(InvalidRequest):
        export(cfg, DAY, DAY, out / "y.json")
    with pytest.raises(InvalidRequest):
        export(cfg, DAY, DAY - dt.timedelta(days=1), out / "z.csv")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)


def test_the_export_replays_in_the_simulator_line_by_line(open_gateway: Open, db_url: str, tmp_path: Path) -> None:
    """Each exported line carries what it left after the funds by category, summing to its claim's remaining
    columns, so the simulator reads the export line by line (no residual line) and both modes agree on it."""
    pytest.importorskip("polars")
    from onestop.products import load_design
    from onestop.simulator import read_population, run_exact, run_fast

    gw = open_gateway(today=lambda: DAY)
    _settle_some(gw)
    paths = export(
        GatewayConfig(database_url=db_url, pseudonym_key=b"secret", data_key=DATA_KEY), DAY, DAY, tmp_path / "x.csv"
    )
    _members, claims, lines = (_read(p) for p in paths)
    remaining = [c for c in CLAIM_COLUMNS if c.startswith("remaining_")]
    for c in claims:
        mine = [ln for ln in lines if ln["settlement_id"] == c["settlement_id"]]
        for col in remaining:
            assert sum(int(ln[col]) for ln in mine) == int(c[col]), (c["settlement_id"], col)
        for ln in mine:
            left = sum(int(ln[col]) for col in remaining)
            assert left + int(ln["fund_fen"]) <= int(ln["amount_fen"])
    pop = read_population(paths[1], paths[0], paths[2])
    assert "~rest" not in pop.cells.get_column("line_sn").to_list()
    design = load_design("heilongjiang-upgraded-2025")
    design = design.model_copy(
        update={"eligibility": design.eligibility.model_copy(update={"insured_regions": ("220000",)})}
    )
    exact, fast = run_exact(pop, design), run_fast(pop, design)
    assert int(exact.paid.sum()) == int(fast.paid.sum()) > 0
