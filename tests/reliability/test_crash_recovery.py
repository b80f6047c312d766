"""Crash recovery of ``onestop serve``: SIGKILL at each crash point, restart, replay every request_id.

A server subprocess runs with ``ONESTOP_CRASH_AT=<point>:<n>`` and is driven over real gRPC (settle,
and reverse of what settled) until it dies by SIGKILL at the n-th hit of the point. A new server on
the same database then receives every request again, in order. The promises:

* every answer the client already had is replayed identical, byte for byte (``replayed`` aside);
* the request in flight when the server died gets a terminal answer (recovery on open finished it);
* no payer leg was sent twice: the insurer confirmed each order at most once, and what it holds
  paid per order is exactly what the final answers say (0 once reversed); nothing is paid that no
  answer shows;
* every settlement row is terminal; SQLite's ``PRAGMA integrity_check`` is ``ok``.

ci: two kills per crash point and backend; full (``make proof``): 50 per point, 200 per backend.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from reliability.profile import FULL, size
from reliability.serve_harness import Served, bill_doc, bill_msg, canonical, serve, write_settings
from sqlalchemy import create_engine, text

from onestop.v1 import settlement_service_pb2 as pb

# In the full profile (make proof: -m slow) the same tests run at full counts.
pytestmark = [pytest.mark.slow] if FULL else []

POINTS = ("before_commit", "after_commit", "in_adapter_call", "during_reversal")
KILLS_PER_POINT = size(2, 50)
STEPS = 6  # settlements driven per server life: enough to reach the n-th hit (n ≤ 3) of any point
TERMINAL = {pb.SETTLEMENT_STATUS_SETTLED, pb.SETTLEMENT_STATUS_FAILED, pb.SETTLEMENT_STATUS_REVERSED}


@dataclass
class Sent:
    """One request the client sent, and the answer it received before the crash (if any)."""

    kind: str
    request_id: str
    bill: Any = None
    settlement_id: str = ""
    answer: Any = None


def _drive(s: Served, tag: str, reverse_every: bool) -> tuple[list[Sent], bool]:
    """Settle (and reverse) until the server dies; returns what was sent and whether it died."""
    sent: list[Sent] = []
    for j in range(STEPS):
        rec = Sent("settle", f"{tag}-s{j}", bill=bill_msg(bill_doc(j, tag)))
        sent.append(rec)
        try:
            rec.answer = s.settle(rec.request_id, rec.bill)
        except grpc.RpcError as exc:
            if exc.code() is grpc.StatusCode.UNAVAILABLE:
                return sent, True
            raise
        if rec.answer.status == pb.SETTLEMENT_STATUS_SETTLED and (reverse_every or j % 2):
            rev = Sent("reverse", f"{tag}-r{j}", settlement_id=rec.answer.settlement_id)
            sent.append(rev)
            try:
                rev.answer = s.reverse(rev.settlement_id, rev.request_id)
            except grpc.RpcError as exc:
                if exc.code() is grpc.StatusCode.UNAVAILABLE:
                    return sent, True
                raise
    return sent, False


def _replay(s: Served, sent: list[Sent]) -> list[tuple[Sent, Any]]:
    out = []
    for rec in sent:
        if rec.kind == "settle":
            again = s.settle(rec.request_id, rec.bill)
        else:
            again = s.reverse(rec.settlement_id, rec.request_id)
        out.append((rec, again))
    return out


def _commercial(legs: Any) -> list[Any]:
    return [leg for leg in legs if leg.kind == pb.LEG_KIND_COMMERCIAL]


def _check_kill(replayed: list[tuple[Sent, Any]], insurer: Any, held: dict[str, int], where: str) -> None:
    """Check one kill's replay; ``held`` (reference → paid as the final answers say) spans every kill."""
    for rec, again in replayed:
        if rec.answer is not None:
            assert canonical(again) == canonical(rec.answer), f"{where}: {rec.request_id} replayed differently"
            assert again.replayed, f"{where}: {rec.request_id} was executed again, not replayed"
        if rec.kind == "settle":
            assert again.status in TERMINAL, f"{where}: {rec.request_id} left {pb.SettlementStatus.Name(again.status)}"
            for leg in _commercial(again.legs):
                held[leg.reference] = leg.paid_fen
        else:
            for leg in _commercial(again.legs):
                if leg.status == pb.LEG_STATUS_REVERSED or leg.status == pb.LEG_STATUS_CANCELLED:
                    held[leg.reference] = 0
    for ref, n in insurer.state.confirms.items():
        assert n <= 1, f"{where}: the insurer confirmed order {ref} {n} times"
    for ref, paid in insurer.state.paid_out.items():
        if paid:
            assert ref in held, f"{where}: the insurer paid {paid} fen on {ref}, which no answer shows"
    for ref, paid in held.items():
        assert insurer.state.paid_out.get(ref, 0) == paid, (
            f"{where}: answers say {paid} fen stands on {ref}, the insurer holds {insurer.state.paid_out.get(ref, 0)}"
        )


def _check_database(url: str, where: str) -> None:
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            if url.startswith("sqlite"):
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok", where
            open_rows = conn.execute(text("SELECT request_id, status FROM settlements WHERE status = 'pending'")).all()
            assert not open_rows, f"{where}: settlements left pending: {open_rows}"
            dup = conn.execute(
                text("SELECT request_id FROM settlements GROUP BY hospital_code, request_id HAVING COUNT(*) > 1")
            ).all()
            assert not dup, f"{where}: one request stored twice: {dup}"
            queued = conn.execute(text("SELECT reference, reason FROM resolver_queue")).all()
            assert all(r.reason for r in queued), f"{where}: resolver entries without a reason: {queued}"
    finally:
        eng.dispose()


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.timeout(3600 if FULL else 600)
def test_sigkill_at_a_crash_point_then_restart_replays_every_request(point, backend, insurer, tmp_path: Path):
    """SIGKILL at the point, restart, replay every request_id: same answers, no leg twice, nothing open."""
    name, url = backend
    settings = write_settings(tmp_path, insurer.url, insurer.app_id, insurer.secret)
    rng = random.Random(f"{point}-{name}")
    held: dict[str, int] = {}
    for kill in range(KILLS_PER_POINT):
        tag = f"{point[:2]}{kill}x{rng.randrange(10**6)}"
        nth = rng.randint(1, 3)
        where = f"{name} {point}:{nth} kill {kill}"
        s = serve(tmp_path, url, settings, crash_at=f"{point}:{nth}")
        try:
            sent, died = _drive(s, tag, reverse_every=point == "during_reversal")
        finally:
            status = s.wait_killed()
        assert died, f"{where}: the crash point was never reached\n{s.server_log()}"
        assert status == -9, f"{where}: the server ended with {status}, not SIGKILL\n{s.server_log()}"
        restarted = serve(tmp_path, url, settings)
        try:
            replayed = _replay(restarted, sent)
        finally:
            restarted.stop()
        _check_kill(replayed, insurer, held, where)
    _check_database(url, f"{name} {point}")
