"""A product design as an in-process payer of the engine (``onestop settle --payers``, the demo, tests)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from onestop.domain.offer import AnswerStatus, CommercialAnswer, Offer
from onestop.errors import InvalidRequest
from onestop.money import Fen
from onestop.products._adjudicate import MemberFacts, adjudicate
from onestop.products._schema import Design
from onestop.sdk import ReasonCode

__all__ = ["ProductPayer", "in_process_payer"]


class ProductPayer:
    """Answers the engine's offers with the matching product design; keeps accumulators in memory.

    The member register is ``members`` (member_ref → facts); a member it does not list is taken as
    enrolled on the first day of the policy period with no pre-existing condition, since an
    in-process run has no insurer register to ask. Accumulators grow across the offers answered,
    keyed by (product, member_ref, product year), so bills settled in one run share a deductible.
    """

    def __init__(self, name: str, designs: Iterable[Design], members: Mapping[str, MemberFacts] | None = None) -> None:
        """Build the payer.

        Raises:
            InvalidRequest: two designs share a product code.
        """
        self.name = name
        self.designs: dict[str, Design] = {}
        for d in designs:
            if d.code in self.designs:
                raise InvalidRequest(f"payer {name!r}: product {d.code!r} given twice")
            self.designs[d.code] = d
        self.members = dict(members or {})
        self.accumulators: dict[tuple[str, str, int], dict[str, int]] = {}

    def __call__(self, offer: Offer) -> CommercialAnswer:
        """The answer to ``offer`` (its accumulator deltas are applied here, once per reference)."""
        design = self.designs.get(offer.product)
        if design is None:
            return CommercialAnswer(
                reference=offer.reference,
                payer=self.name,
                status=AnswerStatus.DECLINED,
                reason=ReasonCode.NOT_COVERED.value,
                raw_message=f"no product {offer.product!r} at payer {self.name!r}",
            )
        member = self.members.get(offer.member_ref, MemberFacts(enrolled_on=design.policy_period.start))
        key = (design.code, offer.member_ref, design.product_year)
        acc = self.accumulators.setdefault(key, {})
        result = adjudicate(design, offer, member, acc)
        for k, v in result.deltas.items():
            acc[k] = acc.get(k, 0) + v
        paying = result.status in (AnswerStatus.APPROVED, AnswerStatus.PARTIAL)
        return CommercialAnswer(
            reference=offer.reference,
            payer=self.name,
            status=result.status,
            lines=result.paid_lines if paying else (),
            totals={c: Fen(v) for c, v in result.totals.items()} if paying and not result.lines else {},
            reason=result.reason.value,
            payer_claim_id=f"{self.name}:{offer.reference}" if paying else "",
        )


def in_process_payer(
    name: str, designs: Iterable[Design], members: Mapping[str, MemberFacts] | None = None
) -> ProductPayer:
    """An in-process payer named ``name`` answering with ``designs`` (picked by ``offer.product``).

    Args:
        name: The payer name coverages use (e.g. ``huiminbao``).
        designs: The products it sells.
        members: Its member register (member_ref → facts); see :class:`ProductPayer` for the default.
    """
    return ProductPayer(name, designs, members)
