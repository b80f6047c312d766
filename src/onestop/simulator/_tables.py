"""The population as three columnar tables (members, claims, cells) and the bridge to engine offers.

A *cell* is one (line, category) amount of a claim's remaining liability after the funds — exactly
a cell of :func:`onestop.products.adjudicate` (step 4). Cells of a claim are stored in the order
``adjudicate`` forms them (lines in offer order, categories in ``CATEGORY_ORDER``), numbered by
``cell``; a claim without line detail has totals cells only (``detail`` false, ``line_sn`` empty).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from onestop.domain.codes import ChargeCategory, ChrgitmLv
from onestop.domain.offer import CATEGORY_ORDER, PAYABLE, Category, LineOffer, Offer
from onestop.money import trusted_fen

__all__ = ["CELL_SCHEMA", "CLAIM_SCHEMA", "MEMBER_SCHEMA", "Population", "offer_cells", "offers_from_tables"]

MEMBER_SCHEMA: dict[str, Any] = {
    "member_id": pl.String,
    "age": pl.Int64,
    "sex": pl.String,
    "insutype": pl.String,
    "insured_region": pl.String,
    "enrolled_on": pl.Date,
    "pre_existing": pl.String,
}
CLAIM_SCHEMA: dict[str, Any] = {
    "claim_id": pl.String,
    "member_id": pl.String,
    "admission_date": pl.Date,
    "discharge_date": pl.Date,
    "med_type": pl.String,
    "care_type": pl.String,
    "diagnoses": pl.String,
    "hospital_code": pl.String,
    "hospital_tier": pl.String,
    "medfee_fen": pl.Int64,
    "fund_paid_fen": pl.Int64,
}
CELL_SCHEMA: dict[str, Any] = {
    "claim_id": pl.String,
    "cell": pl.Int64,
    "detail": pl.Boolean,
    "line_sn": pl.String,
    "name": pl.String,
    "national_code": pl.String,
    "cidl_no": pl.Int64,
    "charge_category": pl.String,
    "chrgitm_lv": pl.String,
    "in_catalog": pl.Boolean,
    "category": pl.String,
    "amount_fen": pl.Int64,
}
_CAT_POS = {c: i for i, c in enumerate(CATEGORY_ORDER)}


@dataclass(frozen=True, slots=True)
class Population:
    """Members, claims and cells as polars frames with the schemas above (amounts Int64 fen).

    ``enrolled_on`` may be null (the member is taken as enrolled on the design's first day) and
    ``pre_existing`` / ``diagnoses`` are ``;``-separated lists.
    """

    members: pl.DataFrame
    claims: pl.DataFrame
    cells: pl.DataFrame

    @property
    def n_claims(self) -> int:
        """Number of claims."""
        return int(self.claims.height)

    def sorted(self) -> Population:
        """Claims in accumulator order (member, discharge, admission, claim id); cells in claim order."""
        claims = self.claims.sort(["member_id", "discharge_date", "admission_date", "claim_id"])
        order = claims.select("claim_id").with_row_index("_claim")
        cells = self.cells.join(order, on="claim_id", how="inner").sort(["_claim", "cell"]).drop("_claim")
        return Population(self.members.sort("member_id"), claims, cells)


def offer_cells(claim_id: str, offer: Offer) -> list[dict[str, Any]]:
    """The cells of ``offer`` as rows of the cells table, in ``adjudicate``'s cell order."""
    rows: list[dict[str, Any]] = []
    if offer.lines:
        for lo in offer.lines:
            for c in sorted(lo.amounts, key=_CAT_POS.__getitem__):
                if c in PAYABLE and lo.amounts[c] > 0:
                    rows.append(
                        {
                            "claim_id": claim_id,
                            "cell": len(rows),
                            "detail": True,
                            "line_sn": lo.feedetl_sn,
                            "name": lo.name,
                            "national_code": lo.national_code,
                            "cidl_no": lo.cidl_no,
                            "charge_category": lo.category.value,
                            "chrgitm_lv": lo.chrgitm_lv.value,
                            "in_catalog": lo.in_catalog,
                            "category": c.value,
                            "amount_fen": int(lo.amounts[c]),
                        }
                    )
        return rows
    for c in sorted(offer.totals, key=_CAT_POS.__getitem__):
        if c in PAYABLE and offer.totals[c] > 0:
            rows.append(
                {
                    "claim_id": claim_id,
                    "cell": len(rows),
                    "detail": False,
                    "line_sn": "",
                    "name": "",
                    "national_code": "",
                    "cidl_no": None,
                    "charge_category": "",
                    "chrgitm_lv": "",
                    "in_catalog": False,
                    "category": c.value,
                    "amount_fen": int(offer.totals[c]),
                }
            )
    return rows


def _line_offer(sn: str, rows: Sequence[dict[str, Any]]) -> LineOffer:
    first = rows[0]
    # Built without re-validation: every field comes from a table whose schema was checked on load.
    return LineOffer.model_construct(
        feedetl_sn=sn,
        name=first["name"],
        national_code=first["national_code"],
        category=ChargeCategory(first["charge_category"]) if first["charge_category"] else ChargeCategory.EXAMINATION,
        chrgitm_lv=ChrgitmLv(first["chrgitm_lv"]) if first["chrgitm_lv"] else ChrgitmLv.C,
        in_catalog=first["in_catalog"],
        cidl_no=first["cidl_no"],
        work_related=False,
        amount_fen=None,
        quantity=None,
        confidential=False,
        amounts={Category(r["category"]): trusted_fen(r["amount_fen"]) for r in rows},
    )


def offers_from_tables(pop: Population, product: str, payer: str = "huiminbao") -> Iterable[tuple[str, str, Offer]]:
    """Rebuild, claim by claim in the population's claim order, the offer a product would receive.

    Yields:
        ``(claim_id, member_id, offer)``; the offer's cells are exactly the claim's rows in the cells table.
    """
    by_claim: dict[str, list[dict[str, Any]]] = {}
    for row in pop.cells.iter_rows(named=True):
        by_claim.setdefault(row["claim_id"], []).append(row)
    for c in pop.claims.iter_rows(named=True):
        cells = sorted(by_claim.get(c["claim_id"], []), key=lambda r: r["cell"])
        totals: dict[Category, int] = {}
        for r in cells:
            cat = Category(r["category"])
            totals[cat] = totals.get(cat, 0) + r["amount_fen"]
        lines: list[LineOffer] = []
        if cells and cells[0]["detail"]:
            groups: dict[str, list[dict[str, Any]]] = {}
            for r in cells:
                groups.setdefault(r["line_sn"], []).append(r)
            lines = [_line_offer(sn, rows) for sn, rows in groups.items()]
        offer = Offer.model_construct(
            reference=c["claim_id"],
            payer=payer,
            product=product,
            policy_no="",
            member_ref=c["member_id"],
            med_type=c["med_type"],
            admission_date=c["admission_date"].isoformat(),
            discharge_date=c["discharge_date"].isoformat(),
            diagnoses=tuple(d for d in (c["diagnoses"] or "").split(";") if d),
            hospital_code=c["hospital_code"] or "",
            hospital_tier=c["hospital_tier"] or "",
            fund_paid_fen=trusted_fen(c["fund_paid_fen"]),
            lines=tuple(lines),
            totals={k: trusted_fen(totals[k]) for k in CATEGORY_ORDER if k in totals},
        )
        yield c["claim_id"], c["member_id"], offer
