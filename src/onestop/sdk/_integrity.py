"""Integrity checks on every payer result: a violating result is rejected, never trusted.

Pure functions returning the list of problems; :func:`check_payment` and :func:`check_channel_settle`
raise :class:`~onestop.errors.IntegrityViolation` naming every problem found.
"""

from __future__ import annotations

from onestop.domain.bill import Bill
from onestop.domain.offer import PAYABLE, AnswerStatus, Category, Offer
from onestop.errors import IntegrityViolation
from onestop.sdk._capabilities import Capabilities, ChannelCapabilities, OfferDetail
from onestop.sdk._channel_models import ChannelSettleResult
from onestop.sdk._insurer_models import PaymentResult

__all__ = ["channel_settle_problems", "check_channel_settle", "check_payment", "payment_problems"]

_PAYING = (AnswerStatus.APPROVED, AnswerStatus.PARTIAL)


def _is_fen(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def payment_problems(offer: Offer, result: PaymentResult, capabilities: Capabilities) -> list[str]:
    """Everything wrong with ``result`` as an answer to ``offer`` (empty when it is sound).

    Checked: reference and payer echo; amounts are integer fen and not negative; payments only on a
    paying status; per line or per total, not both; per-line answers only for a per-line offer and
    a per-line adapter; every line was offered, once; only payable categories the adapter declares;
    never more than offered on any line and category, nor over the bill per category.
    """
    problems: list[str] = []
    if result.reference != offer.reference:
        problems.append(f"reference {result.reference!r} does not echo the offer's {offer.reference!r}")
    if result.payer != offer.payer:
        problems.append(f"payer {result.payer!r} does not echo the offer's {offer.payer!r}")
    cells: list[tuple[str, Category, object]] = [
        (lp.feedetl_sn, c, v) for lp in result.lines for c, v in lp.amounts.items()
    ]
    cells += [("", c, v) for c, v in result.totals.items()]
    for sn, cat, value in cells:
        where = f"line {sn} " if sn else ""
        if not _is_fen(value):
            problems.append(f"{where}{cat}: amount {value!r} is not integer fen")
        elif int(value) < 0:  # type: ignore[call-overload]  # _is_fen narrowed it to int
            problems.append(f"{where}{cat}: negative amount {value}")
    if problems:
        return problems
    if result.status not in _PAYING:
        if result.paid_fen:
            problems.append(f"a {result.status.value} result carries payments")
        return problems
    if result.lines and any(result.totals.values()):
        problems.append("a result is either per line or per category total, not both")
    if result.lines and capabilities.detail is OfferDetail.TOTALS:
        problems.append("answered per line but the adapter declares category totals")
    if result.lines and not offer.lines:
        problems.append("answered per line but was offered category totals only")
    offered = {lo.feedetl_sn: lo for lo in offer.lines}
    seen: set[str] = set()
    for lp in result.lines:
        lo = offered.get(lp.feedetl_sn)
        if lo is None:
            problems.append(f"line {lp.feedetl_sn!r} was not offered")
            continue
        if lp.feedetl_sn in seen:
            problems.append(f"line {lp.feedetl_sn!r} answered twice")
        seen.add(lp.feedetl_sn)
        for cat, amount in lp.amounts.items():
            if amount > lo.amounts.get(cat, 0):
                problems.append(
                    f"line {lp.feedetl_sn} {cat}: pays {int(amount)} > offered {int(lo.amounts.get(cat, 0))}"
                )
    for cat, paid in result.paid_by_category().items():
        if cat not in PAYABLE:
            problems.append(f"{cat}: cannot be paid by a payer")
        elif cat not in capabilities.categories and paid:
            problems.append(f"{cat}: the adapter does not declare it pays this category")
        if paid > offer.totals.get(cat, 0):
            problems.append(f"{cat}: pays {paid} > offered {int(offer.totals.get(cat, 0))} over the bill")
    return problems


def check_payment(offer: Offer, result: PaymentResult, capabilities: Capabilities, *, flow: str) -> None:
    """Raise :class:`IntegrityViolation` when :func:`payment_problems` finds anything."""
    problems = payment_problems(offer, result, capabilities)
    if problems:
        raise IntegrityViolation(f"{offer.payer}: " + "; ".join(problems), payer=offer.payer, flow=flow)


def channel_settle_problems(
    bill: Bill, reference: str, result: ChannelSettleResult, capabilities: ChannelCapabilities
) -> list[str]:
    """Everything wrong with a channel's settle result for ``bill`` (empty when it is sound)."""
    problems: list[str] = []
    if result.reference != reference:
        problems.append(f"reference {result.reference!r} does not echo {reference!r}")
    leg = result.leg
    if leg is None:
        return problems
    if leg.kind not in capabilities.legs:
        problems.append(f"returned a {leg.kind} leg but the channel declares {sorted(capabilities.legs)}")
    bill_total = sum(int(line.amount_fen) for line in bill.lines)
    if leg.medfee_sumamt > bill_total:
        problems.append(f"leg total {int(leg.medfee_sumamt)} > bill total {bill_total}")
    paid = {
        "basic": lambda: int(getattr(leg, "fund_pay_sumamt", 0)),
        "work_injury": lambda: int(getattr(leg, "fund_pay_fen", 0)),
        "maternity": lambda: int(getattr(leg, "fund_pay_fen", 0)),
    }[leg.kind]()
    if paid > leg.medfee_sumamt:
        problems.append(f"fund pays {paid} > leg total {int(leg.medfee_sumamt)}")
    return problems


def check_channel_settle(
    bill: Bill,
    reference: str,
    result: ChannelSettleResult,
    capabilities: ChannelCapabilities,
    *,
    channel: str,
    flow: str,
) -> None:
    """Raise :class:`IntegrityViolation` when :func:`channel_settle_problems` finds anything."""
    problems = channel_settle_problems(bill, reference, result, capabilities)
    if problems:
        raise IntegrityViolation(f"{channel}: " + "; ".join(problems), payer=channel, flow=flow)
