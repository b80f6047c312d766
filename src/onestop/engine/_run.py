"""All stages in-process: what the simulator, the CLI and the tests use."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from onestop.catalog.resolution import CatalogView
from onestop.domain.bill import Bill
from onestop.domain.offer import AnswerStatus, CommercialAnswer, Offer
from onestop.domain.settlement import Settlement
from onestop.engine._stages import apply_commercial, finalize, settle_funds

#: A payer answering in-process: offer in, answer out (e.g. a rules-as-data 惠民保 product).
InProcessPayer = Callable[[Offer], CommercialAnswer]


def settle(
    bill: Bill,
    catalogs: CatalogView,
    policy: Any,
    accumulators: Mapping[str, int] | None = None,
    payers: Mapping[str, InProcessPayer] | None = None,
    *,
    treatment_policy: Any | None = None,
) -> Settlement:
    """Settle a bill end to end with in-process payers.

    A coverage whose payer is not in ``payers`` is answered DECLINED with reason ``PAYER_NOT_CONFIGURED``
    (the patient pays that part, and the settlement says so). ``treatment_policy``: see
    :func:`settle_funds` (异地 visits).
    """
    state = settle_funds(bill, catalogs, policy, accumulators, treatment_policy=treatment_policy)
    payers = payers or {}
    for idx, cov in enumerate(bill.coverages):
        offer = state.offer_for(idx)
        fn = payers.get(cov.payer)
        if fn is None:
            answer = CommercialAnswer(
                reference=offer.reference, payer=cov.payer, status=AnswerStatus.DECLINED, reason="PAYER_NOT_CONFIGURED"
            )
        else:
            answer = fn(offer)
        state = apply_commercial(state, answer, offer=offer)
    return finalize(state)
