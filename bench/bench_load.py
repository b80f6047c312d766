"""Load benchmark of the reliability proof: the payer path in process, then ``onestop serve --workers 2``.

In-process leg — ratios to the engine alone settling the same seeded bills with in-process payers:

* ``sdk_path_ratio``: engine + InsurerCaller + Resolver + fund ChannelCaller, no faults;
* ``faults_30pct_ratio``: the same path with 30% of payer calls faulted, resolver passes included.

Server leg — ``onestop serve --dev --workers 2`` (local engine, in-process example insurer) on SQLite
and on PostgreSQL, driven by the gateway benchmark's multi-process client (unique request ids):

* saturation throughput of Ping (no-op), Settle 10 lines and Settle 500 lines; Settle as a ratio to Ping;
* p50/p99 at 50% of each one's own saturation (open loop, paced);
* server CPU per request (every server process, from /proc), as a ratio to Ping's;
* PostgreSQL throughput as a ratio to SQLite's;
* h2load (Debian ``nghttp2-client``) as the external HTTP/2 client: Ping, and an idempotent replay of
  one stored Settle; the replay as a ratio to Ping. Installed with apt-get when missing and run as root.

``python -m bench.bench_load [ci|full]`` prints the figures.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1] / "tests"


def _setup() -> tuple[object, object]:
    if str(_TESTS) not in sys.path:
        sys.path.insert(0, str(_TESTS))
    from onestop.catalog import default_catalogs
    from onestop.policy import policy_for

    return default_catalogs(), policy_for("990100", dt.date(2026, 3, 1))


def _engine_only(n: int, catalogs: object, policy: object) -> float:
    import random

    from reliability.saga import bill_doc

    from onestop.domain import AnswerStatus, CommercialAnswer, parse_bill_json
    from onestop.engine import settle

    def decline(offer: object) -> CommercialAnswer:
        o = offer  # an in-process payer that declines: the cheapest honest answer
        return CommercialAnswer(reference=o.reference, payer=o.payer, status=AnswerStatus.DECLINED)  # type: ignore[attr-defined]

    rng = random.Random(1)
    docs = [json.dumps(bill_doc(rng, 1, k)) for k in range(n)]
    t0 = time.perf_counter()
    for d in docs:
        settle(parse_bill_json(d), catalogs, policy, payers={"alpha": decline, "beta": decline})  # type: ignore[arg-type]
    return time.perf_counter() - t0


def _saga(n: int, rate: float, catalogs: object, policy: object) -> float:
    import structlog
    from reliability.saga import run

    from onestop.testing.faults import FaultPlan

    # Per-call log lines would measure the terminal, not the path; restored for the benchmarks after this one.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(50))
    try:
        t0 = time.perf_counter()
        run(1, n, FaultPlan(1, rate=rate), catalogs=catalogs, policy=policy, fund_plan=FaultPlan(2, rate=rate))
        return time.perf_counter() - t0
    finally:
        structlog.reset_defaults()


def _in_process(profile: str) -> dict[str, object]:
    n = 100 if profile == "ci" else 2_000
    catalogs, policy = _setup()
    base = _engine_only(n, catalogs, policy)
    sdk = _saga(n, 0.0, catalogs, policy)
    faults = _saga(n, 0.3, catalogs, policy)
    return {
        "settlements": n,
        "baseline_engine_ms_per_settlement": round(base / n * 1000, 3),
        "sdk_path_ratio": round(sdk / base, 2),
        "faults_30pct_ratio": round(faults / base, 2),
    }


def run(profile: str = "full") -> dict[str, object]:
    """Measure and return the figures (``ci``: small counts and 2 s phases; ``full``: 2,000 and 10 s)."""
    out = _in_process(profile)
    out.update(server_leg(profile))
    return out


# -- server leg ---------------------------------------------------------------------------------

_ROOT = Path(__file__).resolve().parents[1]
_SERVICE = "/onestop.v1.SettlementService"


def ensure_h2load() -> tuple[str | None, str]:
    """The h2load binary, installing Debian's ``nghttp2-client`` when missing and running as root.

    Returns:
        (path or None, a note saying what happened or why it is missing).
    """
    import os
    import shutil
    import subprocess

    path = shutil.which("h2load")
    if path:
        return path, ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "h2load not installed and not root: apt-get install nghttp2-client, then run again"
    install = ["apt-get", "install", "-y", "-q", "nghttp2-client"]
    # Install from the package lists present; refresh them once only if that fails.
    for steps in ([install], [["apt-get", "update", "-q"], install]):
        for cmd in steps:
            subprocess.run(cmd, capture_output=True, check=False, timeout=600)
        path = shutil.which("h2load")
        if path:
            return path, "installed nghttp2-client with apt-get"
    return None, "apt-get could not install nghttp2-client"


class ServerTree:
    """CPU seconds and resident memory of a server process and every process under it (from /proc)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def pids(self) -> list[int]:
        """The server and its descendants now."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def cpu_s(self) -> float:
        """User + system CPU seconds of the tree (processes alive now)."""
        import os

        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / tick

    def rss_mib(self) -> float:
        """Resident memory of the tree in MiB."""
        kib = 0
        for pid in self.pids():
            try:
                for row in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if row.startswith("VmRSS:"):
                        kib += int(row.split()[1])
            except OSError:
                continue
        return kib / 1024


def _grpc_frame(message: object) -> bytes:
    data: bytes = message.SerializeToString()  # type: ignore[attr-defined]
    return b"\x00" + len(data).to_bytes(4, "big") + data


def h2load_rps(h2load: str, target: str, method: str, body: bytes, seconds: float, tmp: Path) -> dict[str, float]:
    """Drive one unary gRPC method with h2load for ``seconds``: requests/s and the share that succeeded."""
    import re
    import subprocess

    payload = tmp / f"{method}.bin"
    payload.write_bytes(body)
    cmd = [
        h2load,
        "-c", "8", "-m", "16", "-t", "1",
        "-D", str(int(seconds)),
        "-d", str(payload),
        "-H", "content-type: application/grpc",
        "-H", "te: trailers",
        "-H", "x-onestop-hospital: H22010100001",
        f"http://{target}{_SERVICE}/{method}",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=seconds + 60)
    done = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded", proc.stdout)
    rate = re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", proc.stdout)
    if not (done and rate):
        raise RuntimeError(f"h2load gave no figures: {proc.stdout[-500:]} {proc.stderr[-500:]}")
    total = max(int(done.group(2)), 1)
    return {"rps": float(rate.group(1)), "ok_share": int(done.group(3)) / total}


def _phase(load: object, kind: str, bill: object, target: str, tree: ServerTree, seconds: float, rate: float = 0.0):
    procs = 4
    cpu0 = tree.cpu_s()
    res: dict[str, float] = load(kind, bill, target, procs, seconds, rate)  # type: ignore[operator]
    cpu = tree.cpu_s() - cpu0
    n = max(res["rps"] * seconds, 1.0)
    res["cpu_ms_per_request"] = cpu / n * 1000
    return res


def _one_backend(name: str, url: str, profile: str, tmp: Path, h2load: str | None) -> dict[str, object]:
    from reliability.serve_harness import free_port, serve

    from bench.bench_gateway import _bills, _load

    seconds = 10.0 if profile == "full" else 2.0
    bills = _bills()
    s = serve(tmp, url, None, workers=2, port=free_port(), extra_args=("--example-insurer", "huiminbao"))
    out: dict[str, object] = {}
    try:
        tree = ServerTree(s.proc.pid)
        ping = _phase(_load, "ping", None, s.target, tree, seconds)
        ping_half = _phase(_load, "ping", None, s.target, tree, seconds, rate=max(ping["rps"] * 0.5, 1.0))
        out[f"{name}_ping_rps"] = round(ping["rps"])
        out[f"{name}_ping_p50_ms_at_50pct"] = round(ping_half["p50_ms"], 2)
        out[f"{name}_ping_p99_ms_at_50pct"] = round(ping_half["p99_ms"], 2)
        out[f"{name}_ping_cpu_ms_per_request"] = round(ping["cpu_ms_per_request"], 3)
        for kind, label in (("settle10", "settle10"), ("settle500", "settle500")):
            sat = _phase(_load, kind, bills[kind], s.target, tree, seconds)
            half = _phase(_load, kind, bills[kind], s.target, tree, seconds, rate=max(sat["rps"] * 0.5, 1.0))
            out[f"{name}_{label}_rps"] = round(sat["rps"], 1)
            out[f"{name}_{label}_to_ping_ratio"] = round(sat["rps"] / ping["rps"], 4)
            out[f"{name}_{label}_p50_ms_at_50pct"] = round(half["p50_ms"], 2)
            out[f"{name}_{label}_p99_ms_at_50pct"] = round(half["p99_ms"], 2)
            out[f"{name}_{label}_cpu_ms_per_request"] = round(sat["cpu_ms_per_request"], 3)
            out[f"{name}_{label}_cpu_to_ping_ratio"] = round(sat["cpu_ms_per_request"] / ping["cpu_ms_per_request"], 2)
            out[f"{name}_{label}_errors"] = int(sat["errors"] + half["errors"])
        if h2load:
            out.update(_h2load_baselines(name, s, h2load, seconds, tmp, bills["settle10"]))
    finally:
        s.stop()
    return out


def _h2load_baselines(name: str, s: object, h2load: str, seconds: float, tmp: Path, bill_doc: object):
    from google.protobuf import json_format

    from onestop.v1 import bill_pb2, settlement_service_pb2

    bill = json_format.ParseDict(bill_doc, bill_pb2.Bill())
    req = settlement_service_pb2.SettleRequest(request_id="h2load-replay", bill=bill)
    first = s.settle(req.request_id, bill)  # type: ignore[attr-defined]
    again = s.settle(req.request_id, bill)  # type: ignore[attr-defined]
    if not again.replayed or first.settlement_id != again.settlement_id:
        raise RuntimeError("the replay baseline needs an idempotent replay")
    ping = h2load_rps(h2load, s.target, "Ping", _grpc_frame(settlement_service_pb2.PingRequest()), seconds, tmp)  # type: ignore[attr-defined]
    replay = h2load_rps(h2load, s.target, "Settle", _grpc_frame(req), seconds, tmp)  # type: ignore[attr-defined]
    return {
        f"{name}_h2load_ping_rps": round(ping["rps"]),
        f"{name}_h2load_replay_rps": round(replay["rps"]),
        f"{name}_h2load_replay_to_ping_ratio": round(replay["rps"] / ping["rps"], 3),
        f"{name}_h2load_http_ok_share": round(min(ping["ok_share"], replay["ok_share"]), 4),
    }


def server_leg(profile: str) -> dict[str, object]:
    """``onestop serve --workers 2`` on SQLite and PostgreSQL (skipped with a note when unreachable)."""
    import os
    import tempfile

    for extra in (str(_ROOT), str(_TESTS)):
        if extra not in sys.path:
            sys.path.insert(0, extra)
    from reliability.serve_harness import fresh_pg_database

    h2load, note = ensure_h2load()
    out: dict[str, object] = {"server_workers": 2, "client_processes": 4, "cores": os.cpu_count() or 0}
    if note:
        out["h2load_note"] = note
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        out.update(_one_backend("sqlite", f"sqlite:///{tmp / 'load.db'}", profile, tmp, h2load))
        try:
            url, drop = fresh_pg_database(skip=False)
        except ConnectionError as exc:
            out["postgres_note"] = f"skipped: {exc}"
            return out
        try:
            out.update(_one_backend("postgres", url, profile, tmp, h2load))
        finally:
            drop()
    for label in ("settle10", "settle500"):
        sq, pg = out.get(f"sqlite_{label}_rps"), out.get(f"postgres_{label}_rps")
        if isinstance(sq, float) and isinstance(pg, float) and sq:
            out[f"postgres_to_sqlite_{label}_ratio"] = round(pg / sq, 3)
    return out


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "full"), indent=2))
