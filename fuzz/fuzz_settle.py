"""Coverage-guided fuzzing of decode + validate + settle (atheris; reliability.md §6.19).

Every input is either refused with a typed onestop error (InvalidRequest naming at least one field,
NoEditionInForce, PolicyNotFound) or settles with every invariant of ``check_settlement`` holding.
Anything else — an uncaught exception, a refusal without a field, a broken invariant — is a crash.

Inputs are raw bytes (JSON as a hospital would send it; first byte 0 mod 4), a serialised
``onestop.v1.Bill`` as the gateway receives it over gRPC (first byte 2 mod 4: protobuf decode, then
the gateway's ``bill_from_proto``), or, when the first byte is odd, structured edits of a valid seed
bill (a field set to a fuzzed JSON value), so the parsers and the deeper validation and settlement
paths are all explored. Run::

    python fuzz/fuzz_settle.py -runs=100000          # make test runs a short one
    python fuzz/fuzz_settle.py -max_total_time=3600  # make proof runs a long one

Without atheris, ``python fuzz/fuzz_settle.py --hypothesis N`` drives the same target with
Hypothesis-generated inputs.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from typing import Any

try:
    import atheris
except ImportError:  # the Hypothesis fallback needs no atheris
    atheris = None


def _imports() -> None:
    global InvalidRequest, NoEditionInForce, PolicyNotFound, ResourceExhausted, check_settlement, default_catalogs
    global parse_bill_json, policy_for, settle, synthetic_bill_doc, ItemTemplate
    global DecodeError, bill_pb2, bill_from_proto, json_format
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError

    from onestop.catalog import default_catalogs
    from onestop.domain import parse_bill_json
    from onestop.engine import check_settlement, settle
    from onestop.engine.synthetic import ItemTemplate, synthetic_bill_doc
    from onestop.errors import InvalidRequest, NoEditionInForce, PolicyNotFound, ResourceExhausted
    from onestop.gateway.convert import bill_from_proto
    from onestop.policy import policy_for
    from onestop.v1 import bill_pb2


if atheris is not None:
    with atheris.instrument_imports(include=["onestop"]):
        _imports()
else:
    _imports()

_CATALOGS = default_catalogs()
_ITEMS = (
    ItemTemplate("XA03AFX0001000000000000", "匹维溴铵", "09", 50, 5_000, "口服常释剂型", "50mg"),
    ItemTemplate("XV09GFX0067000000000000", "锝[99mTc]替曲膦注射液", "09", 10_000, 60_000),
    ItemTemplate("ZZ-UNKNOWN", "自费项目", "14", 1, 200_000),
    ItemTemplate("ZZ-BED", "床位", "01", 2_000, 10_000),
)


def _seed_doc(k: int) -> dict[str, Any]:
    rng = random.Random(k)  # noqa: S311 - seeded test data, not cryptography
    coverages = [{"payer": "huiminbao", "product": "P1", "policy_no": "X1"}] if k % 3 == 0 else []
    return synthetic_bill_doc(
        rng,
        rng.randint(1, 5),
        _ITEMS,
        hospital={"code": "H0001", "tier": "三级", "region": "990100"},
        patient={
            "psn_no": "P1",
            "cert_type": "02",
            "cert_no": "c",
            "name": "n",
            "insutype": rng.choice(["310", "390"]),
            "psn_type": "11",
            "age": 40,
            "sex": "1",
            "insured_region": "990100",
        },
        med_type=rng.choice(["21", "11"]),
        admission=dt.date(2026, 3, 1),
        los_days=rng.randint(0, 5),
        coverages=coverages,
    )


SEEDS = [_seed_doc(k) for k in range(24)]


def _refused(exc: Any) -> None:
    if not exc.violations or not all(v.field for v in exc.violations):
        raise AssertionError(f"refusal without a named field: {exc!r}") from None


def check_one(data: bytes) -> None:
    """The property: a typed refusal, or a settlement whose invariants hold. Raises on anything else."""
    try:
        bill = parse_bill_json(data)
    except InvalidRequest as exc:
        _refused(exc)
        return
    _settles(bill)


def check_proto(data: bytes) -> None:
    """The same property for a serialised ``onestop.v1.Bill``, through the gateway's conversion."""
    try:
        msg = bill_pb2.Bill.FromString(data)
    except DecodeError:
        return  # grpc refuses undecodable bytes before any onestop code runs
    try:
        bill = bill_from_proto(msg, max_lines=5_000)
    except ResourceExhausted:
        return
    except InvalidRequest as exc:
        _refused(exc)
        return
    _settles(bill)


