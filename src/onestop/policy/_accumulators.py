"""Year-to-date accumulators of one person, insutype and benefit year (所有累计值, fen)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from onestop.money import Fen

__all__ = ["Accumulators"]

_NONE = Fen(0)


@dataclass(frozen=True, slots=True)
class Accumulators:
    """A person's year-to-date figures for one insutype and benefit year, all in fen.

    The same type carries the increments a settlement adds (``deltas``); increments are never negative.
    Per-kind fields exist for every benefit kind whose terms can apply (the kind after fallback).
    """

    year: int
    """The benefit year the figures belong to."""
    deductible_used_inpatient: Fen = _NONE
    """Yearly deductible already charged under inpatient terms (only for ``deductible_per: year``)."""
    deductible_used_general_outpatient: Fen = _NONE
    """Yearly deductible already charged under general-outpatient terms."""
    deductible_used_chronic_special: Fen = _NONE
    """Yearly deductible already charged under 门诊慢特病 terms."""
    deductible_used_two_diseases: Fen = _NONE
    """Yearly deductible already charged under 两病 terms."""
    deductible_used_pharmacy_outpatient: Fen = _NONE
    """Yearly deductible already charged under pharmacy (outpatient prescription) terms."""
    deductible_used_pharmacy_inpatient_discharge: Fen = _NONE
    """Yearly deductible already charged under pharmacy (discharge prescription) terms."""
    deductible_used_pharmacy_chronic: Fen = _NONE
    """Yearly deductible already charged under pharmacy (chronic prescription) terms."""
    pool_paid: Fen = _NONE
    """统筹 paid against the insutype's shared annual cap."""
    pool_paid_inpatient: Fen = _NONE
    """统筹 paid under inpatient terms (checked against that kind's own cap, if any)."""
    pool_paid_general_outpatient: Fen = _NONE
    """统筹 paid under general-outpatient terms."""
    pool_paid_chronic_special: Fen = _NONE
    """统筹 paid under 门诊慢特病 terms."""
    pool_paid_two_diseases: Fen = _NONE
    """统筹 paid under 两病 terms."""
    pool_paid_pharmacy_outpatient: Fen = _NONE
    """统筹 paid under pharmacy (outpatient prescription) terms."""
    pool_paid_pharmacy_inpatient_discharge: Fen = _NONE
    """统筹 paid under pharmacy (discharge prescription) terms."""
    pool_paid_pharmacy_chronic: Fen = _NONE
    """统筹 paid under pharmacy (chronic prescription) terms."""
    large_base: Fen = _NONE
    """Base accumulated by the 大额 layer (what it pays on, see ``LayerBase``)."""
    large_paid: Fen = _NONE
    """大额 (hifob) paid."""
    serious_base: Fen = _NONE
    """Base accumulated by the 大病保险 layer (e.g. in-scope personal burden)."""
    serious_paid: Fen = _NONE
    """大病保险 (hifmi) paid."""
    civil_paid: Fen = _NONE
    """公务员医疗补助 paid."""
    assistance_deductible_used: Fen = _NONE
    """医疗救助 yearly deductible already charged."""
    assistance_paid: Fen = _NONE
    """医疗救助 paid."""
    maternity_paid: Fen = _NONE
    """生育 fund paid (maternity insutype)."""

    def get(self, name: str) -> int:
        """An accumulator by field name (0 for a kind-specific name this type does not have)."""
        return int(getattr(self, name, 0))

    def amounts(self) -> dict[str, int]:
        """Every amount field by name (the year excluded)."""
        return {f.name: int(getattr(self, f.name)) for f in fields(self) if f.name != "year"}
