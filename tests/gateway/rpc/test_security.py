"""Authentication (token, mTLS, development header) and the hospital isolation matrix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from gateway.rpc.gwrpc_helpers import HOSPITAL_A, HOSPITAL_B, TOKEN_A, TOKEN_B, Stubs, auth, bill_msg, details

from onestop.gateway.auth import DEV_HOSPITAL_HEADER
from onestop.v1 import settlement_service_pb2 as pb

A, B = auth(TOKEN_A), auth(TOKEN_B)


def _code(fn: Any, *args: Any, **kw: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        fn(*args, **kw)
    code: grpc.StatusCode = err.value.code()
    return code


@pytest.mark.parametrize(
    "metadata",
    [
        (),
        (("authorization", "Bearer not-a-known-token"),),
        (("authorization", f"Basic {TOKEN_A}"),),
        ((DEV_HOSPITAL_HEADER, HOSPITAL_A),),
    ],
    ids=["none", "unknown-token", "not-bearer", "dev-header-outside-dev-mode"],
)
def test_unauthenticated_calls_are_refused(start: Any, metadata: Any) -> None:
    """Without a known token or certificate every RPC is UNAUTHENTICATED (the dev header needs dev mode)."""
    _, stubs = start()
    assert _code(stubs.settlement.Ping, pb.PingRequest(), metadata=metadata) == grpc.StatusCode.UNAUTHENTICATED
    code = _code(stubs.settlement.Settle, pb.SettleRequest(request_id="x", bill=bill_msg()), metadata=metadata)
    assert code == grpc.StatusCode.UNAUTHENTICATED


def test_dev_mode_accepts_the_hospital_header(start: Any) -> None:
    """In development mode a call may name its hospital in x-onestop-hospital."""
    _, stubs = start(dev=True)
    out = stubs.settlement.Ping(pb.PingRequest(), metadata=((DEV_HOSPITAL_HEADER, HOSPITAL_B),))
    assert out.hospital_code == HOSPITAL_B


def test_a_bill_of_another_hospital_is_refused(start: Any) -> None:
    """A hospital cannot settle a bill naming another hospital: PERMISSION_DENIED, nothing stored."""
    _, stubs = start()
    code = _code(
        stubs.settlement.Settle, pb.SettleRequest(request_id="x", bill=bill_msg(hospital=HOSPITAL_B)), metadata=A
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    lo, hi = (dt.date.today() - dt.timedelta(days=1)).isoformat(), (dt.date.today() + dt.timedelta(days=1)).isoformat()
    for md in (A, B):
        page = stubs.settlement.ListSettlements(pb.ListSettlementsRequest(date_from=lo, date_to=hi), metadata=md)
        assert len(page.settlements) == 0


def test_isolation_matrix(start: Any, rpc_db_url: str) -> None:
    """Each hospital reads, lists, reconciles and reverses only its own settlements; the other's look absent."""
    _, stubs = start(rpc_db_url)
    own = {
        h: stubs.settlement.Settle(pb.SettleRequest(request_id="same-id", bill=bill_msg(hospital=h)), metadata=md)
        for h, md in ((HOSPITAL_A, A), (HOSPITAL_B, B))
    }
    lo, hi = (dt.date.today() - dt.timedelta(days=1)).isoformat(), (dt.date.today() + dt.timedelta(days=1)).isoformat()
    day = stubs.settlement.GetSettlement(
        pb.GetSettlementRequest(settlement_id=own[HOSPITAL_A].settlement_id), metadata=A
    ).settlement.settle_date
    for me, md, other in ((HOSPITAL_A, A, HOSPITAL_B), (HOSPITAL_B, B, HOSPITAL_A)):
        mine, theirs = own[me].settlement_id, own[other].settlement_id
        got = stubs.settlement.GetSettlement(pb.GetSettlementRequest(settlement_id=mine), metadata=md)
        assert got.settlement.hospital_code == me
        assert (
            _code(stubs.settlement.GetSettlement, pb.GetSettlementRequest(settlement_id=theirs), metadata=md)
            == grpc.StatusCode.NOT_FOUND
        )
        listed = stubs.settlement.ListSettlements(pb.ListSettlementsRequest(date_from=lo, date_to=hi), metadata=md)
        assert [r.settlement_id for r in listed.settlements] == [mine]
        rep = stubs.settlement.Reconcile(pb.ReconcileRequest(day=day), metadata=md)
        assert list(rep.settlement_ids) == [mine]
        assert (
            _code(stubs.settlement.Reverse, pb.ReverseRequest(settlement_id=theirs, request_id="steal"), metadata=md)
            == grpc.StatusCode.NOT_FOUND
        )
    for h, md in ((HOSPITAL_A, A), (HOSPITAL_B, B)):
        got = stubs.settlement.GetSettlement(pb.GetSettlementRequest(settlement_id=own[h].settlement_id), metadata=md)
        assert got.settlement.status == pb.SETTLEMENT_STATUS_SETTLED  # the other's reversal attempt changed nothing
        rev = stubs.settlement.Reverse(
            pb.ReverseRequest(settlement_id=own[h].settlement_id, request_id="undo"), metadata=md
        )
        assert rev.status == pb.SETTLEMENT_STATUS_REVERSED


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(
    subject: str, key: Any, issuer: tuple[str, Any] | None, *, ca: bool = False, san: str = ""
) -> x509.Certificate:
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(obj: Any) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return bytes(
        obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, bytes]:
    """A CA, a server certificate for localhost and client certificates (CN = hospital code)."""
    ca_key, rogue_key = _key(), _key()
    ca = _cert("onestop test CA", ca_key, None, ca=True)
    rogue = _cert("rogue CA", rogue_key, None, ca=True)
    srv_key, a_key, r_key = _key(), _key(), _key()
    out = {
        "ca": _pem(ca),
        "server": _pem(_cert("localhost", srv_key, ("onestop test CA", ca_key), san="localhost")),
        "server_key": _pem(srv_key),
        "client_a": _pem(_cert(HOSPITAL_A, a_key, ("onestop test CA", ca_key))),
        "client_a_key": _pem(a_key),
        "client_rogue": _pem(_cert(HOSPITAL_B, r_key, ("rogue CA", rogue_key))),
        "client_rogue_key": _pem(r_key),
        "rogue_ca": _pem(rogue),
    }
    for name, data in out.items():
        (tmp_path / f"{name}.pem").write_bytes(data)
    return out


