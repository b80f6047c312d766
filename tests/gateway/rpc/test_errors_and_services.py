"""Errors mapped in one interceptor, request limits, deadlines, catalog lookup, DRG, health and reflection."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest
from gateway.rpc.gwrpc_helpers import HOSPITAL_A, TOKEN_A, auth, bill_doc, bill_msg, details
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from onestop.errors import InvalidRequest, PayerTimeout
from onestop.gateway.interceptors import status_of
from onestop.v1 import bill_pb2, catalog_service_pb2, drg_service_pb2
from onestop.v1 import settlement_service_pb2 as pb

A = auth(TOKEN_A)
SUCROFERRIC = "XV03AEFX006000000000000"  # 蔗糖羟基氧化铁咀嚼片: a confidential ("*") payment standard


def _listed(stubs: Any) -> int:
    lo, hi = (dt.date.today() - dt.timedelta(days=1)).isoformat(), (dt.date.today() + dt.timedelta(days=1)).isoformat()
    page = stubs.settlement.ListSettlements(pb.ListSettlementsRequest(date_from=lo, date_to=hi), metadata=A)
    return len(page.settlements)


def test_invalid_bill_names_line_and_field_and_stores_nothing(start: Any, rpc_db_url: str) -> None:
    """A bad line is INVALID_ARGUMENT with a BadRequest violation naming lines[i] and its feedetl_sn."""
    _, stubs = start(rpc_db_url)
    doc = bill_doc()
    doc["lines"][1]["quantity"] = "2.5e3"
    doc["patient"]["age"] = 200
    bill = json_format.ParseDict(doc, bill_pb2.Bill())
    with pytest.raises(grpc.RpcError) as err:
        stubs.settlement.Settle(pb.SettleRequest(request_id="bad", bill=bill), metadata=A)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    d = details(err.value)
    fields = {v.field for v in d["BadRequest"].field_violations}
    sn = doc["lines"][1]["feedetl_sn"]
    assert f"lines[1].quantity (feedetl_sn {sn})" in fields
    assert "patient.age" in fields
    assert d["ErrorInfo"].reason == "INVALID_REQUEST"
    assert d["LocalizedMessage"].message == "请求内容有误，请核对后重新提交"
    assert _listed(stubs) == 0
    # The same request id then settles: a rejected request left no idempotency key behind.
    ok = stubs.settlement.Settle(pb.SettleRequest(request_id="bad", bill=bill_msg()), metadata=A)
    assert ok.status == pb.SETTLEMENT_STATUS_SETTLED


def test_a_bill_dated_outside_every_policy_is_failed_precondition_naming_the_field(start: Any, rpc_db_url: str) -> None:
    """A well-formed bill of years before any regional policy or catalog edition is FAILED_PRECONDITION with the
    specific reason and a BadRequest naming the field (never NOT_FOUND without a field), and stores nothing."""
    _, stubs = start(rpc_db_url)
    doc = bill_doc()
    for key in ("admission_date", "discharge_date"):
        doc["visit"][key] = "2015-03-02"
    for line in doc["lines"]:
        line["date"] = "2015-03-02"
    old = json_format.ParseDict(doc, bill_pb2.Bill())
    for call in (
        lambda: stubs.settlement.Settle(pb.SettleRequest(request_id="old", bill=old), metadata=A),
        lambda: stubs.settlement.PreSettle(pb.PreSettleRequest(bill=old), metadata=A),
    ):
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        d = details(err.value)
        assert d["ErrorInfo"].reason == "POLICY_NOT_FOUND"
        assert [v.field for v in d["BadRequest"].field_violations] == ["patient.insured_region"]
    assert _listed(stubs) == 0


def test_missing_bill_and_missing_fields_are_named(start: Any) -> None:
    """An empty request names the bill; a bill without its hospital names hospital."""
    _, stubs = start()
    with pytest.raises(grpc.RpcError) as err:
        stubs.settlement.PreSettle(pb.PreSettleRequest(), metadata=A)
    assert [v.field for v in details(err.value)["BadRequest"].field_violations] == ["bill"]
    bill = bill_msg()
    bill.ClearField("hospital")
    with pytest.raises(grpc.RpcError) as err:
        stubs.settlement.PreSettle(pb.PreSettleRequest(bill=bill), metadata=A)
    assert "hospital" in {v.field for v in details(err.value)["BadRequest"].field_violations}


def test_line_count_limit_is_resource_exhausted(start: Any) -> None:
    """A bill with more lines than the configured limit is RESOURCE_EXHAUSTED before any work."""
    _, stubs = start(max_lines=3)
    bill = bill_msg()
    while len(bill.lines) <= 3:
        extra = bill.lines.add()
        extra.CopyFrom(bill.lines[0])
        extra.feedetl_sn = f"EXTRA-{len(bill.lines)}"
    with pytest.raises(grpc.RpcError) as err:
        stubs.settlement.Settle(pb.SettleRequest(request_id="big", bill=bill), metadata=A)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert details(err.value)["ErrorInfo"].metadata["max_lines"] == "3"
    assert _listed(stubs) == 0


def test_message_size_limit_is_resource_exhausted(start: Any) -> None:
    """A request larger than max_message_bytes is refused by gRPC with RESOURCE_EXHAUSTED."""
    _, stubs = start(max_message_bytes=4096)
    bill = bill_msg()
    for i in range(60):
        extra = bill.lines.add()
        extra.CopyFrom(bill.lines[0])
        extra.feedetl_sn = f"PAD-{i}"
    assert bill.ByteSize() > 4096
    with pytest.raises(grpc.RpcError) as err:
        stubs.settlement.Settle(pb.SettleRequest(request_id="huge", bill=bill), metadata=A)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_unknown_exception_is_internal_without_detail(start: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception answers INTERNAL 'internal error': its text never reaches the caller."""
    server, stubs = start()

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret detail: psn_no 22010019800101")

    monkeypatch.setattr(server.gateway, "pre_settle", boom)
    with pytest.raises(grpc.RpcError) as err:
        stubs.settlement.PreSettle(pb.PreSettleRequest(bill=bill_msg()), metadata=A)
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert err.value.details() == "internal error"
    assert details(err.value)["ErrorInfo"].reason == "INTERNAL"
    assert not details(err.value)["ErrorInfo"].metadata


