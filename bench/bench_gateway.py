"""Gateway throughput and latency over real gRPC, as ratios to a no-op RPC on the same server in the same run.

Pinned configuration: ``onestop serve`` (separate process) with the local engine, the in-process example
insurer and durable SQLite, authenticated by the development header (same cost on every RPC). The load
client is several Python processes, each sending one request at a time with a unique request id (and a
unique patient, so no two settlements wait on the same person's accumulators).

Figures, for ``--workers 1`` and ``--workers 2``:

* saturation throughput of ``Ping`` (no-op baseline), ``Settle`` of a 10-line outpatient bill and of a
  500-line inpatient bill; Settle as a ratio to Ping;
* p50/p99 latency of each Settle at 25% of its own saturation throughput (open loop, paced sends);
* where one Settle's time goes, in process on the same configuration (median ms): reading the request
  (validation and fingerprint), the gateway service (pricing, storage, commit), writing the answer, and
  the engine alone on the same bill for comparison.

Goal: 10-line Settle >= 25% of Ping (stretch 40%); p99 <= 10 ms at 25% load.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from onestop.catalog import fixture_samples
from onestop.engine.synthetic import ItemTemplate, synthetic_bill_doc

HOSPITAL = {"code": "H22010100001", "tier": "市属三级", "region": "220100", "group": "JL-GROUP-FX1"}
PATIENT = {
    "psn_no": "BENCH0001",
    "cert_type": "02",
    "cert_no": "220102198001011234",
    "name": "测试",
    "insutype": "310",
    "psn_type": "11",
    "age": 50,
    "sex": "1",
    "insured_region": "220100",
}
MD = (("x-onestop-hospital", HOSPITAL["code"]),)


def _items() -> list[ItemTemplate]:
    items = [
        ItemTemplate(s.national_code, s.name, s.category, 50, 60_000, s.dosage_form, s.spec)
        for s in fixture_samples()
        if s.national_code
    ]
    items.append(ItemTemplate("", "院内自制检查(目录外)", "03", 1_000, 30_000))
    return items


def _bills() -> dict[str, dict[str, Any]]:
    items = _items()
    out = synthetic_bill_doc(
        random.Random(10), 10, items, hospital=HOSPITAL, patient=PATIENT, med_type="11", los_days=0
    )
    inp = synthetic_bill_doc(
        random.Random(500),
        500,
        items,
        hospital=HOSPITAL,
        patient=PATIENT,
        los_days=8,
        coverages=[{"payer": "huiminbao", "product": "bench", "policy_no": "P1"}],
    )
    return {"settle10": out, "settle500": inp}


def _client(
    kind: str, bill_doc: dict[str, Any] | None, target: str, start_at: float, stop_at: float, rate: float, q: Any
) -> None:
    """One load process: closed loop (rate 0) or paced open loop at ``rate`` calls per second.

    It connects and warms its channel with one Ping, then waits for ``start_at`` so that every process
    sends in the same window; calls are sent until ``stop_at``.
    """
    import grpc
    from google.protobuf import json_format

    from onestop.v1 import bill_pb2, settlement_service_pb2, settlement_service_pb2_grpc

    pb = settlement_service_pb2
    channel = grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
    stub = settlement_service_pb2_grpc.SettlementServiceStub(channel)
    bill = json_format.ParseDict(bill_doc, bill_pb2.Bill()) if bill_doc else None
    tag = uuid.uuid4().hex[:10]
    lat: list[float] = []
    errors = 0
    n = 0
    stub.Ping(pb.PingRequest(), metadata=MD, timeout=30)
    time.sleep(max(0.0, start_at - time.perf_counter()))
    next_at = time.perf_counter() + random.random() / rate if rate else 0.0
    while True:
        t0 = time.perf_counter()
        if rate:
            if next_at > t0:
                time.sleep(next_at - t0)
            # Latency counts from when the call was due, so a call held up behind a slow one is charged
            # the wait (an open loop that timed from the actual send would hide queueing).
            t0 = next_at
            next_at += 1 / rate
        if t0 >= stop_at:
            break
        try:
            if bill is None:
                stub.Ping(pb.PingRequest(), metadata=MD, timeout=30)
            else:
                bill.patient.psn_no = f"B{tag}{n}"
                bill.visit.mdtrt_id = f"M{tag}{n}"
                stub.Settle(pb.SettleRequest(request_id=f"{tag}-{n}", bill=bill), metadata=MD, timeout=30)
        except grpc.RpcError:
            errors += 1
        lat.append(time.perf_counter() - t0)
        n += 1
    channel.close()
    q.put((len(lat), errors, lat))


def _load(
    kind: str, bill: dict[str, Any] | None, target: str, procs: int, seconds: float, rate: float = 0.0
) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    start_at = time.perf_counter() + 3.0  # let every process start, import and connect first
    per = rate / procs if rate else 0.0
    ps = [
        ctx.Process(target=_client, args=(kind, bill, target, start_at, start_at + seconds, per, q))
        for _ in range(procs)
    ]
    for p in ps:
        p.start()
    results = [q.get(timeout=seconds + 120) for _ in ps]
    for p in ps:
        p.join(30)
    lat = sorted(x for r in results for x in r[2])
    count = sum(r[0] for r in results)
    # Every client sends only inside [start_at, start_at + seconds): the count is of that window.
    return {
        "rps": count / seconds,
        "errors": sum(r[1] for r in results),
        "p50_ms": lat[len(lat) // 2] * 1000 if lat else None,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else None,
    }


def _serve(workers: int, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).parent / "onestop"
    proc = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--dev",
            "--port",
            "0",
            "--workers",
            str(workers),
            "--database-url",
            f"sqlite:///{tmp / f'bench-{workers}.db'}",
            "--log-level",
            "warning",
            "--example-insurer",
            "huiminbao",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp,
        env={**os.environ, "ONESTOP_DATA_DIR": str(tmp)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"onestop serve did not start: {line!r}")
    return proc, line.split("listening on ", 1)[1].split(" ", 1)[0]


def _median_ms(samples: list[float]) -> float:
    return round(sorted(samples)[len(samples) // 2] * 1000, 3)


def _breakdown(tmp: Path, bills: dict[str, dict[str, Any]], profile: str) -> dict[str, float]:
    """Median ms of each part of one Settle, in process, with the served configuration (durable SQLite)."""
    import hashlib

    from google.protobuf import json_format

    from onestop.engine import settle
    from onestop.gateway import interceptors
    from onestop.gateway._base import Caller
    from onestop.gateway.convert import bill_fingerprint_bytes, bill_from_proto, to_dict
    from onestop.gateway.server import configure_logging, gateway_config
    from onestop.gateway.service import Gateway
    from onestop.gateway.settings import InsurerSpec, load_settings
    from onestop.v1 import bill_pb2, settlement_service_pb2

    configure_logging("error")  # the served process logs at warning; here nothing may reach the figures' stdout
    settings = load_settings(None, dev=True, port=0, database_url=f"sqlite:///{tmp / 'breakdown.db'}")
    insurer = InsurerSpec(adapter="example", config={"pay_ratio": "0.8"})
    settings = settings.model_copy(update={"insurers": {"huiminbao": insurer}})
    gw = Gateway.open(gateway_config(settings, data_dir=tmp))
    caller = Caller(HOSPITAL["code"])
    interceptors._caller.set(caller)
    desc = settlement_service_pb2.SettleResponse.DESCRIPTOR
    out: dict[str, float] = {}
    try:
        for kind, doc in bills.items():
            n = (200 if kind == "settle10" else 20) if profile == "full" else (40 if kind == "settle10" else 5)
            msg = json_format.ParseDict(doc, bill_pb2.Bill())
            parts: dict[str, list[float]] = {"read": [], "service": [], "answer": [], "engine_alone": []}
            for i in range(n + 2):  # the first two warm the caches
                msg.patient.psn_no = f"D{kind}{i}"
                msg.visit.mdtrt_id = f"D{kind}{i}"
                t0 = time.perf_counter()
                bill = bill_from_proto(msg, max_lines=settings.max_lines)
                fingerprint = hashlib.sha256(bill_fingerprint_bytes(msg)).digest()
                t1 = time.perf_counter()
                outcome = gw.settle(caller, f"d-{kind}-{i}", bill, fingerprint)
                t2 = time.perf_counter()
                settlement_service_pb2.SettleResponse(**to_dict(outcome, desc)).SerializeToString()
                t3 = time.perf_counter()
                policy = gw.config.policies(bill.patient.insured_region, bill.visit.discharge_date)
                t4 = time.perf_counter()
                settle(bill, gw.catalogs, policy, {})
                t5 = time.perf_counter()
                if i >= 2:
                    for name, dt_ in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t5 - t4), strict=True):
                        parts[name].append(dt_)
            for name, samples in parts.items():
                out[f"inproc_{kind}_{name}_ms"] = _median_ms(samples)
    finally:
        gw.close()
    return out


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


def run(profile: str = "full") -> dict[str, object]:
    seconds = 6.0 if profile == "full" else 2.0
    procs = max(4, 2 * (os.cpu_count() or 2))
    bills = _bills()
    out: dict[str, object] = {"client_processes": procs, "seconds_per_phase": seconds}
    with tempfile.TemporaryDirectory() as d:
        for workers in (1, 2):
            proc, target = _serve(workers, Path(d))
            try:
                w = f"w{workers}"
                ping = _load("ping", None, target, procs, seconds)
                out[f"{w}_ping_rps"] = round(ping["rps"])
                for kind in ("settle10", "settle500"):
                    sat = _load(kind, bills[kind], target, procs, seconds)
                    out[f"{w}_{kind}_rps"] = round(sat["rps"], 1)
                    out[f"{w}_{kind}_to_ping_ratio"] = round(sat["rps"] / ping["rps"], 3)
                    light = _load(kind, bills[kind], target, procs, seconds, rate=max(sat["rps"] * 0.25, 1.0))
                    out[f"{w}_{kind}_p50_ms_at_25pct"] = _r(light["p50_ms"])
                    out[f"{w}_{kind}_p99_ms_at_25pct"] = _r(light["p99_ms"])
                    out[f"{w}_{kind}_errors"] = sat["errors"] + light["errors"]
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                if proc.stdout is not None:
                    proc.stdout.close()
        out.update(_breakdown(Path(d), bills, profile))
    out["goal"] = "settle10 >= 0.25 x ping (stretch 0.40); p99 <= 10 ms at 25% load"
    return out


if __name__ == "__main__":
    json.dump(run(sys.argv[1] if len(sys.argv) > 1 else "full"), sys.stdout, indent=2)
    print()