def _tls_stubs(port: int, pki: dict[str, bytes], client: str | None) -> Stubs:
    creds = grpc.ssl_channel_credentials(
        root_certificates=pki["ca"],
        private_key=pki[f"{client}_key"] if client else None,
        certificate_chain=pki[client] if client else None,
    )
    return Stubs(grpc.secure_channel(f"localhost:{port}", creds))


def test_mtls_client_certificate_identifies_the_hospital(start: Any, pki: dict[str, bytes], tmp_path: Path) -> None:
    """With mTLS the client certificate's CN is the hospital; no certificate or a foreign CA gets nothing."""
    server, _ = start(
        tls_cert=tmp_path / "server.pem", tls_key=tmp_path / "server_key.pem", client_ca=tmp_path / "ca.pem"
    )
    good = _tls_stubs(server.port, pki, "client_a")
    assert good.settlement.Ping(pb.PingRequest(), timeout=10).hospital_code == HOSPITAL_A
    out = good.settlement.Settle(pb.SettleRequest(request_id="m", bill=bill_msg()), timeout=30)
    assert out.status == pb.SETTLEMENT_STATUS_SETTLED
    for client in (None, "client_rogue"):
        bad = _tls_stubs(server.port, pki, client)
        assert _code(bad.settlement.Ping, pb.PingRequest(), timeout=10) == grpc.StatusCode.UNAVAILABLE
        bad.channel.close()
    good.channel.close()


def test_refusals_name_the_reason_and_carry_chinese_text(start: Any) -> None:
    """An unauthenticated call carries ErrorInfo UNAUTHENTICATED and a zh-CN LocalizedMessage."""
    _, stubs = start()
    with pytest.raises(grpc.RpcError) as err:
        stubs.settlement.Ping(pb.PingRequest())
    d = details(err.value)
    assert d["ErrorInfo"].reason == "UNAUTHENTICATED"
    assert d["ErrorInfo"].domain == "onestop.v1"
    assert d["LocalizedMessage"].locale == "zh-CN"
    assert d["LocalizedMessage"].message == "身份认证失败"