def test_deadline_is_passed_on_to_the_service(start: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's deadline reaches the gateway as the seconds left; without one, None."""
    server, stubs = start()
    seen: list[float | None] = []
    real = server.gateway.pre_settle

    def spy(caller: Any, bill: Any, *, deadline: float | None = None) -> Any:
        seen.append(deadline)
        return real(caller, bill, deadline=deadline)

    monkeypatch.setattr(server.gateway, "pre_settle", spy)
    stubs.settlement.PreSettle(pb.PreSettleRequest(bill=bill_msg()), metadata=A, timeout=7)
    stubs.settlement.PreSettle(pb.PreSettleRequest(bill=bill_msg()), metadata=A)
    assert seen[0] is not None
    assert 0 < seen[0] < 8  # the caller's 7 s, as the server reads it (the wire rounds and the clocks differ)
    assert seen[1] is None


def test_status_of_carries_every_violation_and_the_payer_metadata() -> None:
    """status_of maps the error's gRPC code and keeps every field violation and its metadata."""
    from google.rpc import error_details_pb2, status_pb2

    bad = InvalidRequest("nope", violations=(_fv("lines[0].amount_fen", "x"), _fv("visit.med_type", "y")))
    st = status_of(bad)
    assert st.code == grpc.StatusCode.INVALID_ARGUMENT
    proto = status_pb2.Status.FromString(dict(st.trailing_metadata)["grpc-status-details-bin"])
    req = error_details_pb2.BadRequest()
    assert any(a.Unpack(req) for a in proto.details if a.Is(req.DESCRIPTOR))
    assert [v.field for v in req.field_violations] == ["lines[0].amount_fen", "visit.med_type"]
    timeout = status_of(PayerTimeout("late", payer="huiminbao", flow="settle"))
    assert timeout.code == grpc.StatusCode.DEADLINE_EXCEEDED
    proto = status_pb2.Status.FromString(dict(timeout.trailing_metadata)["grpc-status-details-bin"])
    info = error_details_pb2.ErrorInfo()
    assert any(a.Unpack(info) for a in proto.details if a.Is(info.DESCRIPTOR))
    assert info.reason == "PAYER_OUTCOME_UNKNOWN"
    assert info.metadata["payer"] == "huiminbao"


def test_status_of_a_thousand_violations_fits_a_trailer_and_says_how_many_it_left_out() -> None:
    """Trailers are capped by clients: the status names the first violations and counts the rest."""
    from google.rpc import error_details_pb2, status_pb2

    many = tuple(_fv(f"lines[{i}].quantity (feedetl_sn {i:06d})", "must be greater than 0") for i in range(1000))
    st = status_of(InvalidRequest("bill does not validate", violations=many))
    trailer = dict(st.trailing_metadata)["grpc-status-details-bin"]
    # grpc may drop a call whose trailer exceeds its 8 KiB soft limit; base64 makes the binary 4/3 larger.
    assert len(trailer) * 4 / 3 + len(st.details.encode()) < 6 * 1024
    proto = status_pb2.Status.FromString(trailer)
    req, info = error_details_pb2.BadRequest(), error_details_pb2.ErrorInfo()
    assert any(a.Unpack(req) for a in proto.details if a.Is(req.DESCRIPTOR))
    assert any(a.Unpack(info) for a in proto.details if a.Is(info.DESCRIPTOR))
    shown = [v.field for v in req.field_violations]
    assert 10 < len(shown) < 1000
    assert shown == [v.field for v in many[: len(shown)]]
    assert info.metadata["violations_total"] == "1000"
    assert info.metadata["violations_shown"] == str(len(shown))
    assert len(st.details) <= 512


def _fv(field: str, description: str) -> Any:
    from onestop.errors import FieldViolation

    return FieldViolation(field, description)


def test_catalog_lookup_never_returns_a_confidential_amount(start: Any) -> None:
    """LookupItem says a confidential standard applies but never sends its amount."""
    _, stubs = start()
    out = stubs.catalog.LookupItem(
        catalog_service_pb2.LookupItemRequest(
            national_code=SUCROFERRIC, name="蔗糖羟基氧化铁咀嚼片", category="09", date="2026-03-10", region="220100"
        ),
        metadata=A,
    )
    assert out.in_catalog
    assert out.standard.confidential
    assert not out.standard.HasField("amount_fen")
    assert b"1234" not in out.SerializeToString()  # the fixture's confidential number (12.34 yuan)


def test_catalog_lookup_of_an_unknown_item_is_out_of_catalog(start: Any) -> None:
    """An unknown code is not an error: the item is simply out of catalog."""
    _, stubs = start()
    out = stubs.catalog.LookupItem(
        catalog_service_pb2.LookupItemRequest(
            national_code="XZ99ZZZ9999000000000000", name="不存在", category="09", date="2026-03-10", region="220100"
        ),
        metadata=A,
    )
    assert not out.in_catalog
    assert out.chrgitm_lv == "03"


def test_drg_group_groups_and_prices_a_case(start: Any) -> None:
    """Group answers the grouper's DRG and, with region and date, the DRG payment."""
    _, stubs = start()
    case = drg_service_pb2.DrgCase(
        case_id="C1",
        sex="1",
        age=50,
        los_days=6,
        discharge_way="1",
        diagnoses=["J18.900"],
        insutype="310",
        region="990100",
        discharge_date="2026-03-10",
        total_cost_fen=800_000,
    )
    out = stubs.drg.Group(drg_service_pb2.GroupRequest(case=case), metadata=A)
    assert out.case_id == "C1"
    assert out.status == "grouped"
    assert out.drg.startswith("ES3")
    assert out.HasField("weight")
    assert out.payment.case_cost_fen == 800_000
    assert out.payment.HasField("drg_payment_fen")


def test_drg_group_without_required_fields_names_them(start: Any) -> None:
    """A case missing the fields the model requires is INVALID_ARGUMENT naming each."""
    _, stubs = start()
    with pytest.raises(grpc.RpcError) as err:
        stubs.drg.Group(drg_service_pb2.GroupRequest(case=drg_service_pb2.DrgCase(sex="7")), metadata=A)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"case_id", "sex"} <= {v.field for v in details(err.value)["BadRequest"].field_violations}


