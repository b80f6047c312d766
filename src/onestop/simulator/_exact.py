"""Exact mode: every claim through :func:`onestop.products.adjudicate` — the huiminbao adapter's own code.

Claims run member by member in date order (discharge, admission, claim id); each claim's
accumulator deltas are applied before the member's next claim, as the adapter applies them in its
state store. Offers are the engine's own (``offer_for``) when the fund stage ran here, or are rebuilt
from the claims file otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from onestop.domain.offer import Category, Offer
from onestop.products import Design, adjudicate
from onestop.sdk import ReasonCode
from onestop.simulator._result import DesignResult, member_register, population_arrays
from onestop.simulator._tables import Population, offers_from_tables

__all__ = ["run_exact"]


def run_exact(
    pop: Population,
    design: Design,
    *,
    offers: Mapping[str, Offer] | None = None,
    progress: Callable[[int], None] | None = None,
) -> DesignResult:
    """Adjudicate every claim of ``pop`` (sorted: see :meth:`Population.sorted`) under ``design``.

    Args:
        pop: The population after the funds.
        design: The product design.
        offers: The engine's offers by claim id (their product is set to ``design.code``); when None,
            offers are rebuilt from the tables.
        progress: Called with a number of claims done.
    """
    reg = member_register(pop.members, design)
    facts = reg.facts()
    n_c, n_l = pop.n_claims, len(design.liabilities)
    lia_index = {lia.id: i for i, lia in enumerate(design.liabilities)}
    eligible = np.zeros((n_c, n_l), dtype=np.int64)
    deductible = np.zeros((n_c, n_l), dtype=np.int64)
    paid = np.zeros((n_c, n_l), dtype=np.int64)
    waiting = np.zeros((n_c, n_l), dtype=np.bool_)
    covered = np.zeros(n_c, dtype=np.bool_)
    pre = np.zeros(n_c, dtype=np.bool_)
    cell_paid = np.zeros(pop.cells.height, dtype=np.int64)
    cell_claims = pop.cells.get_column("claim_id").to_list()
    cell_sn = pop.cells.get_column("line_sn").to_list()
    cell_cat = pop.cells.get_column("category").to_list()
    starts: dict[str, int] = {}
    for i, cid in enumerate(cell_claims):
        starts.setdefault(cid, i)
    claim_ids: list[str] = []
    claim_member: list[str] = []
    accumulators: dict[str, dict[str, int]] = {}
    if offers is None:
        stream = offers_from_tables(pop, design.code)
    else:
        stream = (
            (cid, mid, offers[cid].model_copy(update={"product": design.code}))
            for cid, mid in pop.claims.select("claim_id", "member_id").iter_rows()
        )
    for c, (cid, mid, offer) in enumerate(stream):
        claim_ids.append(cid)
        claim_member.append(mid)
        acc = accumulators.setdefault(mid, {})
        result = adjudicate(design, offer, facts.get(mid), acc)
        for k, v in result.deltas.items():
            acc[k] = acc.get(k, 0) + v
        covered[c] = not (result.reason is ReasonCode.NOT_ELIGIBLE and not result.outcomes)
        pre[c] = result.pre_existing
        for o in result.outcomes:
            j = lia_index[o.liability]
            eligible[c, j] = o.eligible_fen
            deductible[c, j] = o.deductible_fen
            paid[c, j] = o.paid_fen
            waiting[c, j] = o.reason is ReasonCode.WAITING_PERIOD
        if result.paid_fen:
            start = starts[cid]
            where: dict[tuple[str, str], int] = {}
            pos = start
            while pos < len(cell_claims) and cell_claims[pos] == cid:
                where[(cell_sn[pos], cell_cat[pos])] = pos
                pos += 1
            if result.lines:
                for lp in result.lines:
                    for cat, v in lp.amounts.items():
                        cell_paid[where[(lp.feedetl_sn, Category(cat).value)]] = int(v)
            else:
                for cat, v in result.totals.items():
                    cell_paid[where[("", cat.value)]] = int(v)
        if progress is not None and (c + 1) % 1000 == 0:
            progress(1000)
    if progress is not None and n_c % 1000:
        progress(n_c % 1000)
    cidl, amount = population_arrays(pop)
    return DesignResult(
        design=design,
        mode="exact",
        claim_ids=tuple(claim_ids),
        claim_member=tuple(claim_member),
        member_ids=reg.member_ids,
        enrolled=reg.enrolled,
        covered=covered,
        pre_existing=pre,
        eligible=eligible,
        deductible=deductible,
        paid=paid,
        waiting=waiting,
        cell_paid=cell_paid,
        cell_cidl=cidl,
        cell_amount=amount,
    )
