"""The pure maternity-fund calculator (生育, fund 510100): no 甲/乙, a deductible, a ratio, a standard, a cap.

::

    dedc  = min(inscope, deductible)
    fund  = min((inscope − dedc) × ratio, standard for the med_type, annual cap left)
    copay = inscope − dedc − fund

Identity: inscope = dedc + fund + copay, all ≥ 0. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from onestop.errors import FieldViolation, InvalidRequest
from onestop.money import Fen, apply_ratio, format_yuan
from onestop.policy._accumulators import Accumulators
from onestop.policy._basic import FUND_NAMES, FundPayment
from onestop.policy._model import RegionalPolicy
from onestop.policy._terms import ANY

__all__ = ["MaternityResult", "compute_maternity"]

MATERNITY_FUND = "510100"


@dataclass(frozen=True, slots=True)
class MaternityResult:
    """Bill-level maternity amounts."""

    fund_pay_fen: Fen
    """What the 生育 fund pays."""
    deductible_fen: Fen
    """Deductible the patient bears."""
    copay_fen: Fen
    """In-scope amount above the deductible the fund did not pay (ratio, standard, cap)."""
    details: tuple[FundPayment, ...]
    """The 510100 row when the fund paid."""
    deltas: Accumulators
    """Accumulator increments (``maternity_paid``)."""


def compute_maternity(
    policy: RegionalPolicy, inscope_fen: int, accumulators: Accumulators, *, med_type: str = ANY
) -> MaternityResult:
    """Compute the 生育 fund on a maternity bill.

    Args:
        policy: The insured region's policy.
        inscope_fen: Σ in-catalog amount of the maternity leg's lines (no 先行自付 on this leg).
        accumulators: Year-to-date figures of the maternity insutype before this bill.
        med_type: ``51`` (生育门诊) or ``52`` (生育住院); picks the per-visit payment standard.

    Returns:
        The fund payment, the patient's deductible and co-pay, and the increments.

    Raises:
        InvalidRequest: a negative in-scope amount.
    """
    if inscope_fen < 0:
        raise InvalidRequest(
            "negative in-scope amount", violations=(FieldViolation("lines", "in-scope amount cannot be negative"),)
        )
    m = policy.maternity
    inscope = int(inscope_fen)
    dedc = min(inscope, int(m.deductible_fen))
    raw = int(apply_ratio(inscope - dedc, m.ratio))
    limits: list[int] = []
    standard = m.standard_fen.get(med_type, m.standard_fen.get(ANY))
    if standard is not None:
        limits.append(int(standard))
    if m.annual_cap_fen is not None:
        limits.append(max(0, int(m.annual_cap_fen) - int(accumulators.maternity_paid)))
    limit = min(limits) if limits else None
    fund = raw if limit is None else min(raw, limit)
    info = (
        f"政策范围内{format_yuan(inscope)}; 起付{format_yuan(dedc)}; ({format_yuan(inscope)}−{format_yuan(dedc)})"
        f"×{m.ratio}={format_yuan(raw)}; {'无限额' if limit is None else '限额' + format_yuan(limit)} → {format_yuan(fund)}"
    )
    details = (
        (
            FundPayment(
                MATERNITY_FUND,
                FUND_NAMES[MATERNITY_FUND],
                Fen(inscope),
                None if limit is None else Fen(limit),
                Fen(fund),
                info,
            ),
        )
        if fund
        else ()
    )
    return MaternityResult(
        fund_pay_fen=Fen(fund),
        deductible_fen=Fen(dedc),
        copay_fen=Fen(inscope - dedc - fund),
        details=details,
        deltas=Accumulators(year=accumulators.year, maternity_paid=Fen(fund)),
    )
