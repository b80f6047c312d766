"""The gateway settling its basic leg through the nhsa-platform channel and a running fake platform."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from onestop_nhsa_platform import NhsaPlatformChannel
from onestop_nhsa_platform._wire import basic_leg
from onestop_nhsa_platform.testing import fresh_config, inpatient_bill, shared_centre

from onestop.catalog import default_catalogs
from onestop.domain.bill import Bill
from onestop.domain.settlement import BasicLeg
from onestop.engine import finalize, settle_funds
from onestop.gateway import Caller, Gateway, GatewayConfig, SettlementStatus
from onestop.gateway.store import SqlStateStore, Store, connect, migrate
from onestop.money import format_yuan
from onestop.policy import policy_for
from onestop.testing import FakeNhsaCentre

#: base64 of 32 bytes: the key the test gateway seals personal data with.
_DATA_KEY = "bmhzYS1nYXRld2F5LXRlc3Qta2V5LTAxMjM0NTY3ODk="


@pytest.fixture(scope="module")
def catalogs() -> Any:
    """The packaged catalogs, loaded once."""
    return default_catalogs()


@pytest.fixture
def gateway(tmp_path: Path, catalogs: Any) -> Iterator[tuple[Gateway, FakeNhsaCentre, Bill]]:
    """A gateway on SQLite whose basic leg goes to nhsa-platform, journaling in the gateway's database."""
    centre = shared_centre()
    bill = inpatient_bill(visit_no="ZY-GATEWAY-0001", psn_no="GATEWAY-PSN-0001")
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    engine = connect(url)
    migrate(engine)
    channel = NhsaPlatformChannel(fresh_config(bill, timeout_s=5.0), state=SqlStateStore(Store(engine)))
    gw = Gateway.open(
        GatewayConfig(
            database_url=url,
            catalogs=catalogs,
            pseudonym_key=b"nhsa-gateway-test",
            data_key=_DATA_KEY,
            channels={"nhsa-platform": channel},
            fund_routes={"basic": "nhsa-platform"},
        )
    )
    try:
        yield gw, centre, bill
    finally:
        gw.close()
        asyncio.run(channel.aclose())
        engine.dispose()


def _fp(bill: Bill) -> bytes:
    return hashlib.sha256(bill.model_dump_json().encode()).digest()


def _booked(centre: FakeNhsaCentre, setl_id: str) -> dict[str, Any]:
    """What the platform booked, as the settlement's leg fields (the accumulator deltas are the gateway's own)."""
    out = centre.ledger.settlements[setl_id].output
    return basic_leg(out["setlinfo"], out["setldetail"]).model_dump(exclude={"accumulator_deltas"})


def _engine_basic(bill: Bill) -> BasicLeg:
    pol = policy_for(bill.patient.insured_region, bill.visit.admission_date)
    leg = finalize(settle_funds(bill, default_catalogs(), pol)).basic
    assert leg is not None
    return leg


def test_basic_leg_goes_through_the_platform_and_is_reversed_there(
    gateway: tuple[Gateway, FakeNhsaCentre, Bill],
) -> None:
    """The settlement's basic leg is the platform's booking (source nhsa-platform); reversing the settlement
    undoes it at the platform, whose ledger then shows nothing standing and the accumulators back at zero."""
    gw, centre, bill = gateway
    me = Caller(bill.hospital.code)
    out = gw.settle(me, "nhsa-gw-1", bill, _fp(bill))
    assert out.status is SettlementStatus.SETTLED
    basic = out.settlement.basic
    assert basic is not None
    assert basic.source == "nhsa-platform"
    (setl_id,) = centre.standing()
    assert basic.model_dump(exclude={"accumulator_deltas"}) == _booked(centre, setl_id)
    assert not [w for w in out.settlement.warnings if w.startswith("CENTRE_DIFFERS")]
    booked_deltas = centre.ledger.settlements[setl_id].deltas
    assert {d.key: int(d.delta_fen) for d in basic.accumulator_deltas} == booked_deltas
    assert centre.count("2304") == 1

    rev = gw.reverse(me, out.settlement_id, "nhsa-gw-1-rev")
    assert rev.status is SettlementStatus.REVERSED
    assert centre.standing() == []
    assert centre.ledger.settlements[setl_id].undone_by == "2305"
    assert all(v == 0 for v in centre.accumulators(bill.patient.psn_no).values())
    assert centre.count("2304") == 1


def test_centre_paying_less_than_the_engine_wins_with_a_warning(
    gateway: tuple[Gateway, FakeNhsaCentre, Bill],
) -> None:
    """When the platform pays 1.00 less 统筹 than the engine computes, the settlement carries the platform's
    figure, the patient pays the difference, and a CENTRE_DIFFERS:hifp_pay warning names both values."""
    gw, centre, bill = gateway
    engine = _engine_basic(bill)
    assert engine.hifp_pay >= 100
    centre.pay_less(100)
    out = gw.settle(Caller(bill.hospital.code), "nhsa-gw-2", bill, _fp(bill))
    basic = out.settlement.basic
    assert basic is not None
    (setl_id,) = centre.standing()
    assert basic.model_dump(exclude={"accumulator_deltas"}) == _booked(centre, setl_id)
    assert int(basic.hifp_pay) == int(engine.hifp_pay) - 100
    assert int(basic.psn_cash_pay) == int(engine.psn_cash_pay) + 100
    (warning,) = [w for w in out.settlement.warnings if w.startswith("CENTRE_DIFFERS:hifp_pay:")]
    assert warning == (
        f"CENTRE_DIFFERS:hifp_pay: engine {format_yuan(engine.hifp_pay)}, centre {format_yuan(basic.hifp_pay)}"
    )
