"""Builders for product tests: small designs and offers written inline (fixture values, not real products)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from onestop.domain.codes import ChargeCategory, ChrgitmLv
from onestop.domain.offer import Category, LineOffer, Offer
from onestop.money import Fen
from onestop.products import Design, parse_design

BASE_YAML = """
code: fixture-product
name: fixture
source: tests
policy_period: {start: 2026-01-01, end: 2026-12-31}
premium_fen: 10000
eligibility: {insured_regions: ["990100"], insutypes: ["310"]}
deductibles: {shared: 100000, drugs: 50000}
limits: {in_catalog: 1000000, out_of_catalog: 1000000, drugs: 300000}
pre_existing:
  - {id: tumour, icd10_prefixes: ["C"]}
liabilities:
  - id: special_drug
    kind: special_drug
    categories: [cidl, fulamt_ownpay, preselfpay, deductible, copay, overlmt]
    drugs: {cidl_nos: [10], names: ["fixture-drug"]}
    deductible: drugs
    limit: drugs
    ratio: 0.80
    pre_existing_ratio: 0.40
  - id: in_catalog
    kind: in_catalog
    categories: [preselfpay, deductible, copay]
    deductible: shared
    limit: in_catalog
    ratio: 0.90
    waiting_days: 30
  - id: out_of_catalog
    kind: out_of_catalog
    categories: [fulamt_ownpay, overlmt]
    deductible: shared
    limit: out_of_catalog
    ratio: 0.50
"""


def design(yaml_text: str = BASE_YAML) -> Design:
    """The fixture design (or another YAML text)."""
    return parse_design(yaml_text, source="fixture.yaml")


Row = tuple[str, Mapping[Category, int]]


def line(sn: str, amounts: Mapping[Category, int], *, cidl_no: int | None = None, name: str = "") -> LineOffer:
    """A fixture line with the given remaining liability."""
    return LineOffer(
        feedetl_sn=sn,
        name=name or f"fixture line {sn}",
        category=ChargeCategory.WESTERN_DRUG,
        chrgitm_lv=ChrgitmLv.C if cidl_no else ChrgitmLv.B,
        in_catalog=cidl_no is None,
        cidl_no=cidl_no,
        amount_fen=Fen(sum(amounts.values())),
        quantity="1",
        amounts={c: Fen(v) for c, v in amounts.items()},
    )


def offer(
    lines: Sequence[LineOffer] = (),
    *,
    totals: Mapping[Category, int] | None = None,
    product: str = "fixture-product",
    admission: str = "2026-03-01",
    discharge: str = "2026-03-10",
    diagnoses: tuple[str, ...] = ("K35.800",),
    reference: str = "ref-1",
    member_ref: str = "m-1",
    payer: str = "huiminbao",
) -> Offer:
    """An offer whose totals are the sums of its lines (or the given totals without lines)."""
    if totals is None:
        acc: dict[Category, int] = {}
        for lo in lines:
            for c, v in lo.amounts.items():
                acc[c] = acc.get(c, 0) + int(v)
        totals = acc
    return Offer(
        reference=reference,
        payer=payer,
        product=product,
        policy_no="P-1",
        member_ref=member_ref,
        med_type="21",
        admission_date=admission,
        discharge_date=discharge,
        diagnoses=diagnoses,
        hospital_code="H1",
        hospital_tier="3",
        fund_paid_fen=Fen(0),
        lines=tuple(lines),
        totals={c: Fen(v) for c, v in totals.items()},
    )
