"""The figures a product team reads, computed from a :class:`DesignResult` (amounts integer fen).

Shares and ratios are exact decimals written as text (``"0.8123"``, four places, half-up);
percentiles use the nearest-rank method on the members' integer payouts, so no float ever touches
an amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from onestop.products import LiabilityKind
from onestop.simulator._result import DesignResult
from onestop.simulator._synthetic import CIDL_NAMES

__all__ = ["CAR_T_CIDL_NOS", "PERCENTILES", "design_summary", "percentile"]

#: CIDL entries that are CAR-T cell therapies (2025 商保创新药目录 nos. 10–14).
CAR_T_CIDL_NOS: frozenset[int] = frozenset({10, 11, 12, 13, 14})
PERCENTILES: tuple[tuple[str, Decimal], ...] = (
    ("p50", Decimal("0.5")),
    ("p90", Decimal("0.9")),
    ("p99", Decimal("0.99")),
    ("p99_9", Decimal("0.999")),
)
_Q = Decimal("0.0001")


def share(part: int, whole: int) -> str:
    """``part / whole`` as exact decimal text with four places ("0" when ``whole`` is 0)."""
    if whole == 0:
        return "0"
    return str((Decimal(part) / Decimal(whole)).quantize(_Q, rounding=ROUND_HALF_UP))


def percentile(sorted_values: npt.NDArray[np.int64], q: Decimal) -> int:
    """Nearest-rank percentile of ascending integer values: the smallest value with at least ``q`` at or below it."""
    n = int(sorted_values.size)
    if n == 0:
        return 0
    rank = int((q * n).to_integral_value(rounding="ROUND_CEILING"))
    return int(sorted_values[max(rank, 1) - 1])


def design_summary(result: DesignResult, *, without_pre_existing_ratio: DesignResult | None = None) -> dict[str, Any]:
    """Every figure of one design's run as a JSON-able dict.

    Args:
        result: The run.
        without_pre_existing_ratio: The same design and population with every ``pre_existing_ratio``
            removed, to state the effect of the pre-existing ratio.
    """
    d = result.design
    enrolled = int(result.enrolled.sum())
    premium = int(d.premium_fen) * enrolled
    payout = result.payout_fen
    member_index = {m: i for i, m in enumerate(result.member_ids)}
    per_member = np.zeros(len(result.member_ids), dtype=np.int64)
    claim_pos = np.array([member_index.get(m, -1) for m in result.claim_member], dtype=np.int64)
    known = claim_pos >= 0
    np.add.at(per_member, claim_pos[known], result.paid.sum(axis=1)[known])
    enrolled_pay = np.sort(per_member[result.enrolled])
    # Members whose borne deductible reached a (non-zero) pool's full amount in the product year.
    reached = np.zeros(len(result.member_ids), dtype=np.bool_)
    pools = list(d.deductibles)
    for p in pools:
        amount = int(d.deductibles[p])
        if amount == 0:
            continue
        cols = [j for j, lia in enumerate(d.liabilities) if lia.deductible == p]
        borne = np.zeros(len(result.member_ids), dtype=np.int64)
        np.add.at(borne, claim_pos[known], result.deductible[:, cols].sum(axis=1)[known])
        reached |= borne >= amount
    top_n = max(1, -(-enrolled // 100)) if enrolled else 0
    top = int(enrolled_pay[::-1][:top_n].sum()) if enrolled else 0
    liabilities = []
    for j, lia in enumerate(d.liabilities):
        col = result.paid[:, j]
        members_paid = np.zeros(len(result.member_ids), dtype=np.bool_)
        members_paid[claim_pos[known & (col > 0)]] = True
        liabilities.append(
            {
                "id": lia.id,
                "name": lia.name,
                "kind": lia.kind.value,
                "eligible_fen": int(result.eligible[:, j].sum()),
                "deductible_fen": int(result.deductible[:, j].sum()),
                "paid_fen": int(col.sum()),
                "claims_paid": int((col > 0).sum()),
                "members_paid": int(members_paid.sum()),
                "waiting_period_claims": int(result.waiting[:, j].sum()),
            }
        )
    names = CIDL_NAMES
    cidl = []
    for no in sorted(int(x) for x in np.unique(result.cell_cidl) if x > 0):
        m = result.cell_cidl == no
        cidl.append(
            {
                "cidl_no": no,
                "name": names.get(no, ""),
                "car_t": no in CAR_T_CIDL_NOS,
                "cells": int(m.sum()),
                "offered_fen": int(result.cell_amount[m].sum()),
                "paid_fen": int(result.cell_paid[m].sum()),
            }
        )
    car_t_cells = np.isin(result.cell_cidl, np.array(sorted(CAR_T_CIDL_NOS), dtype=np.int64))
    car_t_liabilities = [j for j, lia in enumerate(d.liabilities) if lia.kind is LiabilityKind.CAR_T]
    pre = result.pre_existing
    pre_paid = int(result.paid[pre].sum())
    pre_block: dict[str, Any] = {"claims": int(pre.sum()), "paid_fen": pre_paid}
    if without_pre_existing_ratio is not None:
        alt = without_pre_existing_ratio.payout_fen
        pre_block["payout_without_pre_existing_ratio_fen"] = alt
        pre_block["saving_fen"] = alt - payout
    return {
        "code": d.code,
        "name": d.name,
        # Where the design's figures come from, and which of them are examples rather than sourced: a
        # premium marked here makes the premium income, loss ratio and break-even examples too.
        "source": d.source,
        "example_values": list(d.example_values),
        "mode": result.mode,
        "members": len(result.member_ids),
        "enrolled_members": enrolled,
        "claims": len(result.claim_ids),
        "claims_covered": int(result.covered.sum()),
        "claims_paid": int((result.paid.sum(axis=1) > 0).sum()),
        "premium_per_member_fen": int(d.premium_fen),
        "premium_fen": premium,
        "payout_fen": payout,
        # No premium, no ratio: a design sold for nothing that pays something has no loss ratio to state.
        "loss_ratio": share(payout, premium) if premium or not payout else None,
        "break_even_premium_fen": -(-payout // enrolled) if enrolled else 0,
        "liabilities": liabilities,
        "member_payout": {
            **{k: percentile(enrolled_pay, q) for k, q in PERCENTILES},
            "max": int(enrolled_pay[-1]) if enrolled else 0,
            "members_paid": int((enrolled_pay > 0).sum()),
            "share_paid": share(int((enrolled_pay > 0).sum()), enrolled),
            "share_reaching_deductible": share(int((reached & result.enrolled).sum()), enrolled),
            "top_1pct_members": top_n,
            "top_1pct_share": share(top, payout),
        },
        "cidl": cidl,
        "car_t": {
            "cells": int(car_t_cells.sum()),
            "offered_fen": int(result.cell_amount[car_t_cells].sum()),
            "paid_fen": int(result.cell_paid[car_t_cells].sum()),
            "car_t_liability_paid_fen": int(result.paid[:, car_t_liabilities].sum()) if car_t_liabilities else 0,
        },
        "pre_existing": pre_block,
    }
