"""Personal data at rest: the stored bill is sealed; recovery and export still read it with the key."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from gateway.core.gwcore_helpers import DATA_KEY, HOSPITAL, Crash, bill_doc, fp, make_bill
from sqlalchemy import String, Text, select, update
from structlog.testing import capture_logs

from onestop.errors import ConfigError, OnestopError
from onestop.gateway import Caller, Gateway, GatewayConfig, LegStatus, SettlementStatus
from onestop.gateway.config import data_sealer
from onestop.gateway.store import schema as t
from onestop.gateway.store.sealing import DEV_KEY_FILE, Sealer, new_key, parse_keys
from onestop.testing import FakeInsurer

ME = Caller(HOSPITAL)
Open = Callable[..., Gateway]
DOC = bill_doc("inpatient_car_t_huiminbao.json")
PERSONAL = (DOC["patient"]["name"], DOC["patient"]["cert_no"], DOC["patient"]["psn_no"])


def _text_cells(gw: Gateway) -> list[str]:
    cells: list[str] = []
    with gw.store.read() as conn:
        for table in t.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in conn.execute(select(*cols)):
                cells.extend(str(v) for v in row if v is not None)
    return cells


def test_no_table_holds_the_name_certificate_or_psn_no_in_clear(open_gateway: Open) -> None:
    """After settles, a commercial leg, a reversal and the resolver, no stored cell of any table contains the
    patient's name, certificate number or psn_no; the bill itself is stored sealed."""
    ins = FakeInsurer.variant(name="huiminbao")()
    gw = open_gateway(insurers={"huiminbao": ins})
    bill = make_bill(DOC)
    out = gw.settle(ME, "r-1", bill, fp(bill))
    local = make_bill(bill_doc())
    gw.settle(ME, "r-2", local, fp(local))
    gw.reverse(ME, out.settlement_id, "rev-1")
    cells = _text_cells(gw)
    assert cells
    leaks = [(secret, cell[:60]) for cell in cells for secret in PERSONAL if secret in cell]
    assert leaks == []
    with gw.store.read() as conn:
        stored = conn.execute(select(t.settlements.c.bill_json)).scalars().all()
    assert len(stored) == 2
    assert all(s.startswith("osk1:") for s in stored)


