"""Shared helpers of the gateway RPC tests: bills as proto messages, stubs, status details."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from onestop.v1 import (
    bill_pb2,
    catalog_service_pb2_grpc,
    drg_service_pb2_grpc,
    settlement_service_pb2_grpc,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "bills"
HOSPITAL_A = "H22010100001"
HOSPITAL_B = "H22010100002"
TOKEN_A = "token-of-hospital-a"
TOKEN_B = "token-of-hospital-b"


def bill_doc(name: str = "outpatient_b_class.json", hospital: str = HOSPITAL_A) -> dict[str, Any]:
    """An example bill as a JSON document, sent by ``hospital``."""
    doc: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    doc["hospital"]["code"] = hospital
    return doc


def bill_msg(name: str = "outpatient_b_class.json", hospital: str = HOSPITAL_A, **visit: Any) -> Any:
    """An example bill as an ``onestop.v1.Bill``."""
    doc = bill_doc(name, hospital)
    doc["visit"].update(visit)
    return json_format.ParseDict(doc, bill_pb2.Bill())


def auth(token: str) -> tuple[tuple[str, str], ...]:
    """Call metadata with a bearer token."""
    return (("authorization", f"Bearer {token}"),)


class Stubs:
    """Stubs of the three services on one channel."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.settlement = settlement_service_pb2_grpc.SettlementServiceStub(channel)
        self.catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
        self.drg = drg_service_pb2_grpc.DrgServiceStub(channel)


def details(err: grpc.RpcError) -> dict[str, Any]:
    """The rich status details of a failed call: ErrorInfo, BadRequest, LocalizedMessage by type name."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    out: dict[str, Any] = {}
    if status is None:
        return out
    for any_msg in status.details:
        for cls in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest, error_details_pb2.LocalizedMessage):
            if any_msg.Is(cls.DESCRIPTOR):
                msg = cls()
                any_msg.Unpack(msg)
                out[cls.__name__] = msg
    return out
