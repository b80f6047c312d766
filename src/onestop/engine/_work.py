"""Per-line working records the engine stages pass along (hot path: plain slotted classes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from onestop.catalog.resolution import Resolution
from onestop.domain.bill import BillLine
from onestop.domain.offer import Category
from onestop.domain.settlement import Leg, SplitCategory
from onestop.engine._split import Split

#: Offer category → cell category (same names; FUND has no offer category).
CELL_OF: dict[Category, SplitCategory] = {
    Category.FULAMT_OWNPAY: SplitCategory.FULAMT_OWNPAY,
    Category.CIDL: SplitCategory.CIDL,
    Category.OVERLMT: SplitCategory.OVERLMT,
    Category.PRESELFPAY: SplitCategory.PRESELFPAY,
    Category.DEDUCTIBLE: SplitCategory.DEDUCTIBLE,
    Category.COPAY: SplitCategory.COPAY,
}

#: Order in which a payer that pays "whatever is left" (the personal account) consumes a line.
ACCOUNT_FILL_ORDER: tuple[Category, ...] = (
    Category.PRESELFPAY,
    Category.DEDUCTIBLE,
    Category.COPAY,
    Category.OVERLMT,
    Category.FULAMT_OWNPAY,
)


@dataclass(slots=True)
class Work:
    """One line as it moves through the stages."""

    line: BillLine
    res: Resolution
    leg: Leg
    split: Split
    benefit_kind: str = ""
    cells: list[tuple[str, SplitCategory, int]] = field(default_factory=list)
    """(payer, category, fen) cells already settled."""
    remaining: dict[Category, int] = field(default_factory=dict)
    """The patient's remaining liability by category."""

    @property
    def sn(self) -> str:
        """The line's feedetl_sn."""
        return self.line.feedetl_sn

    def copy(self) -> Work:
        """A copy whose mutable parts can change without touching this one."""
        return Work(
            self.line, self.res, self.leg, self.split, self.benefit_kind, list(self.cells), dict(self.remaining)
        )

    def pay(self, payer: str, category: Category, amount: int) -> None:
        """Move ``amount`` of this line's remaining liability in ``category`` to ``payer``."""
        if amount <= 0:
            return
        left = self.remaining.get(category, 0) - amount
        if left < 0:
            raise ValueError(f"line {self.sn}: {payer} pays {amount} > remaining {category}")
        if left:
            self.remaining[category] = left
        else:
            self.remaining.pop(category, None)
        self.cells.append((payer, CELL_OF[category], amount))
