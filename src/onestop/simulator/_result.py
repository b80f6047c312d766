"""What one design paid on one population, claim by claim and cell by cell (both modes produce this)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from onestop.products import Design, MemberFacts
from onestop.simulator._tables import Population

__all__ = ["DesignResult", "Register", "member_register"]

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Register:
    """The insurer's member register for one design, as the simulator builds it from the members table.

    A member is enrolled when the design's eligibility admits their region, insurance type and age
    and ``enrolled_on`` is not after the policy period; cover starts on ``enrolled_on``, or on the
    period's first day when that is null or earlier (a renewal). The pre-existing groups kept are
    those the design recognises.
    """

    member_ids: tuple[str, ...]
    enrolled: Bool
    enrolled_on: tuple[dt.date, ...]
    pre_existing: tuple[frozenset[str], ...]

    def facts(self) -> dict[str, MemberFacts | None]:
        """member_id → :class:`MemberFacts`, or None for a member the design does not admit."""
        return {
            m: MemberFacts(self.enrolled_on[i], self.pre_existing[i]) if self.enrolled[i] else None
            for i, m in enumerate(self.member_ids)
        }


def member_register(members: pl.DataFrame, design: Design) -> Register:
    """The register ``design`` would hold for ``members`` (see :class:`Register`)."""
    groups = {g.id for g in design.pre_existing}
    ids: list[str] = []
    enrolled: list[bool] = []
    on: list[dt.date] = []
    pre: list[frozenset[str]] = []
    start = design.policy_period.start
    for r in members.iter_rows(named=True):
        ids.append(r["member_id"])
        age = r["age"]
        # Enrolled before the product year (a renewal): covered from the year's first day.
        day = max(r["enrolled_on"] or start, start)
        enrolled.append(
            age is not None
            and design.eligibility.admits(r["insured_region"] or "", r["insutype"] or "", int(age))
            and day <= design.policy_period.end
        )
        on.append(day)
        pre.append(frozenset(g for g in (r["pre_existing"] or "").split(";") if g in groups))
    return Register(tuple(ids), np.array(enrolled, dtype=np.bool_), tuple(on), tuple(pre))


@dataclass(frozen=True, slots=True)
class DesignResult:
    """One design over one population: per claim × liability and per cell, all integer fen.

    Rows follow ``claim_ids`` (accumulator order); columns follow ``design.liabilities``; ``cell_paid``
    follows the population's cells table.

    Attributes:
        design: The design.
        mode: ``exact`` or ``fast``.
        claim_ids: Claim ids, in the order of the rows.
        claim_member: Per claim, the member's id.
        member_ids: Every member of the population.
        enrolled: Per member, admitted by the design.
        covered: Per claim, the product considered it (member enrolled before admission, discharge in period).
        pre_existing: Per claim, taken as a pre-existing condition.
        eligible: Amount each liability took (``E``).
        deductible: Deductible borne by each liability.
        paid: Paid by each liability.
        waiting: The liability was in its waiting period.
        cell_paid: Paid on each cell of the cells table.
    """

    design: Design
    mode: str
    claim_ids: tuple[str, ...]
    claim_member: tuple[str, ...]
    member_ids: tuple[str, ...]
    enrolled: Bool
    covered: Bool
    pre_existing: Bool
    eligible: I64
    deductible: I64
    paid: I64
    waiting: Bool
    cell_paid: I64
    cell_cidl: I64
    """Per cell, its CIDL entry number (0 when not a CIDL line)."""
    cell_amount: I64

    @property
    def payout_fen(self) -> int:
        """Total paid."""
        return int(self.paid.sum())


def population_arrays(pop: Population) -> tuple[I64, I64]:
    """Per cell: its CIDL number (0: none) and amount (fen)."""
    cidl = pop.cells.get_column("cidl_no").fill_null(0).to_numpy().astype(np.int64)
    amount = pop.cells.get_column("amount_fen").to_numpy().astype(np.int64)
    return cidl, amount
