"""The gateway settling its basic leg through the nhsa-platform channel and a running fake platform."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import json_format
from onestop_nhsa_platform import NhsaPlatformChannel
from onestop_nhsa_platform._wire import basic_leg
from onestop_nhsa_platform.testing import fresh_config, inpatient_bill, shared_centre
from sqlalchemy import text

from onestop.catalog import default_catalogs
from onestop.domain.bill import Bill
from onestop.domain.settlement import BasicLeg
from onestop.engine import finalize, settle_funds
from onestop.errors import ConfigError
from onestop.gateway import Caller, Gateway, SettlementStatus
from onestop.gateway.server import gateway_config
from onestop.gateway.settings import ServeSettings
from onestop.money import format_yuan
from onestop.policy import policy_for
from onestop.testing import FakeNhsaCentre
from onestop.v1 import bill_pb2, settlement_service_pb2_grpc
from onestop.v1 import settlement_service_pb2 as pb

#: base64 of 32 bytes: the key the test gateway seals personal data with.
_DATA_KEY = "bmhzYS1nYXRld2F5LXRlc3Qta2V5LTAxMjM0NTY3ODk="


@pytest.fixture(scope="module")
def catalogs() -> Any:
    """The packaged catalogs, loaded once."""
    return default_catalogs()


@pytest.fixture
def gateway(tmp_path: Path, catalogs: Any) -> Iterator[tuple[Gateway, FakeNhsaCentre, Bill]]:
    """A gateway on SQLite built from serve settings: its basic leg goes to nhsa-platform, loaded by entry
    point and journaling in the gateway's database."""
    centre = shared_centre()
    bill = inpatient_bill(visit_no="ZY-GATEWAY-0001", psn_no="GATEWAY-PSN-0001")
    settings = ServeSettings(
        database_url=f"sqlite:///{tmp_path / 'gw.db'}",
        data_key=_DATA_KEY,
        pseudonym_key="nhsa-gateway-test",
        channels={"nhsa-platform": {"adapter": "nhsa-platform", "config": _channel_config(fresh_config(bill))}},
        fund_routes={"basic": "nhsa-platform"},
    )
    gw = Gateway.open(gateway_config(settings, catalogs=catalogs))
    try:
        yield gw, centre, bill
    finally:
        gw.close()


def _channel_config(cfg: Any) -> dict[str, Any]:
    """A channel config as the settings file writes it (the secret in plain text)."""
    doc: dict[str, Any] = cfg.model_dump(mode="json")
    doc["secret"] = cfg.secret.get_secret_value()
    return doc


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


def test_the_journal_lives_in_the_gateway_database_and_close_closes_the_channel(
    gateway: tuple[Gateway, FakeNhsaCentre, Bill],
) -> None:
    """The channel built from settings journals each sent settle in the gateway's state tables (so a
    restarted gateway reads it back instead of re-sending), and Gateway.close closes its HTTP client."""
    gw, _centre, bill = gateway
    out = gw.settle(Caller(bill.hospital.code), "nhsa-gw-3", bill, _fp(bill))
    assert out.status is SettlementStatus.SETTLED
    with gw.store.engine.connect() as conn:
        journaled = conn.execute(text("SELECT COUNT(*) FROM adapter_state_ops")).scalar_one()
    assert journaled > 0
    (channel,) = [a for a in gw._owned if isinstance(a, NhsaPlatformChannel)]
    assert not channel._http.is_closed
    gw.close()
    assert channel._http.is_closed


def test_settings_naming_a_channel_that_is_not_installed_are_refused(tmp_path: Path) -> None:
    """A settings file naming an unknown channel, or routing a leg to a channel it does not define, fails at
    start with the field named."""
    with pytest.raises(ConfigError) as info:
        gateway_config(ServeSettings(channels={"x": {"adapter": "no-such-channel"}}))
    assert [v.field for v in info.value.violations] == ["channels.x.adapter"]
    with pytest.raises(ConfigError) as info:
        gateway_config(ServeSettings(database_url=f"sqlite:///{tmp_path / 'x.db'}", fund_routes={"basic": "nope"}))
    assert [v.field for v in info.value.violations] == ["fund_routes.basic"]


def test_onestop_serve_routes_the_basic_leg_to_the_platform_over_grpc(tmp_path: Path) -> None:
    """`onestop serve` with a settings file that routes the basic leg to nhsa-platform: a hospital's Settle over
    gRPC is booked at the platform (source nhsa-platform) and its Reverse undoes the booking there."""
    centre = shared_centre()
    bill = inpatient_bill(visit_no="ZY-SERVE-0001", psn_no="SERVE-PSN-0001")
    settings = {
        "dev": True,
        "database_url": f"sqlite:///{tmp_path / 'gw.db'}",
        "data_key": _DATA_KEY,
        "channels": {"nhsa-platform": {"adapter": "nhsa-platform", "config": _channel_config(fresh_config(bill))}},
        "fund_routes": {"basic": "nhsa-platform"},
    }
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "onestop"), "serve", "--config", str(path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, (tmp_path / "serve.log").read_text()
        target = line.split("listening on ", 1)[1].split(" ", 1)[0]
        md = (("x-onestop-hospital", bill.hospital.code),)
        with grpc.insecure_channel(target) as ch:
            stub = settlement_service_pb2_grpc.SettlementServiceStub(ch)
            doc = bill.model_dump(mode="json", exclude_none=True)
            msg = json_format.ParseDict(doc, bill_pb2.Bill())
            out = stub.Settle(pb.SettleRequest(request_id="serve-nhsa-1", bill=msg), metadata=md, timeout=30)
            assert out.settlement.basic.source == "nhsa-platform"
            (setl_id,) = centre.standing()
            assert out.settlement.basic.hifp_pay_fen == int(_booked(centre, setl_id)["hifp_pay"])
            assert out.settlement.basic.hifp_pay_fen > 0
            rev = stub.Reverse(
                pb.ReverseRequest(settlement_id=out.settlement_id, request_id="serve-nhsa-1-rev"),
                metadata=md,
                timeout=30,
            )
            assert rev.status == pb.SETTLEMENT_STATUS_REVERSED
        assert centre.standing() == []
        assert centre.ledger.settlements[setl_id].undone_by == "2305"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        log.close()
        if proc.stdout is not None:
            proc.stdout.close()
