"""``onestop serve`` as a real subprocess for the reliability suite: start, drive over gRPC, kill, restart.

The commercial payer is the direct-pay adapter talking HTTP to a :class:`FakeDirectPayServer` that
lives in the test process, so the payer's ledger (confirms and money paid per order) survives every
kill of the gateway and tells whether a leg was sent twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import json_format

from onestop.v1 import bill_pb2, settlement_service_pb2, settlement_service_pb2_grpc

pb = settlement_service_pb2
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "bills"
HOSPITAL = "H22010100001"
MD = (("x-onestop-hospital", HOSPITAL),)
#: The data key the served gateways seal personal data with (base64 of 32 bytes; a test fixture).
DATA_KEY = "cmVsaWFiaWxpdHktZGF0YS1rZXktMDEyMzQ1Njc4OWE="
PG_ADMIN_URL = os.environ.get("ONESTOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START_TIMEOUT_S = 60.0


def bill_doc(k: int, tag: str, name: str = "inpatient_car_t_huiminbao.json") -> dict[str, Any]:
    """Example bill ``name`` made unique by ``(tag, k)``: its own patient and visit."""
    doc: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    doc["hospital"]["code"] = HOSPITAL
    doc["patient"]["psn_no"] = f"P{tag}{k:05d}"
    doc["visit"]["mdtrt_id"] = f"M{tag}{k:05d}"
    return doc


def bill_msg(doc: dict[str, Any]) -> Any:
    """A bill document as an ``onestop.v1.Bill``."""
    return json_format.ParseDict(doc, bill_pb2.Bill())


def canonical(answer: Any) -> bytes:
    """An answer's bytes with ``replayed`` cleared: the flag is the one field a replay must change."""
    copy = type(answer)()
    copy.CopyFrom(answer)
    if copy.DESCRIPTOR.fields_by_name.get("replayed") is not None:
        copy.replayed = False
    data: bytes = copy.SerializeToString(deterministic=True)
    return data


@dataclass
class Served:
    """A running ``onestop serve`` subprocess and a channel to it."""

    proc: subprocess.Popen[str]
    target: str
    log: Path
    channel: grpc.Channel = field(init=False)
    stub: Any = field(init=False)

    def __post_init__(self) -> None:
        self.channel = grpc.insecure_channel(self.target)
        self.stub = settlement_service_pb2_grpc.SettlementServiceStub(self.channel)

    def settle(self, request_id: str, bill: Any, timeout: float = 30.0) -> Any:
        """Settle over gRPC (raises ``grpc.RpcError``)."""
        return self.stub.Settle(pb.SettleRequest(request_id=request_id, bill=bill), metadata=MD, timeout=timeout)

    def reverse(self, settlement_id: str, request_id: str, timeout: float = 30.0) -> Any:
        """Reverse over gRPC (raises ``grpc.RpcError``)."""
        return self.stub.Reverse(
            pb.ReverseRequest(settlement_id=settlement_id, request_id=request_id), metadata=MD, timeout=timeout
        )

    def wait_killed(self, timeout: float = 30.0) -> int:
        """Wait for the process to end and return its exit status (``-9`` after SIGKILL)."""
        self.channel.close()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return 0
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and close the channel."""
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def server_log(self) -> str:
        """The tail of the server's stderr (for failure messages)."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
        except OSError:
            return ""


def write_settings(directory: Path, insurer_url: str, app_id: str, secret: str) -> Path:
    """A serve settings file with ``huiminbao`` served by the direct-pay adapter at ``insurer_url``."""
    path = directory / "serve.yaml"
    doc = {
        "insurers": {
            "huiminbao": {
                "adapter": "directpay",
                "config": {"base_url": insurer_url, "app_id": app_id, "app_secret": secret, "timeout_s": 2.0},
            }
        }
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def serve(
    directory: Path,
    database_url: str,
    settings: Path | None,
    *,
    crash_at: str = "",
    workers: int = 1,
    port: int = 0,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> Served:
    """Start ``onestop serve --dev`` on a free port; ``crash_at`` sets ``ONESTOP_CRASH_AT``.

    Raises:
        RuntimeError: The server did not announce that it listens (its log is in the message).
    """
    exe = Path(sys.executable).parent / "onestop"
    log = directory / f"serve-{uuid.uuid4().hex[:8]}.log"
    env = {k: v for k, v in os.environ.items() if k != "ONESTOP_CRASH_AT"}
    env.update({"ONESTOP_DATA_KEY": DATA_KEY, "ONESTOP_PSEUDONYM_KEY": "reliability-pseudonyms"})
    if crash_at:
        env["ONESTOP_CRASH_AT"] = crash_at
    env.update(extra_env or {})
    cmd = [str(exe), "serve", "--dev", "--port", str(port), "--workers", str(workers), "--database-url", database_url]
    cmd += ["--log-level", "warning", *extra_args]
    if settings is not None:
        cmd += ["--config", str(settings)]
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, cwd=directory, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        proc.wait(10)
        raise RuntimeError(f"onestop serve did not start: {line!r}\n{log.read_text(errors='replace')[-3000:]}")
    return Served(proc, line.split("listening on ", 1)[1].split(" ", 1)[0], log)


@contextlib.contextmanager
def serving(directory: Path, database_url: str, settings: Path | None, **kw: Any) -> Iterator[Served]:
    """:func:`serve` for a ``with`` block (stopped at exit)."""
    s = serve(directory, database_url, settings, **kw)
    try:
        yield s
    finally:
        s.stop()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (several workers cannot share port 0)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fresh_pg_database(*, skip: bool = True) -> tuple[str, Any]:
    """A new PostgreSQL database on the test server: (url, drop function).

    Args:
        skip: When the server is unreachable, skip the test (else raise ``ConnectionError``).
    """
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"onestop_rel_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server: the PostgreSQL half is skipped, loudly
        admin.dispose()
        if not skip:
            raise ConnectionError(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__})") from None
        import pytest

        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}); set ONESTOP_TEST_PG_URL")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop
