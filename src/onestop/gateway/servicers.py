"""The gRPC servicers: each RPC converts its request, calls the gateway service once, renders the answer.

Authentication, error mapping, logging and metrics happen around them in
:class:`~onestop.gateway.interceptors.GatewayInterceptor`; here every error is simply raised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
from decimal import Decimal
from enum import Enum
from typing import Any

import grpc
import structlog
from pydantic import ValidationError

from onestop.domain import violations_from
from onestop.domain.bill import BillLine, Hospital
from onestop.errors import FieldViolation, InvalidRequest, UnsupportedFlow
from onestop.gateway.convert import bill_fingerprint_bytes, bill_from_proto, doc_from_proto, to_dict
from onestop.gateway.interceptors import current_caller
from onestop.gateway.service import Gateway
from onestop.v1 import (
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    drg_service_pb2,
    drg_service_pb2_grpc,
    settlement_pb2,
    settlement_service_pb2,
    settlement_service_pb2_grpc,
)

__all__ = ["CatalogServicer", "DrgServicer", "SettlementServicer", "add_servicers"]

_pb = settlement_service_pb2


def _build(cls: Any, **fields: Any) -> Any:
    """A message built in one call from nested dicts (the generated stubs type only message arguments)."""
    return cls(**fields)


def _deadline(context: grpc.ServicerContext) -> float | None:
    left = context.time_remaining()
    # gRPC reports "no deadline" as None or as a huge number depending on the version.
    return None if left is None or left > 86_400 * 365 else max(float(left), 0.0)


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(
            f"{field} is not a date", violations=(FieldViolation(field, "must be a date YYYY-MM-DD"),)
        ) from None


def _required(value: str, field: str) -> str:
    if not value:
        raise InvalidRequest(f"{field} is required", violations=(FieldViolation(field, "is required"),))
    return value


class SettlementServicer(settlement_service_pb2_grpc.SettlementServiceServicer):
    """SettlementService over a :class:`Gateway`.

    Args:
        gateway: The service every RPC calls.
        max_lines: Most lines a bill may have (more: RESOURCE_EXHAUSTED before any work).
    """

    def __init__(self, gateway: Gateway, *, max_lines: int) -> None:
        self.gateway = gateway
        self.max_lines = max_lines

    def PreSettle(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Trial settlement: nothing stored."""
        bill = bill_from_proto(request.bill, max_lines=self.max_lines)
        settlement = self.gateway.pre_settle(current_caller(), bill, deadline=_deadline(context))
        return _build(_pb.PreSettleResponse, settlement=to_dict(settlement, settlement_pb2.Settlement.DESCRIPTOR))

    def Settle(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Settle, idempotent by (hospital, request_id); the fingerprint is the bill's canonical bytes."""
        bill = bill_from_proto(request.bill, max_lines=self.max_lines)
        fingerprint = hashlib.sha256(bill_fingerprint_bytes(request.bill)).digest()
        outcome = self.gateway.settle(
            current_caller(), request.request_id, bill, fingerprint, deadline=_deadline(context)
        )
        structlog.contextvars.bind_contextvars(settlement_id=outcome.settlement_id)
        return _pb.SettleResponse(**to_dict(outcome, _pb.SettleResponse.DESCRIPTOR))

    def Reverse(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Reverse every leg of a settlement of the caller's hospital."""
        sid = _required(request.settlement_id, "settlement_id")
        structlog.contextvars.bind_contextvars(settlement_id=sid)
        outcome = self.gateway.reverse(current_caller(), sid, request.request_id, deadline=_deadline(context))
        return _pb.ReverseResponse(**to_dict(outcome, _pb.ReverseResponse.DESCRIPTOR))

    def Supplement(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Settle an unpaid commercial leg again."""
        sid = _required(request.settlement_id, "settlement_id")
        structlog.contextvars.bind_contextvars(settlement_id=sid)
        payer = _required(request.payer, "payer")
        outcome = self.gateway.supplement(current_caller(), sid, payer, request.request_id, deadline=_deadline(context))
        return _pb.SupplementResponse(**to_dict(outcome, _pb.SupplementResponse.DESCRIPTOR))

    def GetSettlement(self, request: Any, context: grpc.ServicerContext) -> Any:
        """One settlement of the caller's hospital (another hospital's is NOT_FOUND)."""
        sid = _required(request.settlement_id, "settlement_id")
        structlog.contextvars.bind_contextvars(settlement_id=sid)
        record = self.gateway.get(current_caller(), sid)
        return _build(_pb.GetSettlementResponse, settlement=to_dict(record, _pb.SettlementRecord.DESCRIPTOR))

    def ListSettlements(self, request: Any, context: grpc.ServicerContext) -> Any:
        """A page of the caller's settlements."""
        page = self.gateway.list(
            current_caller(),
            _date(request.date_from, "date_from"),
            _date(request.date_to, "date_to"),
            request.page_size,
            request.page_token,
        )
        records = [to_dict(r, _pb.SettlementRecord.DESCRIPTOR) for r in page.items]
        return _build(_pb.ListSettlementsResponse, settlements=records, next_page_token=page.next_page_token)

    def Reconcile(self, request: Any, context: grpc.ServicerContext) -> Any:
        """A day's totals per payer and fund type."""
        report = self.gateway.reconcile(current_caller(), _date(request.day, "day"))
        return _pb.ReconcileResponse(**to_dict(report, _pb.ReconcileResponse.DESCRIPTOR))

    def Ping(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Nothing but authentication: the benchmark's baseline."""
        return _pb.PingResponse(hospital_code=current_caller().hospital_code)


class CatalogServicer(catalog_service_pb2_grpc.CatalogServiceServicer):
    """CatalogService: an item resolved as a bill line would be. Confidential amounts are never sent."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def LookupItem(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Resolve one item on a date in a region."""
        doc = {
            "feedetl_sn": "lookup",
            "national_code": request.national_code,
            "hospital_code": request.hospital_code,
            "name": request.name or request.national_code or request.hospital_code or "-",
            "dosage_form": request.dosage_form,
            "spec": request.spec,
            "category": request.category,
            "quantity": "1",
            "unit_price": "0",
            "amount_fen": 0,
            "date": request.date,
        }
        where = {"code": current_caller().hospital_code, "tier": request.tier or "-", "region": request.region}
        try:
            line = BillLine.model_validate_json(json.dumps(doc))
            hospital = Hospital.model_validate_json(json.dumps(where))
        except ValidationError as exc:
            raise InvalidRequest("invalid lookup", violations=violations_from(exc)) from None
        res = self.gateway.catalogs.resolve(line, hospital)
        out = catalog_service_pb2.LookupItemResponse(
            in_catalog=res.in_catalog,
            matched_by=res.matched_by.value,
            kind=res.kind.value,
            edition=res.edition,
            national_code=res.national_code,
            name=res.name,
            dosage_form=res.dosage_form,
            chrgitm_lv=res.chrgitm_lv.value,
            section=res.section,
            negotiated=res.negotiated,
            remark=res.remark,
            dual_channel=res.dual_channel,
            two_diseases=res.two_diseases,
            notes=list(res.notes),
        )
        if res.selfpay_ratio is not None:
            out.selfpay_ratio = format(res.selfpay_ratio, "f")
        std = res.standard
        if std is not None:
            out.standard.source = str(getattr(std.source, "value", std.source))
            out.standard.unit = std.unit
            out.standard.spec = std.spec
            out.standard.confidential = std.confidential
            out.standard.valid_from = std.valid_from.isoformat()
            out.standard.valid_to = std.valid_to.isoformat() if std.valid_to else ""
            out.standard.region = std.region
            # A confidential standard is used for computation only: its amount never leaves.
            if not std.confidential and std.amount_fen is not None:
                out.standard.amount_fen = std.amount_fen
        if res.cidl is not None:
            out.cidl.no = res.cidl.no
            out.cidl.name = res.cidl.name
            out.cidl.matched_by = res.cidl.matched_by.value
            out.cidl.category_code = res.cidl.category_code
        return out


def _wire(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [str(_wire(v)) for v in value]
    return value


def _fill(out: Any, source: Any) -> None:
    """Copy a grouper dataclass into its message, field by field (None stays unset)."""
    for fd in out.DESCRIPTOR.fields:
        value = getattr(source, fd.name, None)
        if value is None or fd.message_type is not None:
            continue
        wire = _wire(value)
        if fd.is_repeated:
            getattr(out, fd.name).extend(wire)
        else:
            setattr(out, fd.name, wire)


class DrgServicer(drg_service_pb2_grpc.DrgServiceServicer):
    """DrgService: delegates to ``onestop.drg`` when it is installed; UNIMPLEMENTED otherwise."""

    def Group(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Group one case and, when its region and discharge date are given, price it."""
        try:
            drg: Any = importlib.import_module("onestop.drg")
        except ModuleNotFoundError:
            raise UnsupportedFlow("DRG grouping is not available in this build", metadata={"rpc": "Group"}) from None
        doc = doc_from_proto(request.case)
        try:
            case = drg.Case.model_validate_json(json.dumps(doc))
        except ValidationError as exc:
            raise InvalidRequest("the case is not valid", violations=violations_from(exc)) from None
        result = drg.group(case)
        out = drg_service_pb2.GroupResponse()
        _fill(out, result)
        if case.region is not None and case.discharge_date is not None:
            _fill(out.payment, drg.pay(result, case, drg.settings_for(case.region, case.discharge_date)))
        return out


def add_servicers(server: grpc.Server, gateway: Gateway, *, max_lines: int) -> tuple[str, ...]:
    """Register the three services on ``server``; returns their full names (for reflection)."""
    settlement_service_pb2_grpc.add_SettlementServiceServicer_to_server(
        SettlementServicer(gateway, max_lines=max_lines), server
    )
    catalog_service_pb2_grpc.add_CatalogServiceServicer_to_server(CatalogServicer(gateway), server)
    drg_service_pb2_grpc.add_DrgServiceServicer_to_server(DrgServicer(), server)
    return tuple(
        d.services_by_name[n].full_name
        for d, n in (
            (settlement_service_pb2.DESCRIPTOR, "SettlementService"),
            (catalog_service_pb2.DESCRIPTOR, "CatalogService"),
            (drg_service_pb2.DESCRIPTOR, "DrgService"),
        )
    )