def test_recovery_opens_the_sealed_bill_and_a_wrong_key_is_refused(
    open_gateway: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the payer call leaves a sealed intent: a fresh gateway with the key re-drives it; one
    with another key cannot open the bill and says which key sealed it, changing nothing."""
    ins = FakeInsurer.variant(name="huiminbao")()
    gw = open_gateway(insurers={"huiminbao": ins}, recover_on_open=False)
    bill = make_bill(DOC)

    def crash(name: str) -> None:
        if name == "in_adapter_call":
            raise Crash(name)

    monkeypatch.setattr("onestop.gateway._settle.crash_point", crash)
    with pytest.raises(Crash):
        gw.settle(ME, "r-1", bill, fp(bill))
    monkeypatch.setattr("onestop.gateway._settle.crash_point", lambda name: None)
    wrong = open_gateway(insurers={"huiminbao": ins}, recover_on_open=False, data_key=new_key())
    sid = wrong.list(ME, dt.date(2000, 1, 1), dt.date(2100, 1, 1), 10, "").items[0].settlement_id
    with pytest.raises(OnestopError, match="sealed with data key") as info:
        wrong._recover_one(sid)
    assert info.value.metadata["key_id"] == Sealer.key_id(parse_keys(DATA_KEY)[0])
    assert wrong.get(ME, sid).status is SettlementStatus.PENDING
    fresh = open_gateway(insurers={"huiminbao": ins})  # the right key; recovery on open
    rec = fresh.get(ME, sid)
    assert rec.status is SettlementStatus.SETTLED
    assert next(g for g in rec.legs if g.kind.value == "commercial").status is LegStatus.APPROVED
    assert [c[0] for c in ins.calls].count("settle") == 1


def test_a_sealed_bill_does_not_open_on_another_row_or_altered(open_gateway: Open) -> None:
    """The settlement id is bound into the seal: a bill copied to another row, or altered, does not open."""
    gw = open_gateway()
    a = make_bill(bill_doc())
    b = make_bill(bill_doc(), mdtrt_id="MZ-B")
    sa = gw.settle(ME, "r-a", a, fp(a)).settlement_id
    sb = gw.settle(ME, "r-b", b, fp(b)).settlement_id
    s = t.settlements.c
    with gw.store.write() as conn:
        sealed_a = conn.execute(select(s.bill_json).where(s.settlement_id == sa)).scalar_one()
    assert gw.store.open_bill(sa, sealed_a) == a.model_dump_json()
    with pytest.raises(OnestopError, match="does not open"):
        gw.store.open_bill(sb, sealed_a)
    flipped = sealed_a[:-2] + ("A" if sealed_a[-2] != "A" else "B") + sealed_a[-1]
    with pytest.raises(OnestopError, match="does not open"):
        gw.store.open_bill(sa, flipped)
    with gw.store.write() as conn:
        conn.execute(update(t.settlements).where(s.settlement_id == sb).values(bill_json=b.model_dump_json()))
    assert gw.store.open_bill(sb, b.model_dump_json()) == b.model_dump_json()  # written before sealing


def test_rotated_keys_open_what_older_keys_sealed(open_gateway: Open) -> None:
    """With ``new,old`` configured, new bills are sealed with the new key and old ones still open."""
    gw = open_gateway()
    bill = make_bill(bill_doc())
    sid = gw.settle(ME, "r-1", bill, fp(bill)).settlement_id
    rotated = open_gateway(data_key=f"{new_key()},{DATA_KEY}")
    assert rotated.get(ME, sid).status is SettlementStatus.SETTLED
    with rotated.store.read() as conn:
        stored = conn.execute(select(t.settlements.c.bill_json)).scalar_one()
    assert rotated.store.open_bill(sid, stored) == bill.model_dump_json()
    assert rotated.store.seal_bill(sid, "x").split(":")[1] != stored.split(":")[1]


def test_sqlite_without_a_key_generates_a_private_dev_key_once_and_says_so(
    tmp_path: Path, catalogs: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No data key on SQLite: a key file readable by the owner only is generated beside the database, a
    warning names it on every open, and the next open uses the same key."""
    monkeypatch.delenv("ONESTOP_DATA_KEY", raising=False)
    monkeypatch.delenv("ONESTOP_DATA_DIR", raising=False)
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    with capture_logs() as logs:
        first = Gateway.open(GatewayConfig(database_url=url, catalogs=catalogs, pseudonym_key=b"k"))
    key_file = tmp_path / DEV_KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert any(e["event"] == "gateway.dev_data_key" and e["log_level"] == "warning" for e in logs)
    bill = make_bill(bill_doc())
    sid = first.settle(ME, "r-1", bill, fp(bill)).settlement_id
    first.close()
    key = key_file.read_text()
    with Gateway.open(GatewayConfig(database_url=url, catalogs=catalogs, pseudonym_key=b"k")) as again:
        assert again.get(ME, sid).settlement is not None
        with again.store.read() as conn:
            stored = conn.execute(select(t.settlements.c.bill_json)).scalar_one()
        assert again.store.open_bill(sid, stored) == bill.model_dump_json()
    assert key_file.read_text() == key


def test_a_server_database_without_a_key_or_a_malformed_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL needs ONESTOP_DATA_KEY (or an explicit development dir); a key that is not base64 of 32
    bytes is refused at configuration, naming the field; the environment serves a config built without it."""
    monkeypatch.delenv("ONESTOP_DATA_KEY", raising=False)
    monkeypatch.delenv("ONESTOP_DATA_DIR", raising=False)
    with pytest.raises(ConfigError) as info:
        data_sealer(GatewayConfig(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert info.value.violations[0].field == "ONESTOP_DATA_KEY"
    dev = data_sealer(GatewayConfig(database_url="postgresql+psycopg://x@127.0.0.1:1/none", data_dir=tmp_path))
    assert dev.open(dev.seal("a", context="c"), context="c") == "a"
    with pytest.raises(ConfigError) as bad:
        GatewayConfig(data_key="c2hvcnQ=")
    assert bad.value.violations[0].field == "data_key"
    env = GatewayConfig.from_env({"ONESTOP_DATA_KEY": DATA_KEY, "ONESTOP_DATA_DIR": str(tmp_path)})
    assert env.data_key == DATA_KEY
    assert env.data_dir == tmp_path
    assert DATA_KEY not in repr(env)
    monkeypatch.setenv("ONESTOP_DATA_KEY", DATA_KEY)
    from_env = data_sealer(GatewayConfig(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert Sealer([parse_keys(DATA_KEY)[0]]).open(from_env.seal("b", context="c"), context="c") == "b"
