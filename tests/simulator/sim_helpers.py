"""Builders for simulator tests: small designs as YAML text, hand-made populations, and a cached funded one."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from onestop.products import Design, load_design, parse_design
from onestop.simulator import (
    DesignResult,
    FundedPopulation,
    Population,
    SyntheticParams,
    run_funds,
    synthesize,
)
from onestop.simulator._tables import CELL_SCHEMA, CLAIM_SCHEMA, MEMBER_SCHEMA


def design(
    *,
    code: str = "test-design",
    deductible: int = 1_000_000,
    limit: int = 50_000_000,
    ratio: str = "0.70",
    pre_ratio: str | None = None,
    waiting_days: int = 0,
    start: str = "2026-01-01",
    end: str = "2026-12-31",
    categories: str = "[fulamt_ownpay, cidl, overlmt, preselfpay, deductible, copay]",
    extra_liabilities: str = "",
    extra_pools: str = "",
) -> Design:
    """One liability over every category, with the given deductible, limit, ratio and waiting period."""
    pre = f"\n    pre_existing_ratio: {pre_ratio}" if pre_ratio is not None else ""
    text = f"""
code: {code}
name: 测试
source: test
policy_period: {{start: {start}, end: {end}}}
premium_fen: 10000
eligibility: {{insured_regions: ["220000"], insutypes: ["310", "390"]}}
deductibles: {{main: {deductible}{extra_pools}}}
limits: {{main: {limit}{extra_pools}}}
pre_existing:
  - {{id: malignant_tumour, icd10_prefixes: ["C"]}}
liabilities:{extra_liabilities}
  - id: all
    kind: in_catalog
    categories: {categories}
    deductible: main
    limit: main
    ratio: {ratio}{pre}
    waiting_days: {waiting_days}
"""
    return parse_design(text, source="test.yaml")


def changchun(code: str) -> Design:
    """A shipped design whose eligibility admits the synthetic population (Jilin, 220000)."""
    d = load_design(code)
    elig = d.eligibility.model_copy(update={"insured_regions": ("220000",)})
    return d.model_copy(update={"eligibility": elig, "code": f"cc-{code}"})


def population(members: list[dict[str, Any]], claims: list[dict[str, Any]], cells: list[dict[str, Any]]) -> Population:
    """A population from rows; missing columns take neutral defaults; sorted for the modes."""
    m_defaults = {"age": 40, "sex": "1", "insutype": "310", "insured_region": "220100", "enrolled_on": None}
    m_defaults["pre_existing"] = ""
    c_defaults = {
        "med_type": "21",
        "care_type": "inpatient",
        "diagnoses": "K35.800",
        "hospital_code": "H1",
        "hospital_tier": "三级",
        "medfee_fen": 0,
        "fund_paid_fen": 0,
    }
    l_defaults = {
        "detail": True,
        "name": "item",
        "national_code": "",
        "cidl_no": None,
        "charge_category": "09",
        "chrgitm_lv": "02",
        "in_catalog": True,
    }
    mem = [m_defaults | r for r in members]
    cl = [c_defaults | r for r in claims]
    counter: dict[str, int] = {}
    ce = []
    for r in cells:
        row = l_defaults | r
        row.setdefault("line_sn", f"{counter.get(r['claim_id'], 0):04d}")
        row["cell"] = counter.get(r["claim_id"], 0)
        counter[r["claim_id"]] = row["cell"] + 1
        if not row["detail"]:
            row.update(line_sn="", name="", national_code="", charge_category="", chrgitm_lv="", in_catalog=False)
        ce.append(row)
    return Population(
        pl.DataFrame(mem, schema=MEMBER_SCHEMA),
        pl.DataFrame(cl, schema=CLAIM_SCHEMA),
        pl.DataFrame(ce, schema=CELL_SCHEMA),
    ).sorted()


def claim(cid: str, member: str, admission: str, discharge: str | None = None, **kw: Any) -> dict[str, Any]:
    """A claim row."""
    return {
        "claim_id": cid,
        "member_id": member,
        "admission_date": dt.date.fromisoformat(admission),
        "discharge_date": dt.date.fromisoformat(discharge or admission),
        **kw,
    }


def cell(cid: str, amount: int, category: str = "copay", **kw: Any) -> dict[str, Any]:
    """A cell row."""
    return {"claim_id": cid, "amount_fen": amount, "category": category, **kw}


def half_up(amount: int, ratio: str) -> int:
    """``amount × ratio`` rounded half-up, by hand."""
    q = Decimal(amount) * Decimal(ratio)
    return int(q.to_integral_value(rounding="ROUND_HALF_UP"))


def paid_by_claim(r: DesignResult) -> dict[str, int]:
    """Claim id → total paid."""
    return {c: int(v) for c, v in zip(r.claim_ids, r.paid.sum(axis=1), strict=True)}


def assert_same(a: DesignResult, b: DesignResult) -> None:
    """Two results agree to the fen on every claim, liability and cell."""
    assert a.claim_ids == b.claim_ids
    for name in ("enrolled", "covered", "pre_existing", "eligible", "deductible", "paid", "waiting", "cell_paid"):
        x, y = getattr(a, name), getattr(b, name)
        assert np.array_equal(x, y), f"{name} differs at {np.argwhere(x != y)[:5].tolist()}"


@functools.cache
def funded(members: int = 2500, seed: int = 11) -> FundedPopulation:
    """A synthetic population through the engine's fund stages, with CAR-T, CIDL, late enrolment and totals-only bills."""
    params = SyntheticParams(
        members=members,
        seed=seed,
        car_t_uptake=Decimal("0.004"),
        cidl_uptake=Decimal("0.05"),
        line_detail_share=Decimal("0.8"),
        late_enrolment_share=Decimal("0.3"),
        pre_existing_prevalence={"malignant_tumour": Decimal("0.2"), "cardio_cerebrovascular": Decimal("0.1")},
    )
    return run_funds(synthesize(params))
