"""Many concurrent Settle calls with one key against a real ``onestop serve``: exactly one execution.

Threads on their own gRPC channels send the same request at the same moment to a server with two
worker processes (so the duplicates race across processes, not only threads). One execution means:
one stored settlement, one confirmed order at the insurer, every successful answer byte-identical
(``replayed`` aside), and exactly one of them not a replay. A duplicate that arrives while the first
is still running may be told to retry (``ABORTED``/``UNAVAILABLE``) — never executed a second time.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import grpc
import pytest
from reliability.profile import FULL, size
from reliability.serve_harness import MD, bill_doc, bill_msg, canonical, serving, write_settings
from sqlalchemy import create_engine, text

from onestop.v1 import settlement_service_pb2 as pb
from onestop.v1 import settlement_service_pb2_grpc

# In the full profile (make proof: -m slow) the same tests run at full counts.
pytestmark = [pytest.mark.slow] if FULL else []

THREADS = size(16, 32)
KEYS = size(3, 20)
RETRYABLE = {grpc.StatusCode.ABORTED, grpc.StatusCode.UNAVAILABLE}


def _race(target: str, request_id: str, bill: Any) -> list[Any]:
    """``THREADS`` callers released together on one key; each retries a retryable refusal."""
    gate = threading.Barrier(THREADS)
    results: list[Any] = []
    lock = threading.Lock()

    def call() -> None:
        channel = grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        stub = settlement_service_pb2_grpc.SettlementServiceStub(channel)
        req = pb.SettleRequest(request_id=request_id, bill=bill)
        try:
            grpc.channel_ready_future(channel).result(timeout=30)
            gate.wait(timeout=60)
            out: Any = None
            for _ in range(50):
                try:
                    out = stub.Settle(req, metadata=MD, timeout=60)
                    break
                except grpc.RpcError as exc:
                    if exc.code() not in RETRYABLE:
                        out = exc
                        break
                    out = exc
        finally:
            channel.close()
        with lock:
            results.append(out)

    threads = [threading.Thread(target=call) for _ in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return results


def test_one_key_from_many_threads_executes_once(backend, insurer, tmp_path: Path):
    """Same request_id from many threads and two worker processes: one settlement, one payer confirm."""
    name, url = backend
    settings = write_settings(tmp_path, insurer.url, insurer.app_id, insurer.secret)
    with serving(tmp_path, url, settings, workers=2) as s:
        for k in range(KEYS):
            bill = bill_msg(bill_doc(k, f"cc{name[:2]}"))
            results = _race(s.target, f"same-key-{k}", bill)
            errors = [r for r in results if isinstance(r, grpc.RpcError)]
            assert not errors, f"{name}: {[(e.code(), e.details()) for e in errors]}"
            assert len(results) == THREADS
            assert len({canonical(r) for r in results}) == 1, f"{name}: answers differ for one key"
            assert sum(1 for r in results if not r.replayed) == 1, f"{name}: executed more than once"
            assert results[0].status == pb.SETTLEMENT_STATUS_SETTLED
    confirms = insurer.state.confirms
    assert len(confirms) == KEYS, f"{name}: {len(confirms)} orders for {KEYS} keys"
    assert all(n == 1 for n in confirms.values()), f"{name}: an order was confirmed twice: {confirms}"
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            rows = conn.execute(text("SELECT request_id, COUNT(*) AS n FROM settlements GROUP BY request_id")).all()
    finally:
        eng.dispose()
    assert sorted(r.request_id for r in rows) == sorted(f"same-key-{k}" for k in range(KEYS))
    assert all(r.n == 1 for r in rows)
