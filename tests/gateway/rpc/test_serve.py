"""``onestop serve`` as a real process: the example client runs against it; logs hold no personal data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from gateway.rpc.gwrpc_helpers import EXAMPLES

from onestop.v1 import settlement_service_pb2 as pb
from onestop.v1 import settlement_service_pb2_grpc

ROOT = Path(__file__).resolve().parents[3]
ONESTOP = Path(sys.executable).parent / "onestop"


class Served:
    """A running ``onestop serve`` subprocess."""

    def __init__(self, proc: subprocess.Popen[str], target: str, log: Path) -> None:
        self.proc = proc
        self.target = target
        self.log = log

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    """Start ``onestop serve`` with the settings ``make run`` uses (examples/gateway/dev.yaml: dev mode, the real
    huiminbao adapter) on a free port with SQLite in tmp; wait for its listening line."""
    procs: list[subprocess.Popen[str]] = []
    logs: list[Any] = []

    def _serve(*extra: str) -> Served:
        log = tmp_path / f"serve-{len(procs)}.log"
        env = {**os.environ, "ONESTOP_DATA_DIR": str(tmp_path)}
        sink = log.open("w")
        logs.append(sink)
        proc = subprocess.Popen(
            [
                str(ONESTOP),
                "serve",
                "--config",
                str(ROOT / "examples" / "gateway" / "dev.yaml"),
                "--port",
                "0",
                "--database-url",
                f"sqlite:///{tmp_path / 'gw.db'}",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, log.read_text()
        target = line.split("listening on ", 1)[1].split(" ", 1)[0]
        return Served(proc, target, log)

    yield _serve
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
        if p.stdout is not None:
            p.stdout.close()
    for sink in logs:
        sink.close()


def _personal_data() -> set[str]:
    out = set()
    for path in EXAMPLES.glob("*.json"):
        p = json.loads(path.read_text(encoding="utf-8"))["patient"]
        out |= {p["name"], p["cert_no"], p["psn_no"]}
    return out


def test_example_client_settles_and_reverses_against_onestop_serve(serve: object) -> None:
    """The cashier example settles (a)(b)(c) and reverses against a real server; logs carry no personal data."""
    served = serve()  # type: ignore[operator]
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "client" / "cashier.py"), "--target", served.target],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr + served.log.read_text(encoding="utf-8")
    out = run.stdout
    assert out.count("患者现金支付") == 3
    assert "CIDL" in out
    assert "目录外" in out
    assert "工伤基金" in out
    assert "商保 huiminbao" in out
    # The real adapter under heilongjiang-upgraded-2025: the CAR-T liability is capped at its sum insured.
    assert "支付 1000000.00" in out
    assert "CAP_REACHED" in out
    assert "状态 REVERSED" in out
    assert served.stop() == 0
    log = served.log.read_text(encoding="utf-8")
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any("DEVELOPMENT MODE" in r["event"] for r in records if r["level"] == "warning")
    settles = [r for r in records if r.get("rpc") == "Settle" and r["event"] == "rpc"]
    assert len(settles) == 3
    assert all(r["request_id"] and r["settlement_id"] and r["hospital"] for r in settles)
    leaked = [secret for secret in _personal_data() if secret in log]
    assert not leaked


def test_two_workers_serve_one_port(serve: object) -> None:
    """``--workers 2`` starts two processes on one port; connections reach both."""
    served = serve("--workers", "2")  # type: ignore[operator]
    for i in range(24):
        with grpc.insecure_channel(served.target, options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
            stub = settlement_service_pb2_grpc.SettlementServiceStub(ch)
            stub.Ping(pb.PingRequest(), metadata=(("x-onestop-hospital", f"H{i}"),), timeout=30)
    time.sleep(0.2)
    assert served.stop() == 0
    workers = {
        json.loads(line).get("worker")
        for line in served.log.read_text(encoding="utf-8").splitlines()
        if line.startswith("{") and '"rpc": "Ping"' in line
    }
    assert workers == {0, 1}