def test_health_is_open_and_reflection_lists_the_services(start: Any) -> None:
    """Health answers SERVING without credentials; reflection lists the three onestop services."""
    _, stubs = start()
    health = health_pb2_grpc.HealthStub(stubs.channel)
    for service in ("", "onestop.v1.SettlementService"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    refl = reflection_pb2_grpc.ServerReflectionStub(stubs.channel)
    answers = list(
        refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), metadata=A)
    )
    names = {s.name for s in answers[0].list_services_response.service}
    assert {"onestop.v1.SettlementService", "onestop.v1.CatalogService", "onestop.v1.DrgService"} <= names


def test_reflection_needs_credentials_like_every_call_but_health(start: Any) -> None:
    """Reflection (a streaming call) without credentials is UNAUTHENTICATED before it answers anything."""
    _, stubs = start()
    refl = reflection_pb2_grpc.ServerReflectionStub(stubs.channel)
    with pytest.raises(grpc.RpcError) as err:
        list(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_hospital_code_in_answers_is_the_callers(start: Any) -> None:
    """The settlement answered names the authenticated hospital."""
    _, stubs = start()
    out = stubs.settlement.PreSettle(pb.PreSettleRequest(bill=bill_msg()), metadata=A)
    assert out.settlement.hospital_code == HOSPITAL_A


def test_a_second_single_process_gateway_cannot_take_a_busy_port(start) -> None:
    """Without --workers, a second gateway on the same port fails to bind (ConfigError naming the port)
    instead of sharing it through SO_REUSEPORT and silently taking part of the traffic."""
    from onestop.errors import ConfigError

    first, _ = start()
    with pytest.raises(ConfigError, match="cannot listen"):
        start(port=first.port)
