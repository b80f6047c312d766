"""The CAR-T example through the gateway with the 惠民保 adapter plugged in by its state-store factory."""

from __future__ import annotations

import hashlib
from pathlib import Path

from onestop_huiminbao import HuiminbaoAdapter, HuiminbaoConfig

from onestop.catalog import default_catalogs
from onestop.domain import parse_bill_json
from onestop.gateway import Caller, Gateway, GatewayConfig, LegStatus
from onestop.sdk import StateKey, StateStore

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "bills" / "inpatient_car_t_huiminbao.json"
DATA_KEY = "dGVzdC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE="


def _factory(store: StateStore) -> HuiminbaoAdapter:
    return HuiminbaoAdapter(HuiminbaoConfig(register_required=False), state=store)


def test_gateway_settles_car_t_and_reversal_returns_the_sum_insured(tmp_path: Path) -> None:
    """The gateway pays the CAR-T leg under the upgraded plan (100万 cap) and its reversal gives the room back."""
    bill = parse_bill_json(EXAMPLE.read_bytes())
    gw = Gateway.open(
        GatewayConfig(
            database_url=f"sqlite:///{tmp_path / 'gw.db'}",
            catalogs=default_catalogs(),
            insurer_factories={"huiminbao": _factory},
            pseudonym_key=b"test-key",
            data_key=DATA_KEY,
        )
    )
    try:
        me = Caller(bill.hospital.code)
        out = gw.settle(me, "r-1", bill, hashlib.sha256(bill.model_dump_json().encode()).digest())
        leg = next(g for g in out.legs if g.kind.value == "commercial")
        assert (leg.status, leg.paid_fen) == (LegStatus.PARTIAL, 100_000_000)
        assert out.settlement.totals.commercial_fen == 100_000_000
        keys = [k for k in _state_keys(gw) if k.key == "paid:car_t"]
        assert [gw.state_store.get_sync(k) for k in keys] == [100_000_000]
        gw.reverse(me, out.settlement_id, "rev-1")
        assert [gw.state_store.get_sync(k) for k in keys] == [0]
    finally:
        gw.close()


def _state_keys(gw: Gateway) -> list[StateKey]:
    from sqlalchemy import select

    from onestop.gateway.store import schema as t

    with gw.store.read() as conn:
        rows = conn.execute(select(t.adapter_state)).mappings().all()
    return [StateKey(r["adapter"], r["product"], r["member"], int(r["year"]), r["state_key"]) for r in rows]
