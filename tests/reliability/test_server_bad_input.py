"""Bad input through the real server: ``broken_bills()`` over gRPC to ``onestop serve``.

Every broken bill the wire can carry is answered INVALID_ARGUMENT (or FAILED_PRECONDITION for a
state the bill cannot be settled in) with a ``BadRequest`` naming each offending field — the same
fields the in-process validator names for the document the server receives, and every planted
fault whose value reached the server unchanged. Never INTERNAL, never a settlement stored. Faults
protobuf itself cannot carry (a float in an integer field, an unknown field) are refused by the
client library before sending and are counted apart.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, note, settings
from reliability.invalid_bills import Broken, broken_bills, expected_paths, matches
from reliability.profile import FULL, size
from reliability.serve_harness import HOSPITAL, ROOT, Served, fresh_pg_database, serve
from sqlalchemy import create_engine, text

from onestop.domain import parse_bill_json
from onestop.errors import InvalidRequest
from onestop.gateway.convert import doc_from_proto
from onestop.v1 import bill_pb2

pytestmark = [pytest.mark.slow] if FULL else []

REFUSALS = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION}
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bad_input_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One ``onestop serve`` per backend for the whole module, plus its database URL and counters."""
    tmp: Path = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'gw.db'}"
    else:
        url, drop = fresh_pg_database()
    s = serve(tmp, url, None)
    stats: Counter[str] = Counter()
    try:
        yield request.param, s, url, stats
    finally:
        s.stop()
        if drop is not None:
            drop()
    print(f"bad input through the server ({request.param}): {dict(stats)}")


def _at(doc: Any, dotted: str) -> Any:
    node = doc
    for name, index in _STEP.findall(dotted):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return node


def _violations(err: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None, f"{err.code()} without rich status details: {err.details()}"
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            return [v.field.removeprefix("bill.") for v in bad.field_violations]
    pytest.fail(f"{err.code()} without BadRequest: {err.details()}")


@settings(
    max_examples=size(150, 2_000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(broken=broken_bills())
def test_broken_bills_over_grpc_are_refused_naming_each_field(broken: Broken, bad_input_server: Any) -> None:
    """INVALID_ARGUMENT/FAILED_PRECONDITION with BadRequest naming each field; never INTERNAL; nothing stored."""
    backend, s, _url, stats = bad_input_server
    s_: Served = s
    try:
        msg = json_format.ParseDict(json.loads(broken.text), bill_pb2.Bill())
    except (json_format.ParseError, ValueError, TypeError):
        stats["refused by protobuf at the client"] += 1
        return
    received = doc_from_proto(msg)
    try:
        parse_bill_json(json.dumps(received, ensure_ascii=False))
    except InvalidRequest as exc:
        reference = {v.field for v in exc.violations}
    else:
        stats["made valid by the wire (not sent)"] += 1
        return
    stats["sent"] += 1
    with pytest.raises(grpc.RpcError) as info:
        s_.settle(f"bad-{stats['sent']}", msg)
    err = info.value
    assert err.code() in REFUSALS, f"{backend}: {err.code()} {err.details()}"
    named = _violations(err)
    note(f"named: {named}; reference: {sorted(reference)}")
    assert named, "a refusal must name at least one field"
    assert set(named) == reference, f"server named {named}, the validator names {sorted(reference)}"
    required, _conditional = expected_paths(broken)
    for path in required:
        planted = _at(broken.doc, path)
        arrived = _at(received, path)
        # Type-strict: 1000.0 planted in an integer field arrives as 1000, which is no longer the fault.
        if planted is not _MISSING and type(planted) is type(arrived) and planted == arrived:
            assert any(matches(r, path) for r in named), f"planted fault {path} not named in {named}"


def test_nothing_was_stored_for_any_refused_bill(bad_input_server: Any) -> None:
    """After every refusal above, the database holds no settlement and no idempotency key."""
    backend, _s, url, stats = bad_input_server
    if not stats["sent"]:
        pytest.skip("runs after the property test of the same backend")
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            settlements = conn.execute(text("SELECT COUNT(*) FROM settlements")).scalar_one()
            keys = conn.execute(text("SELECT COUNT(*) FROM idempotency_keys")).scalar_one()
    finally:
        eng.dispose()
    assert (settlements, keys) == (0, 0), f"{backend}: refused requests left rows behind"


def test_a_bill_with_hundreds_of_bad_lines_is_still_refused_readably(bad_input_server: Any) -> None:
    """300 lines with quantity 0: INVALID_ARGUMENT with a BadRequest the client can read, whatever its size."""
    _backend, s, _url, _stats = bad_input_server
    doc = json.loads((ROOT / "examples" / "bills" / "outpatient_b_class.json").read_text(encoding="utf-8"))
    doc["hospital"]["code"] = HOSPITAL
    doc["lines"] = [dict(doc["lines"][0], feedetl_sn=f"{i:04d}", quantity="0") for i in range(300)]
    with pytest.raises(grpc.RpcError) as info:
        s.settle("many-bad-lines", json_format.ParseDict(doc, bill_pb2.Bill()))
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
    shown = _violations(info.value)
    assert shown, "no violation shown"
    assert all(v.startswith("lines[") for v in shown), shown