def _settles(bill: Any) -> None:
    try:
        policy = policy_for(bill.patient.insured_region, bill.visit.discharge_date)
        result = settle(bill, _CATALOGS, policy)
    except (InvalidRequest, NoEditionInForce, PolicyNotFound):
        return
    check_settlement(result)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def structured(fdp: Any) -> bytes:
    """A seed bill with 1–3 fields replaced by fuzzed JSON values (or removed)."""
    doc = json.loads(json.dumps(SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)]))
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        paths = _paths(doc)
        if not paths:
            break
        path = paths[fdp.ConsumeIntInRange(0, len(paths) - 1)]
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        kind = fdp.ConsumeIntInRange(0, 9)
        if kind == 0:
            if isinstance(parent, dict):
                del parent[path[-1]]
            continue
        if kind >= 7:
            # Crossover: the value another seed has at the same path (keeps most bills valid, so the
            # engine's deeper paths are explored, not only the parser's refusals).
            donor: Any = SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)]
            try:
                for part in path:
                    donor = donor[part]
            except (KeyError, IndexError, TypeError):
                continue
            parent[path[-1]] = json.loads(json.dumps(donor))
            continue
        value: Any = {
            1: lambda: fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 40)),
            2: lambda: fdp.ConsumeInt(8),
            3: lambda: fdp.ConsumeFloat(),
            4: lambda: fdp.ConsumeBool(),
            5: lambda: None,
            6: lambda: [fdp.ConsumeUnicodeNoSurrogates(8)],
        }[kind]()
        parent[path[-1]] = value
    return json.dumps(doc, ensure_ascii=False).encode()


def test_one_input(data: bytes) -> None:
    """Atheris entry point."""
    if data and data[0] & 1:
        check_one(structured(atheris.FuzzedDataProvider(data[1:])))
    elif data and data[0] & 2:
        check_proto(data[1:])
    else:
        check_one(data[1:])


def _hypothesis(runs: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=8,
    )

    @st.composite
    def edited(draw: Any) -> bytes:
        doc = json.loads(json.dumps(draw(st.sampled_from(SEEDS))))
        for _ in range(draw(st.integers(1, 3))):
            paths = _paths(doc)
            path = draw(st.sampled_from(paths))
            parent = doc
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = draw(json_values)
        return json.dumps(doc, ensure_ascii=False).encode()

    @settings(max_examples=runs, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.binary(max_size=4096), edited()))
    def fuzz(data: bytes) -> None:
        check_one(data)
        check_proto(data)

    fuzz()
    print(f"hypothesis fuzz: {runs} examples, no crash")  # noqa: T201 - a command-line tool reports


def write_seeds(directory: str) -> None:
    """Write the seed bills as a starting corpus (raw-JSON mode) into ``directory``."""
    from pathlib import Path

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for k, doc in enumerate(SEEDS):
        (out / f"seed-{k:02d}").write_bytes(b"\x00" + json.dumps(doc, ensure_ascii=False).encode())
        proto = json_format.ParseDict(doc, bill_pb2.Bill()).SerializeToString()
        (out / f"seed-proto-{k:02d}").write_bytes(b"\x02" + proto)


def main(argv: list[str]) -> None:
    """Run atheris with libFuzzer flags, ``--hypothesis N`` for the fallback, ``--write-seeds DIR`` for a corpus."""
    if len(argv) > 2 and argv[1] == "--hypothesis":
        _hypothesis(int(argv[2]))
        return
    if len(argv) > 2 and argv[1] == "--write-seeds":
        write_seeds(argv[2])
        return
    if atheris is None:
        sys.exit("atheris is not installed: run with --hypothesis N, or pip install atheris")
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
