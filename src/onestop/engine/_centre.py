"""The basic leg as the NHSA centre settled it: authoritative over the engine's own figures.

When the basic leg goes through the national platform (2207/2304), the centre's figures are what
was paid. The engine's computation is then a preview and a cross-check: each figure that differs
is reported as a ``CENTRE_DIFFERS`` warning with both values, and the centre's fund payments,
deductible and co-pay are allocated back to the lines by the same largest-remainder rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from onestop.domain.settlement import BasicLeg, Leg, PayerKey
from onestop.engine._funds import BASIC_FUND_FIGURES, BasicTotals, _outside_remaining, allocate_inscope
from onestop.engine._work import Work
from onestop.errors import IntegrityViolation
from onestop.money import format_yuan


def centre_differences(engine: BasicTotals, inscope_fen: int, centre: BasicLeg) -> list[str]:
    """``CENTRE_DIFFERS`` warnings, one per figure where the engine and the centre disagree."""
    out: list[str] = []
    if int(centre.inscp_scp_amt) != inscope_fen:
        out.append(
            f"CENTRE_DIFFERS:inscp_scp_amt: engine {format_yuan(inscope_fen)}, centre {format_yuan(centre.inscp_scp_amt)}"
        )
    for name in BASIC_FUND_FIGURES:
        mine, theirs = int(getattr(engine, name)), int(getattr(centre, name))
        if mine != theirs:
            out.append(f"CENTRE_DIFFERS:{name}: engine {format_yuan(mine)}, centre {format_yuan(theirs)}")
    return out


def adopt_centre(works: Sequence[Work], engine: BasicTotals, centre: BasicLeg) -> tuple[BasicTotals, list[str]]:
    """Re-allocate the basic-leg lines with the centre's figures; returns the totals and the warnings.

    The lines keep the engine's split (全自费 / 超限价 / 先行自付 / 政策范围内); the centre's deductible
    and fund payments are allocated over the lines' in-scope amounts, and what is left is co-pay.

    Raises:
        IntegrityViolation: the centre's deductible and funds exceed the in-scope amount of the
            lines, or its fund details do not add up to ``fund_pay_sumamt``: the two splits cannot be
            reconciled line by line, and the leg needs the centre's per-line split (2204/2301).
    """
    group = [w for w in works if w.leg is Leg.BASIC]
    inscope = sum(w.split.inscope for w in group)
    warnings = centre_differences(engine, inscope, centre)
    funds = [(PayerKey.fund(d.fund_pay_type), int(d.fund_payamt)) for d in centre.fund_details]
    paid = sum(a for _p, a in funds)
    if paid != int(centre.fund_pay_sumamt):
        raise IntegrityViolation(
            f"centre fund details add up to {format_yuan(paid)}, not fund_pay_sumamt {format_yuan(centre.fund_pay_sumamt)}"
        )
    dedc = int(centre.act_pay_dedc)
    if dedc + paid > inscope:
        raise IntegrityViolation(
            f"centre deductible + funds {format_yuan(dedc + paid)} exceed the in-scope amount "
            f"{format_yuan(inscope)} of the basic lines"
        )
    for w in group:
        w.cells.clear()
        w.remaining.clear()
        _outside_remaining(w)
    allocate_inscope(group, dedc, funds, inscope - dedc - paid)
    figures: dict[str, Any] = {name: int(getattr(centre, name)) for name in BASIC_FUND_FIGURES}
    totals = replace(
        engine,
        pool_prop_selfpay=centre.pool_prop_selfpay,
        fund_details=centre.fund_details,
        deltas=centre.accumulator_deltas or engine.deltas,
        **figures,
    )
    return totals, warnings
