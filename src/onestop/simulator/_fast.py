"""Fast mode: the rules of :func:`onestop.products.adjudicate`, re-stated over whole columns with numpy.

Each step names the rule it mirrors (numbers of ``adjudicate``'s docstring). The sequential parts —
deductible and sum-insured pools consumed claim after claim and liability after liability — are
running sums within each member: with ``S_k`` the running sum of amounts offered to a pool, what
the ``k``-th entry takes is ``min(S_k, pool) − min(S_{k−1}, pool)``, which is the step-by-step
``min(amount, room left)`` of the adjudication, computed for every entry at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import polars as pl

from onestop.products import Design
from onestop.simulator._result import DesignResult, population_arrays
from onestop.simulator._tables import Population

__all__ = ["assign_liabilities", "run_fast"]

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


_EPOCH = 719163  # date(1970, 1, 1).toordinal(): polars dates count days from 1970


def _register(members: pl.DataFrame, design: Design) -> tuple[Bool, I64, dict[str, Bool]]:
    """:func:`onestop.simulator.member_register` over whole columns: enrolled, cover start (ordinal), groups."""
    e = design.eligibility
    start, end = design.policy_period.start, design.policy_period.end
    region = pl.col("insured_region").fill_null("")
    admits = (
        region.is_in(list(e.insured_regions)) | (region.str.slice(0, 2) + "0000").is_in(list(e.insured_regions))
    ) & (pl.col("insutype").fill_null("").is_in(list(e.insutypes)))
    age = pl.col("age")
    ok = age.is_not_null() & admits
    if e.min_age is not None:
        ok &= age >= e.min_age
    if e.max_age is not None:
        ok &= age <= e.max_age
    day = pl.max_horizontal(pl.col("enrolled_on").fill_null(start), pl.lit(start))
    frame = members.select(
        (ok & (day <= pl.lit(end))).fill_null(False).alias("enrolled"),
        day.alias("day"),
        *(
            pl.col("pre_existing").fill_null("").str.split(";").list.contains(g.id).alias(f"g:{g.id}")
            for g in design.pre_existing
        ),
    )
    enrolled = frame.get_column("enrolled").to_numpy().astype(np.bool_)
    on = frame.get_column("day").to_physical().to_numpy().astype(np.int64) + _EPOCH
    groups = {g.id: frame.get_column(f"g:{g.id}").to_numpy().astype(np.bool_) for g in design.pre_existing}
    return enrolled, on, groups


def assign_liabilities(pop: Population, design: Design) -> I64:
    """Rule 5: per cell, the index of the first liability (design order) taking it, -1 when none."""
    cells = pop.cells
    cat = cells.get_column("category")
    detail = cells.get_column("detail").to_numpy()
    cidl = cells.get_column("cidl_no").fill_null(0).to_numpy()
    name = cells.get_column("name")
    code = cells.get_column("national_code")
    out = np.full(cells.height, -1, dtype=np.int64)
    for i, lia in enumerate(design.liabilities):
        take = (out < 0) & cat.is_in([c.value for c in lia.categories]).to_numpy()
        if lia.drugs is not None:
            d = lia.drugs
            match = np.isin(cidl, np.array(sorted(d.cidl_nos), dtype=np.int64))
            match |= name.is_in(sorted(d.names)).to_numpy()
            match |= ((code != "") & code.is_in(sorted(d.national_codes))).to_numpy()
            take &= detail & match
        out[take] = i
    return out


def _ratio(r: Decimal) -> tuple[int, int]:
    num, den = r.as_integer_ratio()
    return int(num), int(den)


def _starts_with_any(col: pl.Series, prefixes: Sequence[str]) -> Bool:
    pattern = "(^|;)(" + "|".join(re.escape(p) for p in prefixes) + ")"
    return np.asarray(col.fill_null("").str.contains(pattern).to_numpy(), dtype=np.bool_)


def _pooled(values: I64, pools: npt.NDArray[np.int64], caps: Sequence[int], seg_start: I64) -> I64:
    """Per entry, what it takes from its pool: ``min(S_k, cap) − min(S_{k−1}, cap)`` within each member.

    ``values`` is flat in (claim, liability) order; ``pools[j]`` is the pool of liability column ``j``;
    ``seg_start`` is, per flat entry, the flat index where its member's entries begin.
    """
    n_l = len(pools)
    flat_pool = np.tile(pools, values.size // n_l) if n_l else pools
    out = np.zeros_like(values)
    for p, cap in enumerate(caps):
        mask = flat_pool == p
        if not mask.any():
            continue
        v = np.where(mask, values, 0)
        cs = np.cumsum(v)
        before = cs[seg_start] - v[seg_start]
        s_k = cs - before
        took = np.minimum(s_k, cap) - np.minimum(s_k - v, cap)
        out = np.where(mask, took, out)
    return out


def run_fast(pop: Population, design: Design) -> DesignResult:
    """Apply ``design`` to every claim of ``pop`` (sorted: see :meth:`Population.sorted`) at once.

    Equal to :func:`onestop.simulator.run_exact` on the same population, to the fen, claim by claim
    and cell by cell.
    """
    claims = pop.claims
    n_c, n_l = claims.height, len(design.liabilities)
    period = design.policy_period
    enrolled, enrolled_ord, groups = _register(pop.members, design)
    # Per claim, its member's position in the members table (-1: unknown member).
    mpos = (
        claims.select("member_id")
        .join(pop.members.select("member_id").with_row_index("_m"), on="member_id", how="left", maintain_order="left")
        .get_column("_m")
        .fill_null(-1)
        .to_numpy()
        .astype(np.int64)
    )
    known = mpos >= 0
    claim_member = claims.get_column("member_id")
    adm = claims.get_column("admission_date").to_physical().to_numpy().astype(np.int64) + _EPOCH
    dis = claims.get_column("discharge_date").to_physical().to_numpy().astype(np.int64) + _EPOCH
    safe = np.where(known, mpos, 0)
    m_enrolled = np.where(known, enrolled[safe], False)
    m_on = np.where(known, enrolled_ord[safe], 0)
    # Rules 1–2: in the product year, member registered and enrolled by admission.
    covered = (m_enrolled & (dis >= period.start.toordinal()) & (dis <= period.end.toordinal()) & (m_on <= adm)).astype(
        np.bool_
    )
    # Rule 3: a diagnosis in a pre-existing group the member is registered with.
    pre = np.zeros(n_c, dtype=np.bool_)
    diagnoses = claims.get_column("diagnoses")
    for g in design.pre_existing:
        pre |= _starts_with_any(diagnoses, g.icd10_prefixes) & np.where(known, groups[g.id][safe], False)
    pre &= covered
    # Rules 4–5: cells to liabilities; E per claim × liability.
    lia = assign_liabilities(pop, design)
    order = claims.select("claim_id").with_row_index("_c")
    cell_claim = (
        pop.cells.select("claim_id").join(order, on="claim_id", how="left").get_column("_c").to_numpy().astype(np.int64)
    )
    cidl, amount = population_arrays(pop)
    took = lia >= 0
    eligible = np.zeros(n_c * max(n_l, 1), dtype=np.int64)
    np.add.at(eligible, cell_claim[took] * n_l + lia[took], amount[took])
    eligible = eligible.reshape(n_c, n_l) * covered[:, None]
    # Rule 6a: waiting period — pays nothing, bears no deductible.
    wait_days = np.array([lia_.waiting_days for lia_ in design.liabilities], dtype=np.int64)
    waiting = (adm[:, None] < m_on[:, None] + wait_days[None, :]) & (eligible > 0)
    counted = np.where(waiting, 0, eligible).ravel()
    # Entries of one member are contiguous (claims are sorted by member): where each member's entries start.
    codes = claim_member.to_physical() if claim_member.dtype == pl.Categorical else claim_member
    new_member = np.ones(n_c, dtype=np.bool_)
    if n_c > 1:
        new_member[1:] = (codes.slice(1) != codes.slice(0, n_c - 1)).to_numpy()
    claim_start = np.maximum.accumulate(np.where(new_member, np.arange(n_c), 0))
    seg_start = np.repeat(claim_start * n_l, n_l) if n_l else claim_start
    # Rule 6b: deductible pools shared in design order.
    ded_pools = list(design.deductibles)
    ded_of = np.array([ded_pools.index(x.deductible) for x in design.liabilities], dtype=np.int64)
    taken = _pooled(counted, ded_of, [int(design.deductibles[p]) for p in ded_pools], seg_start)
    # Rule 6c: ratio, pre-existing ratio where it applies, half-up to the fen in integers.
    num = np.empty((n_c, n_l), dtype=np.int64)
    den = np.empty((n_c, n_l), dtype=np.int64)
    for j, x in enumerate(design.liabilities):
        n1, d1 = _ratio(x.ratio)
        n2, d2 = _ratio(x.pre_existing_ratio) if x.pre_existing_ratio is not None else (n1, d1)
        num[:, j] = np.where(pre, n2, n1)
        den[:, j] = np.where(pre, d2, d1)
    above = counted - taken
    raw = (2 * above * num.ravel() + den.ravel()) // (2 * den.ravel())
    # Rule 6d: sum-insured pools.
    lim_pools = list(design.limits)
    lim_of = np.array([lim_pools.index(x.limit) for x in design.liabilities], dtype=np.int64)
    paid = _pooled(raw, lim_of, [int(design.limits[p]) for p in lim_pools], seg_start)
    paid2 = paid.reshape(n_c, n_l)
    # Rule 6f: paid split over the liability's cells by largest remainder, ties by cell order.
    cell_paid = _allocate(paid2, eligible, cell_claim, lia, amount, n_l)
    return DesignResult(
        design=design,
        mode="fast",
        claim_ids=tuple(claims.get_column("claim_id").to_list()),
        claim_member=tuple(claim_member.to_list()),
        member_ids=tuple(pop.members.get_column("member_id").to_list()),
        enrolled=enrolled,
        covered=covered,
        pre_existing=pre,
        eligible=eligible,
        deductible=taken.reshape(n_c, n_l),
        paid=paid2,
        waiting=waiting,
        cell_paid=cell_paid,
        cell_cidl=cidl,
        cell_amount=amount,
    )


def _allocate(paid: I64, eligible: I64, cell_claim: I64, lia: I64, amount: I64, n_l: int) -> I64:
    out = np.zeros(amount.size, dtype=np.int64)
    idx = np.flatnonzero(lia >= 0)
    if idx.size == 0:
        return out
    c, j, w = cell_claim[idx], lia[idx], amount[idx]
    total = paid[c, j]
    wsum = eligible[c, j]
    live = total > 0
    idx, c, j, w, total, wsum = idx[live], c[live], j[live], w[live], total[live], wsum[live]
    share, rem = np.divmod(total * w, wsum)
    group = c * n_l + j
    # Within a group: largest remainder first, then cell order (idx is cell order).
    order = np.lexsort((idx, -rem, group))
    g_sorted = group[order]
    first = np.ones(order.size, dtype=np.bool_)
    first[1:] = g_sorted[1:] != g_sorted[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(order.size), 0))
    rank = np.arange(order.size) - start
    given = np.zeros(order.size, dtype=np.int64)
    np.add.at(given, start, share[order])
    left = total[order][start] - given[start]
    extra = (rank < left).astype(np.int64)
    out[idx[order]] = share[order] + extra
    return out
