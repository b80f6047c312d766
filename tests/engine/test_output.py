"""Output models built without re-validation are exactly what validation would have built."""

from __future__ import annotations

from typing import Any

import pytest
from engine.golden_cases import example_cases, synthetic_cases
from pydantic import BaseModel

from onestop.domain.settlement import FundDetail, Settlement, Totals
from onestop.engine import SettlementInvariantError
from onestop.engine._output import trusted
from onestop.money import Fen

_CASES = dict(example_cases()) | {f"synthetic:{k}": v for k, v in synthetic_cases() if k.endswith(".own")}


def _same(a: Any, b: Any, path: str) -> None:
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, BaseModel):
        for name in type(a).model_fields:
            _same(getattr(a, name), getattr(b, name), f"{path}.{name}")
    elif isinstance(a, tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}[{k!r}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.mark.parametrize("name", sorted(_CASES))
def test_engine_output_equals_its_validated_round_trip(name):
    """Every field of the engine's Settlement has the type and value strict validation gives from its JSON."""
    s = _CASES[name]()
    _same(s, Settlement.model_validate_json(s.model_dump_json()), "settlement")


def test_trusted_construction_needs_exactly_the_fields_in_declared_order():
    """A trusted model gets exactly its fields in declared order (JSON follows it); no default is skipped."""
    full = {
        "fund_pay_type": "310100",
        "fund_pay_type_name": "统筹",
        "inscp_scp_amt": Fen(5),
        "crt_payb_lmt_amt": None,
        "fund_payamt": Fen(1),
        "setl_proc_info": "",
    }
    missing = {k: v for k, v in full.items() if k != "setl_proc_info"}
    reordered = {"fund_payamt": full["fund_payamt"], **{k: v for k, v in full.items() if k != "fund_payamt"}}
    for bad in (missing, {**full, "extra": 1}, reordered):
        with pytest.raises(TypeError, match="exactly its fields"):
            trusted(FundDetail, bad)
    built = trusted(FundDetail, full)
    assert built.model_dump_json() == FundDetail(**full).model_dump_json()


def test_trusted_construction_refuses_a_negative_amount_where_the_model_forbids_one():
    """A non-negative amount field that comes out negative is an engine bug, raised, never output."""
    figures = dict.fromkeys(Totals.model_fields, Fen(0))
    figures["final_patient_cash_fen"] = Fen(-1)
    with pytest.raises(SettlementInvariantError, match="final_patient_cash_fen"):
        trusted(Totals, figures)
