"""Run the engine's fund stages over a synthetic population, once per claim, in each member's date order.

The fund results (what the funds paid, and each cell of remaining liability the product is
offered) do not depend on the product design, so they are computed once and shared by every design
and by both modes. Fund accumulators (deductible, pool caps) carry from one claim of a member to the
next within a benefit year, exactly as the gateway would carry them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from onestop.catalog import CatalogView, default_catalogs
from onestop.domain.bill import Bill
from onestop.domain.offer import Offer
from onestop.engine import settle_funds
from onestop.policy import policy_for, treatment_policy_for
from onestop.simulator._synthetic import SyntheticPopulation
from onestop.simulator._tables import CELL_SCHEMA, CLAIM_SCHEMA, MEMBER_SCHEMA, Population, offer_cells

__all__ = ["FundedPopulation", "run_funds"]

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class FundedPopulation:
    """A population after the fund stages: its tables, and the engine's own offers by claim id."""

    population: Population
    offers: dict[str, Offer]


def _key(bill: Bill) -> tuple[str, str, str, str]:
    v = bill.visit
    return (bill.patient.psn_no, v.discharge_date.isoformat(), v.admission_date.isoformat(), v.mdtrt_id)


def run_funds(
    synthetic: SyntheticPopulation, *, catalogs: CatalogView | None = None, progress: Progress | None = None
) -> FundedPopulation:
    """Settle the funds of every bill (``settle_funds`` then ``offer_for``) and tabulate the offers.

    Args:
        synthetic: Members and bills.
        catalogs: Catalogs to resolve lines with (default: the packaged ones).
        progress: Called with the number of bills just settled (for progress bars).

    Returns:
        The population tables and the engine's offer of every claim (keyed by claim id = mdtrt_id).
    """
    cats = catalogs if catalogs is not None else default_catalogs()
    policies: dict[tuple[str, int], Any] = {}
    treatments: dict[tuple[str, str, int], Any] = {}
    acc: dict[str, dict[str, int]] = {}
    claims: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    offers: dict[str, Offer] = {}
    order = sorted(range(len(synthetic.bills)), key=lambda i: _key(synthetic.bills[i]))
    done = 0
    for i in order:
        bill = synthetic.bills[i]
        v = bill.visit
        region = bill.patient.insured_region
        pkey = (region, v.discharge_date.year)
        if pkey not in policies:
            policies[pkey] = policy_for(region, v.discharge_date)
        tkey = (bill.hospital.region, region, v.discharge_date.year)
        if tkey not in treatments:
            treatments[tkey] = treatment_policy_for(bill.hospital.region, region, v.discharge_date)
        person = acc.setdefault(bill.patient.psn_no, {})
        state = settle_funds(bill, cats, policies[pkey], person, treatment_policy=treatments[tkey])
        for leg in (state.basic, state.maternity):
            for d in getattr(leg, "deltas", ()) if leg is not None else ():
                person[d.key] = person.get(d.key, 0) + int(d.delta_fen)
        offer = state.offer_for(0, reference=v.mdtrt_id)
        claim_id = v.mdtrt_id
        offers[claim_id] = offer
        claims.append(
            {
                "claim_id": claim_id,
                "member_id": bill.patient.psn_no,
                "admission_date": v.admission_date,
                "discharge_date": v.discharge_date,
                "med_type": v.med_type.value,
                "care_type": synthetic.care_types[i],
                "diagnoses": ";".join(d.code for d in v.diagnoses),
                "hospital_code": bill.hospital.code,
                "hospital_tier": bill.hospital.tier,
                "medfee_fen": sum(int(ln.amount_fen) for ln in bill.lines),
                "fund_paid_fen": int(offer.fund_paid_fen),
            }
        )
        cells.extend(offer_cells(claim_id, offer))
        done += 1
        if progress is not None and done % 1000 == 0:
            progress(1000)
    if progress is not None and done % 1000:
        progress(done % 1000)
    members = pl.DataFrame(
        [
            {
                "member_id": m.member_id,
                "age": m.age,
                "sex": m.sex,
                "insutype": m.insutype,
                "insured_region": m.insured_region,
                "enrolled_on": m.enrolled_on,
                "pre_existing": ";".join(m.pre_existing),
            }
            for m in synthetic.members
        ],
        schema=MEMBER_SCHEMA,
    )
    pop = Population(members, pl.DataFrame(claims, schema=CLAIM_SCHEMA), pl.DataFrame(cells, schema=CELL_SCHEMA))
    return FundedPopulation(pop.sorted(), offers)
