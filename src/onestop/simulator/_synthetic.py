"""A seeded synthetic population: members and their bills, from documented, adjustable assumptions.

Every parameter of :class:`SyntheticParams` is an *assumption* (not a statistic of any real
population): the defaults are round figures chosen so that a 10,000-member run exercises every
liability, including a few CAR-T cases. Bills charge real catalog entries (the packaged fixture
samples of Changchun 220100) plus CIDL drugs by their listed generic names, so the engine's fund
stage resolves, splits and settles them exactly as it would a hospital's bill.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from onestop.catalog import fixture_samples
from onestop.domain.bill import Bill

__all__ = ["AgeBand", "CareCost", "SyntheticMember", "SyntheticParams", "SyntheticPopulation", "synthesize"]

Probability = Annotated[Decimal, Field(ge=0, le=1)]

#: The treatment and insured region of synthetic bills: the only region whose fixture items the packaged catalogs price.
SYNTHETIC_REGION = "220100"
_HOSPITAL = {"code": "H22010100001", "tier": "市属三级", "region": SYNTHETIC_REGION, "group": "JL-GROUP-FX1"}
_CAR_T = (10, 11, 12, 13, 14)
CIDL_NAMES = {
    1: "注射用维拉苷酶β",
    2: "盐酸沙丙蝶呤片",
    3: "注射用替度格鲁肽",
    4: "注射用泽尼达妥单抗",
    5: "埃纳妥单抗注射液",
    6: "达妥昔单抗β注射液",
    7: "那西妥单抗注射液",
    8: "塔奎妥单抗注射液",
    9: "伊匹木单抗注射液",
    10: "阿基仑赛注射液",
    11: "纳基奥仑赛注射液",
    12: "瑞基奥仑赛注射液",
    13: "伊基奥仑赛注射液",
    14: "泽沃基奥仑赛注射液",
    15: "甲苯磺酰胺注射液",
    16: "氢溴酸他泽司他片",
    17: "注射用芦比替定",
    18: "多奈单抗注射液",
    19: "仑卡奈单抗注射液",
}
# Diagnoses by kind of stay; the tumour codes make pre-existing rules bite on CIDL/CAR-T claims.
_DIAG_COMMON = ("K35.800", "J18.900", "I10.x00", "E11.900", "S72.000", "N20.000")
_DIAG_TUMOUR = ("C83.300", "C34.900", "C90.000", "C22.000")
_DIAG_CHRONIC = ("I25.100", "J44.100", "N18.500", "K74.600", "I63.900")


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class AgeBand(_Params):
    """Members aged ``low``–``high`` (inclusive) make up ``weight`` parts of the population."""

    low: Annotated[int, Field(ge=0, le=120)]
    high: Annotated[int, Field(ge=0, le=120)]
    weight: Annotated[int, Field(ge=1)]


class CareCost(_Params):
    """Yearly frequency and bill size of one care type (a log-normal bill total)."""

    rate_per_member_year: Annotated[Decimal, Field(ge=0, le=50)]
    """Expected visits/stays per member and year (Poisson)."""
    median_fen: Annotated[int, Field(gt=0)]
    """Median bill total, fen."""
    sigma: Annotated[Decimal, Field(gt=0, le=3)]
    """Log-normal shape: spread of bill totals around the median."""
    lines: Annotated[tuple[int, int], Field()] = (2, 6)
    """Inclusive range of ordinary fee lines per bill."""


class SyntheticParams(_Params):
    """Assumptions of a synthetic population (each one documented in ``docs/simulator.md``)."""

    members: Annotated[int, Field(ge=1, le=10_000_000)] = 10_000
    seed: int = 0
    year_start: dt.date = dt.date(2026, 1, 1)
    """First day of the simulated year (claims are dated within one year from it)."""
    age_bands: tuple[AgeBand, ...] = (
        AgeBand(low=0, high=17, weight=18),
        AgeBand(low=18, high=44, weight=38),
        AgeBand(low=45, high=64, weight=29),
        AgeBand(low=65, high=90, weight=15),
    )
    male_share: Probability = Decimal("0.50")
    employee_share: Probability = Decimal("0.45")
    """Share insured as employees (310); the rest are residents (390)."""
    inpatient: CareCost = CareCost(
        rate_per_member_year=Decimal("0.12"), median_fen=600_000, sigma=Decimal("0.9"), lines=(3, 8)
    )
    outpatient: CareCost = CareCost(
        rate_per_member_year=Decimal("0.6"), median_fen=30_000, sigma=Decimal("0.8"), lines=(1, 3)
    )
    elderly_factor: Annotated[Decimal, Field(ge=0, le=10)] = Decimal("2.0")
    """Multiplier on visit rates of members aged 65 and over."""
    cidl_uptake: Probability = Decimal("0.005")
    """Probability that an inpatient stay also charges one non-CAR-T CIDL drug."""
    cidl_drugs: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19)
    """CIDL entry numbers drawn (uniformly) for those stays."""
    cidl_cost_fen: tuple[int, int] = (2_000_000, 30_000_000)
    """Inclusive range of a CIDL drug line, fen."""
    car_t_uptake: Probability = Decimal("0.00002")
    """Probability per member and year of one CAR-T infusion stay."""
    car_t_cost_fen: tuple[int, int] = (99_900_000, 129_000_000)
    """Inclusive range of a CAR-T line, fen (list prices of the CIDL CAR-T products are about 100万–129万)."""
    pre_existing_prevalence: dict[str, Probability] = Field(
        default_factory=lambda: {"malignant_tumour": Decimal("0.02"), "cardio_cerebrovascular": Decimal("0.05")}
    )
    """Share of members with each pre-existing group (ids of the designs' ``pre_existing``)."""
    late_enrolment_share: Probability = Decimal("0.10")
    """Share of members enrolled after the year's start (uniformly over its first 90 days)."""
    line_detail_share: Probability = Decimal("1")
    """Share of bills whose patient consents to share line detail with the insurer."""


@dataclass(frozen=True, slots=True)
class SyntheticMember:
    """One member of the population (the simulator's members file row)."""

    member_id: str
    age: int
    sex: str
    insutype: str
    insured_region: str
    enrolled_on: dt.date
    pre_existing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SyntheticPopulation:
    """Members and the bills they incur, in no particular order (the fund stage sorts them)."""

    members: tuple[SyntheticMember, ...]
    bills: tuple[Bill, ...]
    care_types: tuple[str, ...]
    """Per bill: ``inpatient``, ``outpatient`` or ``car_t``."""


def _f(x: Decimal) -> float:
    # Sampling probabilities only: no amount is ever computed from a float.
    return float(x)


def _items() -> list[dict[str, Any]]:
    return [
        {"national_code": s.national_code, "name": s.name, "category": s.category, "dosage_form": s.dosage_form}
        for s in fixture_samples()
        if s.national_code and s.region == SYNTHETIC_REGION
    ]


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _split(rng: np.random.Generator, total: int, n: int) -> list[int]:
    """``total`` fen over up to ``n`` lines of at least 1 fen (a repeated cut merges two lines)."""
    if n <= 1 or total <= n:
        return [max(total, 1)]
    cuts = np.sort(rng.integers(1, total, size=n - 1))
    edges = [0, *(int(c) for c in cuts), total]
    parts = [b - a for a, b in itertools.pairwise(edges)]
    return [p for p in parts if p > 0] or [total]


def synthesize(params: SyntheticParams) -> SyntheticPopulation:
    """Draw a population and its year of bills from ``params`` (same params and seed → same population).

    Returns:
        The members and their bills; every bill names the member's psn_no ``member_id`` and carries
        one coverage (payer ``huiminbao``, product ``*``) with line-detail consent as drawn.
    """
    rng = np.random.default_rng(params.seed)
    items = _items()
    n = params.members
    weights = np.array([b.weight for b in params.age_bands], dtype=np.int64)
    band = rng.choice(len(params.age_bands), size=n, p=weights / weights.sum())
    lows = np.array([b.low for b in params.age_bands])
    highs = np.array([b.high for b in params.age_bands])
    ages = rng.integers(lows[band], highs[band] + 1)
    male = rng.random(n) < _f(params.male_share)
    employee = (rng.random(n) < _f(params.employee_share)) & (ages >= 18)
    late = rng.random(n) < _f(params.late_enrolment_share)
    late_days = rng.integers(1, 91, size=n)
    groups = sorted(params.pre_existing_prevalence)
    has_group = {g: rng.random(n) < _f(params.pre_existing_prevalence[g]) for g in groups}
    members: list[SyntheticMember] = []
    for i in range(n):
        members.append(
            SyntheticMember(
                member_id=f"M{params.seed:04d}{i:08d}",
                age=int(ages[i]),
                sex="1" if male[i] else "2",
                insutype="310" if employee[i] else "390",
                insured_region=SYNTHETIC_REGION,
                enrolled_on=params.year_start + dt.timedelta(days=int(late_days[i]) if late[i] else 0),
                pre_existing=tuple(g for g in groups if has_group[g][i]),
            )
        )
    factor = np.where(ages >= 65, _f(params.elderly_factor), 1.0)
    n_in = rng.poisson(_f(params.inpatient.rate_per_member_year) * factor)
    n_out = rng.poisson(_f(params.outpatient.rate_per_member_year) * factor)
    car_t = rng.random(n) < _f(params.car_t_uptake)
    bills: list[Bill] = []
    care: list[str] = []
    for i, m in enumerate(members):
        visits = ["inpatient"] * int(n_in[i]) + ["outpatient"] * int(n_out[i]) + (["car_t"] if car_t[i] else [])
        for k, kind in enumerate(visits):
            bills.append(_bill(rng, params, items, m, k, kind))
            care.append(kind)
    return SyntheticPopulation(tuple(members), tuple(bills), tuple(care))


def _bill(
    rng: np.random.Generator,
    params: SyntheticParams,
    items: list[dict[str, Any]],
    m: SyntheticMember,
    k: int,
    kind: str,
) -> Bill:
    cost = params.outpatient if kind == "outpatient" else params.inpatient
    admission = params.year_start + dt.timedelta(days=int(rng.integers(0, 365)))
    los = 0 if kind == "outpatient" else int(rng.integers(2, 21))
    total = max(100, int(rng.lognormal(np.log(cost.median_fen), _f(cost.sigma))))
    n_lines = int(rng.integers(cost.lines[0], cost.lines[1] + 1))
    lines: list[dict[str, Any]] = []
    for amount in _split(rng, total, n_lines):
        it = items[int(rng.integers(0, len(items)))]
        lines.append(_line(len(lines), it, amount, admission + dt.timedelta(days=int(rng.integers(0, los + 1)))))
    chronic = "cardio_cerebrovascular" in m.pre_existing and rng.random() < 0.5
    tumour = kind == "car_t" or ("malignant_tumour" in m.pre_existing and rng.random() < 0.5)
    if kind == "car_t":
        no = int(rng.choice(_CAR_T))
        amount = int(rng.integers(params.car_t_cost_fen[0], params.car_t_cost_fen[1] + 1))
        lines.append(_cidl_line(len(lines), no, amount, admission))
    elif kind == "inpatient" and params.cidl_drugs and rng.random() < _f(params.cidl_uptake):
        no = int(rng.choice(params.cidl_drugs))
        amount = int(rng.integers(params.cidl_cost_fen[0], params.cidl_cost_fen[1] + 1))
        lines.append(_cidl_line(len(lines), no, amount, admission))
        tumour = tumour or no in (4, 5, 6, 7, 8, 9, 15, 16, 17)
    if tumour:
        diag = str(rng.choice(_DIAG_TUMOUR))
    elif chronic:
        diag = str(rng.choice(_DIAG_CHRONIC))
    else:
        diag = str(rng.choice(_DIAG_COMMON))
    consent = bool(rng.random() < _f(params.line_detail_share))
    doc = {
        "hospital": _HOSPITAL,
        "patient": {
            "psn_no": m.member_id,
            "cert_type": "02",
            "cert_no": "000000000000000000",
            "name": "模拟",
            "insutype": m.insutype,
            "psn_type": "11" if m.insutype == "310" else "13",
            "age": m.age,
            "sex": m.sex,
            "insured_region": m.insured_region,
        },
        "visit": {
            "mdtrt_id": f"S{m.member_id}-{k:03d}",
            "med_type": "11" if kind == "outpatient" else "21",
            "admission_date": admission.isoformat(),
            "discharge_date": (admission + dt.timedelta(days=los)).isoformat(),
            "diagnoses": [{"code": diag}],
        },
        "lines": lines,
        "coverages": [{"payer": "huiminbao", "product": "*", "policy_no": "SIM", "consent_line_detail": consent}],
    }
    return Bill.model_validate_json(json.dumps(doc))


def _line(i: int, it: dict[str, Any], amount: int, day: dt.date) -> dict[str, Any]:
    line = {
        "feedetl_sn": f"{i + 1:04d}",
        "national_code": it["national_code"],
        "name": it["name"],
        "category": it["category"],
        "quantity": "1",
        "unit_price": _yuan(amount),
        "amount_fen": amount,
        "hosp_appr_flag": "1",
        "date": day.isoformat(),
    }
    if it["dosage_form"]:
        line["dosage_form"] = it["dosage_form"]
    return line


def _cidl_line(i: int, no: int, amount: int, day: dt.date) -> dict[str, Any]:
    name = CIDL_NAMES[no]
    line = {
        "feedetl_sn": f"{i + 1:04d}",
        "name": name,
        "category": "09",
        "quantity": "1",
        "unit_price": _yuan(amount),
        "amount_fen": amount,
        "date": day.isoformat(),
    }
    if name.endswith("片"):
        line["dosage_form"] = "片剂"
    else:
        line["dosage_form"] = "注射剂"
    return line
