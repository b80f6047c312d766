"""Sample offers for the conformance kit: small, hand-made, and labelled as fixtures.

Every amount here is invented for tests (no real bill); each offer is internally consistent: the
per-category totals are the sums over the lines.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence

from onestop.domain.bill import Bill
from onestop.domain.codes import ChargeCategory, ChrgitmLv
from onestop.domain.offer import Category, LineOffer, Offer
from onestop.money import Fen

__all__ = ["SampleLine", "sample_bill", "sample_offer", "with_fresh_reference"]

#: (feedetl_sn, name, charge category, 甲/乙/丙, in catalog, CIDL number, amounts by category) — fixture rows.
SampleLine = tuple[str, str, ChargeCategory, ChrgitmLv, bool, int | None, Mapping[Category, int]]

_GENERAL: tuple[SampleLine, ...] = (
    ("L001", "fixture: 乙类 drug", ChargeCategory.WESTERN_DRUG, ChrgitmLv.B, True, None,
     {Category.PRESELFPAY: 1_500, Category.DEDUCTIBLE: 40_000, Category.COPAY: 12_000}),
    ("L002", "fixture: out-of-catalog material", ChargeCategory.MATERIAL, ChrgitmLv.C, False, None,
     {Category.FULAMT_OWNPAY: 86_000}),
    ("L003", "fixture: 甲类 exam over the standard", ChargeCategory.EXAMINATION, ChrgitmLv.A, True, None,
     {Category.OVERLMT: 2_300, Category.COPAY: 4_100}),
)  # fmt: skip

_CIDL: tuple[SampleLine, ...] = (
    ("L101", "fixture: CIDL drug (CAR-T)", ChargeCategory.WESTERN_DRUG, ChrgitmLv.C, False, 1,
     {Category.CIDL: 1_200_000_00}),
    ("L102", "fixture: 乙类 drug", ChargeCategory.WESTERN_DRUG, ChrgitmLv.B, True, None,
     {Category.PRESELFPAY: 800, Category.COPAY: 3_200}),
)  # fmt: skip


def _line(row: SampleLine) -> LineOffer:
    sn, name, cat, lv, in_cat, cidl_no, amounts = row
    return LineOffer(
        feedetl_sn=sn,
        name=name,
        category=cat,
        chrgitm_lv=lv,
        in_catalog=in_cat,
        cidl_no=cidl_no,
        amount_fen=Fen(sum(amounts.values())),
        quantity="1",
        amounts={c: Fen(v) for c, v in amounts.items()},
    )


def sample_offer(
    payer: str,
    *,
    kind: str = "general",
    lines: Sequence[SampleLine] | None = None,
    with_lines: bool = True,
    product: str = "fixture-product",
    member_ref: str = "fixture-member-0001",
    diagnoses: tuple[str, ...] = ("C34.900",),
    reference: str | None = None,
) -> Offer:
    """An offer to ``payer`` built from fixture lines.

    Args:
        payer: Adapter name (the offer's payer).
        kind: ``"general"`` (乙类, out-of-catalog, over-standard lines) or ``"cidl"`` (a CIDL drug).
        lines: Own fixture rows instead of ``kind``.
        with_lines: False for a totals-only offer (patient did not consent to line detail).
        product: Product code.
        member_ref: Pseudonymous member reference.
        diagnoses: Diagnosis codes, principal first.
        reference: Leg reference (a fresh unique one by default).
    """
    rows = tuple(lines) if lines is not None else (_CIDL if kind == "cidl" else _GENERAL)
    line_offers = tuple(_line(r) for r in rows)
    totals: dict[Category, int] = {}
    for lo in line_offers:
        for c, v in lo.amounts.items():
            totals[c] = totals.get(c, 0) + int(v)
    return Offer(
        reference=reference or f"fixture-{uuid.uuid4().hex[:16]}",
        payer=payer,
        product=product,
        policy_no="FIXTURE-POLICY-1",
        member_ref=member_ref,
        med_type="21",
        admission_date="2026-03-02",
        discharge_date="2026-03-09",
        diagnoses=diagnoses,
        hospital_code="H00000000001",
        hospital_tier="3",
        fund_paid_fen=Fen(250_000),
        lines=line_offers if with_lines else (),
        totals={c: Fen(totals[c]) for c in Category if c in totals},
    )


def with_fresh_reference(offer: Offer, tag: str = "") -> Offer:
    """The same offer under a new unique reference (each kit case uses its own leg)."""
    suffix = uuid.uuid4().hex[:12]
    return offer.model_copy(
        update={"reference": f"{offer.reference}-{tag}{suffix}" if tag else f"{offer.reference}-{suffix}"}
    )


def sample_bill(*, work_related: bool = False, mdtrt_id: str = "FIXTURE-V001") -> Bill:
    """A small fixture bill (fictional region 990100, invented person); work-related with a recognised injury."""
    lines = [
        {"feedetl_sn": "L001", "name": "fixture: 乙类 drug", "category": "09", "quantity": "2", "unit_price": "75.00",
         "amount_fen": 15000, "date": "2026-03-02", "work_related": work_related},
        {"feedetl_sn": "L002", "name": "fixture: bed", "category": "01", "quantity": "3", "unit_price": "40.00",
         "amount_fen": 12000, "date": "2026-03-03", "work_related": work_related},
    ]  # fmt: skip
    doc: dict[str, object] = {
        "hospital": {"code": "H00000000001", "tier": "3", "region": "990100"},
        "patient": {"psn_no": "FIXTURE-P001", "cert_type": "02", "cert_no": "FIXTURE-CERT-0001", "name": "测试",
                    "insutype": "310", "psn_type": "11", "age": 40, "sex": "1", "insured_region": "990100"},
        "visit": {"mdtrt_id": mdtrt_id, "med_type": "21", "admission_date": "2026-03-01",
                  "discharge_date": "2026-03-05", "diagnoses": [{"code": "S62.300"}]},
        "lines": lines,
    }  # fmt: skip
    if work_related:
        doc["work_injury"] = {"status": "recognised", "decision_id": "FIXTURE-WI-1", "decision_date": "2026-02-20"}
    return Bill.model_validate_json(json.dumps(doc))
