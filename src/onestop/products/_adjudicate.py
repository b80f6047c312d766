"""The pure adjudication of one offer for one member of a 惠民保 product: no I/O, no clock, no state.

The whole rule set is in :func:`adjudicate`'s docstring; the simulator's vectorised fast mode
re-implements exactly that text, so any change here is a change of the product rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from onestop.domain.offer import CATEGORY_ORDER, PAYABLE, AnswerStatus, Category, LineOffer, LinePayment, Offer
from onestop.errors import InvalidRequest
from onestop.money import allocate_ints, apply_ratio, trusted_fen
from onestop.products._schema import Design
from onestop.sdk import ReasonCode

__all__ = [
    "Adjudication",
    "LiabilityOutcome",
    "MemberFacts",
    "accumulator_keys",
    "adjudicate",
    "deductible_key",
    "paid_key",
]

#: Tie-break between liabilities leaving the same unpaid amount (first wins).
_REASON_PRIORITY: tuple[ReasonCode, ...] = (
    ReasonCode.WAITING_PERIOD,
    ReasonCode.SUM_INSURED_EXHAUSTED,
    ReasonCode.DEDUCTIBLE_NOT_MET,
    ReasonCode.CAP_REACHED,
    ReasonCode.PRE_EXISTING_CONDITION,
    ReasonCode.NOT_COVERED,
    ReasonCode.COVERED,
)
_RANK = {r: i for i, r in enumerate(_REASON_PRIORITY)}
_CAT_POS = {c: i for i, c in enumerate(CATEGORY_ORDER)}


def deductible_key(pool: str) -> str:
    """Accumulator key of a deductible pool: fen of the deductible already borne this product year."""
    return f"deductible:{pool}"


def paid_key(limit: str) -> str:
    """Accumulator key of a sum-insured pool: fen already paid from it this product year."""
    return f"paid:{limit}"


def accumulator_keys(design: Design) -> tuple[str, ...]:
    """Every accumulator key the design's liabilities read and write, in a stable order."""
    keys = dict.fromkeys(deductible_key(lia.deductible) for lia in design.liabilities)
    keys.update(dict.fromkeys(paid_key(lia.limit) for lia in design.liabilities))
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What the insurer holds about one member for one product year (its member register).

    Attributes:
        enrolled_on: Date cover starts for the member (waiting periods count from it).
        pre_existing: Ids of the design's pre-existing groups (``Design.pre_existing``) the member
            had before enrolling.
    """

    enrolled_on: dt.date
    pre_existing: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class LiabilityOutcome:
    """How one liability paid on one claim.

    Attributes:
        liability: The liability id.
        eligible_fen: Offered amount this liability took (sum of its cells).
        deductible_fen: Part of it borne as deductible on this claim.
        ratio: The ratio applied (the pre-existing ratio when it applied).
        paid_fen: Paid: ``round_half_up((eligible − deductible) × ratio)`` capped by the pool's room.
        reason: Why it paid what it paid (see :func:`adjudicate`).
    """

    liability: str
    eligible_fen: int
    deductible_fen: int
    ratio: Decimal
    paid_fen: int
    reason: ReasonCode


@dataclass(frozen=True, slots=True)
class Adjudication:
    """The outcome of one claim: payments, per-liability detail and the accumulator deltas to apply.

    Attributes:
        product: The design's code.
        product_year: The accumulators' year (the policy period's start year).
        status: APPROVED (everything offered paid), PARTIAL, or DECLINED (nothing paid).
        reason: The reason that speaks for the whole answer (``NONE`` on a full approval).
        pre_existing: The claim was taken as a pre-existing condition.
        outcomes: One per liability that took any amount, in design order.
        lines: Per-line payments (only for an offer with lines and something paid); every line
            with a payable amount appears, with its reason.
        totals: Paid per category (always, whichever form the offer has).
        deltas: Accumulator key → change (non-zero only); apply them under the leg's reference.
    """

    product: str
    product_year: int
    status: AnswerStatus
    reason: ReasonCode
    pre_existing: bool
    outcomes: tuple[LiabilityOutcome, ...] = ()
    lines: tuple[LinePayment, ...] = ()
    totals: dict[Category, int] = field(default_factory=dict)
    deltas: dict[str, int] = field(default_factory=dict)

    @property
    def paid_fen(self) -> int:
        """Total paid on this claim."""
        return sum(self.totals.values())

    @property
    def paid_lines(self) -> tuple[LinePayment, ...]:
        """The lines paid something (what an answer carries; :attr:`lines` also lists unpaid ones with their reason)."""
        return tuple(lp for lp in self.lines if lp.amounts)


@dataclass(slots=True)
class _Cell:
    sn: str
    category: Category
    amount: int
    line: LineOffer | None
    liability: int = -1
    paid: int = 0


def _cells(offer: Offer) -> list[_Cell]:
    if offer.lines:
        return [
            _Cell(lo.feedetl_sn, c, int(lo.amounts[c]), lo)
            for lo in offer.lines
            for c in sorted(lo.amounts, key=_CAT_POS.__getitem__)
            if c in PAYABLE and lo.amounts[c] > 0
        ]
    return [
        _Cell("", c, int(offer.totals[c]), None)
        for c in sorted(offer.totals, key=_CAT_POS.__getitem__)
        if c in PAYABLE and offer.totals[c] > 0
    ]


def _declined(design: Design, reason: ReasonCode, pre_existing: bool = False) -> Adjudication:
    return Adjudication(design.code, design.product_year, AnswerStatus.DECLINED, reason, pre_existing)


def _date(offer: Offer, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(getattr(offer, name))
    except ValueError:
        raise InvalidRequest(f"offer {offer.reference}: {name} {getattr(offer, name)!r} is not an ISO date") from None


def adjudicate(
    design: Design, offer: Offer, member: MemberFacts | None, accumulators: Mapping[str, int]
) -> Adjudication:
    """Adjudicate one offer for one member, given the member's product-year accumulators.

    The rules, in order:

    1. **Product year.** The claim belongs to the design's policy period when the offer's
       ``discharge_date`` lies in it (inclusive); otherwise DECLINED ``NOT_ELIGIBLE``. Accumulators
       are keyed by member (``offer.member_ref``) + product (``design.code``) + product year
       (:attr:`Design.product_year`, the period's start year) + key; ``accumulators`` holds this
       member's values for this product year (missing key = 0).
    2. **Member.** ``member`` None (not in the insurer's register) or enrolled after the
       ``admission_date``: DECLINED ``NOT_ELIGIBLE``.
    3. **Pre-existing condition.** The claim is pre-existing when any offer diagnosis (principal
       or other) belongs to a pre-existing group (ICD-10 prefix) that is in ``member.pre_existing``.
    4. **Cells.** The offer is cut into cells: with line detail, one per (line, payable category)
       with a positive amount, lines in offer order, categories in ``CATEGORY_ORDER``; without
       line detail, one per payable category total. ``account_paid`` is never a cell.
    5. **Which liability.** Each cell goes to the *first* liability in design order that lists
       the cell's category and, if it has a drug list, whose list matches the cell's line (CIDL
       number, exact name or national code). A totals-only offer matches no drug list. A cell no
       liability takes is not covered (reason ``NOT_COVERED``).
    6. **Per liability, in design order**, with ``E`` = sum of its cells:

       a. *Waiting period*: when ``admission_date < enrolled_on + waiting_days``, the liability
          pays 0 (``WAITING_PERIOD``) and its amounts do not count toward any deductible.
       b. *Deductible*: ``taken = min(E, max(0, deductibles[pool] − accumulated[pool]))`` where
          ``accumulated`` starts from ``deductible:<pool>`` and grows by what earlier liabilities
          of this claim took: liabilities naming the same pool share one yearly deductible, and a
          pool named by one liability is separate.
       c. *Ratio*: ``raw = round_half_up((E − taken) × ratio)`` to the fen
          (:func:`onestop.money.apply_ratio`), with ``pre_existing_ratio`` instead of ``ratio``
          when the claim is pre-existing and the liability sets one.
       d. *Sum insured*: ``paid = min(raw, max(0, limits[limit] − paid_so_far[limit]))`` where
          ``paid_so_far`` starts from ``paid:<limit>`` and grows by earlier liabilities of this
          claim sharing the pool.
       e. *Reason*, the first that holds: ``WAITING_PERIOD``; ``SUM_INSURED_EXHAUSTED`` (no room
          left); ``DEDUCTIBLE_NOT_MET`` (nothing above the deductible); ``CAP_REACHED`` (the pool
          cut the payment); ``PRE_EXISTING_CONDITION`` (the lower ratio applied); ``COVERED``.
       f. *To cells*: ``paid`` is split over the liability's cells in proportion to their
          amounts by largest remainder (:func:`onestop.money.allocate_ints`, ties by cell order),
          so no cell is paid more than offered.

    7. **Answer.** Everything offered paid: APPROVED with reason ``NONE``; nothing paid:
       DECLINED; otherwise PARTIAL. The reason of a DECLINED or PARTIAL answer is that of the
       liability leaving the most unpaid (``E − paid``), the cells no liability took counting as
       one more with reason ``NOT_COVERED``; ties go to the first in this priority:
       ``WAITING_PERIOD, SUM_INSURED_EXHAUSTED, DEDUCTIBLE_NOT_MET, CAP_REACHED,
       PRE_EXISTING_CONDITION, NOT_COVERED, COVERED``; an offer with no payable amount is
       DECLINED ``NOT_COVERED``. A paid line's reason is that of the liability holding its
       largest cell (first on ties), ``NOT_COVERED`` when none took it.
    8. **Deltas.** ``deductible:<pool>`` += deductible taken and ``paid:<limit>`` += paid, per pool,
       non-zero only. A DECLINED claim may still carry deductible deltas (the deductible was met
       in part). Undo by applying the negated deltas.

    Args:
        design: The product design (``offer.product`` must be its code).
        offer: The engine's offer to this payer.
        member: The member's register entry for this product year, or None when unknown.
        accumulators: This member's product-year accumulators (key → fen), e.g. ``deductible:main``.

    Returns:
        The adjudication (payments, reasons, deltas); nothing is changed.

    Raises:
        InvalidRequest: the offer is for another product, or a date is not ISO text.
    """
    if offer.product != design.code:
        raise InvalidRequest(f"offer {offer.reference} is for product {offer.product!r}, not {design.code!r}")
    admission = _date(offer, "admission_date")
    discharge = _date(offer, "discharge_date")
    if not design.policy_period.contains(discharge) or member is None or member.enrolled_on > admission:
        return _declined(design, ReasonCode.NOT_ELIGIBLE)
    pre_existing = bool(member.pre_existing & design.pre_existing_groups_of(offer.diagnoses))

    cells = _cells(offer)
    by_liability: list[list[_Cell]] = [[] for _ in design.liabilities]
    takers: dict[str, list[tuple[int, frozenset[Category]]]] = {}
    for cell in cells:
        # A drug list is matched once per line, not once per cell.
        open_to = takers.get(cell.sn) if cell.line is not None else None
        if open_to is None:
            open_to = [
                (i, frozenset(lia.categories))
                for i, lia in enumerate(design.liabilities)
                if lia.drugs is None or (cell.line is not None and lia.drugs.matches(cell.line))
            ]
            if cell.line is not None:
                takers[cell.sn] = open_to
        for i, cats in open_to:
            if cell.category in cats:
                cell.liability = i
                by_liability[i].append(cell)
                break

    used = {pool: int(accumulators.get(deductible_key(pool), 0)) for pool in design.deductibles}
    spent = {pool: int(accumulators.get(paid_key(pool), 0)) for pool in design.limits}
    ded_delta: dict[str, int] = {}
    paid_delta: dict[str, int] = {}
    outcomes: list[LiabilityOutcome] = []
    reasons: list[ReasonCode] = []
    for i, lia in enumerate(design.liabilities):
        mine = by_liability[i]
        eligible = sum(c.amount for c in mine)
        if eligible == 0:
            reasons.append(ReasonCode.NONE)
            continue
        ratio = lia.ratio_for(pre_existing)
        if admission < member.enrolled_on + dt.timedelta(days=lia.waiting_days):
            outcome = LiabilityOutcome(lia.id, eligible, 0, ratio, 0, ReasonCode.WAITING_PERIOD)
        else:
            taken = min(eligible, max(0, int(design.deductibles[lia.deductible]) - used[lia.deductible]))
            used[lia.deductible] += taken
            raw = int(apply_ratio(eligible - taken, ratio))
            room = max(0, int(design.limits[lia.limit]) - spent[lia.limit])
            paid = min(raw, room)
            spent[lia.limit] += paid
            if taken:
                ded_delta[lia.deductible] = ded_delta.get(lia.deductible, 0) + taken
            if paid:
                paid_delta[lia.limit] = paid_delta.get(lia.limit, 0) + paid
            if room == 0 and raw > 0:
                reason = ReasonCode.SUM_INSURED_EXHAUSTED
            elif eligible == taken:
                reason = ReasonCode.DEDUCTIBLE_NOT_MET
            elif paid < raw:
                reason = ReasonCode.CAP_REACHED
            elif pre_existing and lia.pre_existing_ratio is not None:
                reason = ReasonCode.PRE_EXISTING_CONDITION
            else:
                reason = ReasonCode.COVERED
            outcome = LiabilityOutcome(lia.id, eligible, taken, ratio, paid, reason)
            if paid:
                for cell, part in zip(mine, allocate_ints(paid, [c.amount for c in mine]), strict=True):
                    cell.paid = part
        outcomes.append(outcome)
        reasons.append(outcome.reason)

    totals: dict[Category, int] = {}
    for cell in cells:
        if cell.paid:
            totals[cell.category] = totals.get(cell.category, 0) + cell.paid
    paid_total = sum(totals.values())
    offered = sum(c.amount for c in cells)
    unpaid = [(o.eligible_fen - o.paid_fen, o.reason) for o in outcomes]
    uncovered = sum(c.amount for c in cells if c.liability < 0)
    if uncovered:
        unpaid.append((uncovered, ReasonCode.NOT_COVERED))
    overall = min(unpaid, key=lambda u: (-u[0], _RANK[u[1]]))[1] if unpaid else ReasonCode.NOT_COVERED
    if paid_total == 0:
        status = AnswerStatus.DECLINED
    elif paid_total == offered:
        status, overall = AnswerStatus.APPROVED, ReasonCode.NONE
    else:
        status = AnswerStatus.PARTIAL
    lines = _line_payments(offer, cells, reasons) if offer.lines and paid_total else ()
    deltas = {deductible_key(p): v for p, v in ded_delta.items()} | {paid_key(p): v for p, v in paid_delta.items()}
    return Adjudication(
        product=design.code,
        product_year=design.product_year,
        status=status,
        reason=overall,
        pre_existing=pre_existing,
        outcomes=tuple(outcomes),
        lines=lines,
        totals={c: totals[c] for c in CATEGORY_ORDER if c in totals},
        deltas=deltas,
    )


def _line_payments(offer: Offer, cells: list[_Cell], reasons: list[ReasonCode]) -> tuple[LinePayment, ...]:
    by_sn: dict[str, list[_Cell]] = {}
    for cell in cells:
        by_sn.setdefault(cell.sn, []).append(cell)
    out: list[LinePayment] = []
    for lo in offer.lines:
        mine = by_sn.get(lo.feedetl_sn)
        if not mine:
            continue
        biggest = max(mine, key=lambda c: c.amount)  # max keeps the first on ties
        reason = reasons[biggest.liability] if biggest.liability >= 0 else ReasonCode.NOT_COVERED
        # Built without re-validation: every amount is a non-negative Fen computed above.
        out.append(
            LinePayment.model_construct(
                feedetl_sn=lo.feedetl_sn,
                amounts={c.category: trusted_fen(c.paid) for c in mine if c.paid},
                reason=reason.value,
            )
        )
    return tuple(out)
