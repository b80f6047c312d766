"""The onestop.v1 contract: generated code is current, buf guards compatibility, protos mirror the models."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
from gateway.rpc.gwrpc_helpers import EXAMPLES
from google.protobuf import json_format
from pydantic import BaseModel

from onestop.domain import Bill, parse_bill_json
from onestop.domain.settlement import Settlement
from onestop.gateway import models
from onestop.gateway.convert import SKIPPED_FIELDS, bill_from_proto, fields_of
from onestop.v1 import bill_pb2, settlement_pb2
from onestop.v1 import settlement_service_pb2 as pb

ROOT = Path(__file__).resolve().parents[3]
BUF = Path(sys.executable).parent / "buf"


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    """Regenerating the contract's Python code changes nothing in the committed tree."""
    subprocess.run(
        [sys.executable, str(ROOT / "proto" / "generate.py"), str(tmp_path)], check=True, capture_output=True
    )
    fresh = {p.name: p.read_bytes() for p in (tmp_path / "onestop" / "v1").iterdir() if p.is_file()}
    committed = {
        p.name: p.read_bytes()
        for p in (ROOT / "src" / "onestop" / "v1").iterdir()
        if p.is_file() and not p.name.endswith(".pyc")
    }
    assert sorted(fresh) == sorted(committed)
    stale = [name for name, data in fresh.items() if committed[name] != data]
    assert not stale, f"regenerate with `make protos`: {stale}"


@pytest.mark.skipif(not BUF.exists(), reason="buf (buf-bin) is not installed in this environment")
def test_buf_breaking_fails_on_a_removed_field(tmp_path: Path) -> None:
    """The baseline image catches an incompatible change (a removed field) and passes the current contract."""
    ok = subprocess.run([str(BUF), "breaking", "--against", "proto/baseline.binpb"], cwd=ROOT, capture_output=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    shutil.copytree(ROOT / "proto", tmp_path / "proto")
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    proto = tmp_path / "proto" / "onestop" / "v1" / "settlement.proto"
    text = proto.read_text(encoding="utf-8")
    assert "  int64 final_patient_cash_fen = 8;\n" in text
    proto.write_text(text.replace("  int64 final_patient_cash_fen = 8;\n", ""), encoding="utf-8")
    broken = subprocess.run(
        [str(BUF), "breaking", "--against", "proto/baseline.binpb"], cwd=tmp_path, capture_output=True, text=True
    )
    assert broken.returncode != 0
    assert "final_patient_cash_fen" in broken.stdout + broken.stderr


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _nested(arg)]


def _mirror(model: type[BaseModel], desc: Any, seen: set[str]) -> None:
    if desc.full_name in seen:
        return
    seen.add(desc.full_name)
    mapping = fields_of(model, desc)  # raises when a model field has no proto field
    extra = set(desc.fields_by_name) - set(mapping.values())
    assert not extra, f"{desc.full_name} fields without a model field: {extra}"
    for name, proto in mapping.items():
        sub = desc.fields_by_name[proto].message_type
        if sub is not None:
            nested = _nested(model.model_fields[name].annotation)
            assert nested, f"{model.__name__}.{name} is not a model but {proto} is a message"
            _mirror(nested[0], sub, seen)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (Bill, bill_pb2.Bill),
        (Settlement, settlement_pb2.Settlement),
        (models.SettleOutcome, pb.SettleResponse),
        (models.SettleOutcome, pb.SupplementResponse),
        (models.ReverseOutcome, pb.ReverseResponse),
        (models.SettlementRecord, pb.SettlementRecord),
        (models.ReconcileReport, pb.ReconcileResponse),
    ],
)
def test_every_model_field_has_its_proto_field_and_back(model: type[BaseModel], message: Any) -> None:
    """Each model and its message mirror each other field for field (amounts named *_fen), nested too."""
    _mirror(model, message.DESCRIPTOR, set())


def test_only_the_leg_kind_literals_are_skipped() -> None:
    """The one model field without a proto field is the legs' constant ``kind``."""
    assert frozenset({"kind"}) == SKIPPED_FIELDS


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_bill_converts_to_the_same_model(path: Path) -> None:
    """A bill sent as proto validates into exactly the Bill its JSON file parses to."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    msg = json_format.ParseDict(doc, bill_pb2.Bill())
    assert bill_from_proto(msg, max_lines=5000) == parse_bill_json(path.read_text(encoding="utf-8"))
