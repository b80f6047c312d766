"""The staged engine: settle_funds → (offer_for → apply_commercial)* → finalize.

Commercial insurers answer over the network, so the engine never calls them: the caller takes
each :class:`~onestop.domain.offer.Offer` to its payer (in-process or through an adapter) and
hands the answer back. Every stage is a pure function of its inputs; states are immutable (each
stage returns a new one), so a caller can retry or abandon a stage without side effects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onestop.catalog.resolution import CatalogView
from onestop.domain.bill import Bill
from onestop.domain.codes import Insutype
from onestop.domain.offer import (
    PAYABLE,
    AnswerStatus,
    Category,
    CommercialAnswer,
    LineOffer,
    Offer,
)
from onestop.domain.settlement import (
    BasicLeg,
    CommercialLeg,
    DrgSection,
    HospitalIndicators,
    LineResult,
    MaternityLeg,
    PayerKey,
    Settlement,
    Totals,
    VersionsUsed,
    WorkInjuryLeg,
)
from onestop.engine._centre import adopt_centre
from onestop.engine._funds import (
    BasicTotals,
    MaternityTotals,
    WorkInjuryTotals,
    benefit_year,
    resolve_and_split,
    settle_basic,
    settle_maternity,
    settle_work_injury,
)
from onestop.engine._output import LineSums, line_results, trusted
from onestop.engine._terms import Terms, terms_from_policy
from onestop.engine._work import ACCOUNT_FILL_ORDER, Work
from onestop.errors import IntegrityViolation, InvalidState
from onestop.money import Fen, allocate_ints

__all__ = ["FundsState", "apply_commercial", "finalize", "settle_funds"]

_RATE_Q = Decimal("0.0001")
_ZERO = Fen(0)


@dataclass(frozen=True, slots=True)
class FundsState:
    """Where a settlement stands between stages. Immutable: each stage returns a new state."""

    bill: Bill
    terms: Terms
    works: tuple[Work, ...]
    """Lines sorted by feedetl_sn."""
    basic: BasicTotals | None
    work_injury: WorkInjuryTotals | None
    maternity: MaternityTotals | None
    account_paid: int
    commercial: tuple[CommercialLeg, ...]
    warnings: tuple[str, ...]
    editions: tuple[str, ...]
    drg: DrgSection | None
    basic_source: str = "engine"
    """``engine``, or ``nhsa-platform`` when the centre's basic leg was adopted."""

    @property
    def next_payer_index(self) -> int:
        """Index in ``bill.coverages`` of the payer to offer next."""
        return len(self.commercial)

    @property
    def remaining_total(self) -> int:
        """The patient's remaining payable liability over the bill."""
        return sum(v for w in self.works for k, v in w.remaining.items() if k in PAYABLE)

    def default_reference(self, index: int) -> str:
        """A deterministic leg reference when the caller has none of its own."""
        b = self.bill
        return f"{b.hospital.code}:{b.visit.mdtrt_id}:{index}:{b.coverages[index].payer}"

    def offer_for(self, index: int, *, reference: str | None = None) -> Offer:
        """The offer to commercial payer ``index`` (bill order): the remaining liability now.

        Lines whose payment standard is confidential carry no quantity or amount, so nothing in the
        offer lets a payer derive the standard. Without consent to line detail, only totals are sent.
        """
        b = self.bill
        cov = b.coverages[index]
        totals: dict[Category, int] = {}
        line_offers: list[LineOffer] = []
        for w in self.works:
            amounts = {c: Fen(v) for c, v in sorted(w.remaining.items(), key=lambda kv: _CAT_POS[kv[0]]) if v}
            acct = sum(a for p, _c, a in w.cells if p == PayerKey.ACCOUNT)
            if acct:
                amounts[Category.ACCOUNT_PAID] = Fen(acct)
            for c, v in amounts.items():
                totals[c] = totals.get(c, 0) + v
            if cov.consent_line_detail and amounts:
                conf = w.split.std_confidential
                line_offers.append(
                    LineOffer(
                        feedetl_sn=w.sn,
                        name=w.line.name,
                        national_code=w.res.national_code,
                        category=w.line.category,
                        chrgitm_lv=w.res.chrgitm_lv,
                        in_catalog=w.res.in_catalog,
                        cidl_no=w.res.cidl.no if w.res.cidl else None,
                        work_related=w.line.work_related,
                        amount_fen=None if conf else w.line.amount_fen,
                        quantity=None if conf else format(w.line.quantity, "f"),
                        confidential=conf,
                        amounts=amounts,
                    )
                )
        fund_paid = sum(a for w in self.works for p, _c, a in w.cells if PayerKey.is_fund(p))
        return Offer(
            reference=reference or self.default_reference(index),
            payer=cov.payer,
            product=cov.product,
            policy_no=cov.policy_no,
            member_ref=_member_ref(cov.payer, b.patient.psn_no),
            med_type=b.visit.med_type.value,
            admission_date=b.visit.admission_date.isoformat(),
            discharge_date=b.visit.discharge_date.isoformat(),
            diagnoses=tuple(d.code for d in b.visit.diagnoses),
            hospital_code=b.hospital.code,
            hospital_tier=b.hospital.tier,
            fund_paid_fen=Fen(fund_paid),
            lines=tuple(line_offers),
            totals={c: Fen(totals[c]) for c in sorted(totals, key=_CAT_POS.__getitem__)},
        )


_CAT_POS = {c: i for i, c in enumerate(Category)}


def _member_ref(payer: str, psn_no: str) -> str:
    """A stable pseudonym of the member per payer (no personal data crosses to insurers)."""
    return hashlib.sha256(f"{payer}\x00{psn_no}".encode()).hexdigest()[:24]


def settle_funds(
    bill: Bill,
    catalogs: CatalogView,
    policy: Any,
    accumulators: Mapping[str, int] | None = None,
    *,
    centre_basic: BasicLeg | None = None,
    treatment_policy: Any | None = None,
) -> FundsState:
    """Stage 1: resolve, route and split every line, and settle the statutory funds.

    Args:
        bill: The validated bill.
        catalogs: Catalogs of the treatment region (就医地目录).
        policy: The insured region's ``RegionalPolicy`` (参保地待遇).
        treatment_policy: For an 异地 visit, the treatment region's policy: the hospital's tier is
            one of its tiers, and the insured region applies its terms for a hospital of that level.
        accumulators: Year-to-date person accumulators as flat ``insutype:year:field`` keys → fen.
        centre_basic: The basic leg as the NHSA centre settled it. Its figures are authoritative:
            they are allocated back to the lines, and each figure the engine computed differently is
            reported as a ``CENTRE_DIFFERS`` warning with both values.

    Returns:
        The state after the funds, ready for the commercial payers.

    Raises:
        onestop.errors.NoEditionInForce: a line's date has no catalog edition in force.
        onestop.errors.InvalidRequest: e.g. a hospital tier the policy does not define.
    """
    terms = terms_from_policy(policy, treatment_policy)
    acc = dict(accumulators or {})
    lines = sorted(bill.lines, key=lambda ln: ln.feedetl_sn)
    works, warnings = resolve_and_split(bill, catalogs, terms, lines)
    year = benefit_year(bill, terms)
    wi = settle_work_injury(bill, works, terms)
    mat = settle_maternity(bill, works, terms, acc, year)
    basic = settle_basic(bill, works, terms, acc, year)
    if centre_basic is not None:
        if basic is None:
            raise InvalidState("the centre settled a basic leg, but no line of this bill is on basic insurance")
        basic, differences = adopt_centre(works, basic, centre_basic)
        warnings.extend(differences)
    warnings.extend(f"{h.rule_set}:{h.feedetl_sn}: {h.message}" for h in catalogs.audit(bill))
    if terms.policy_label:
        warnings.append(f"POLICY_LABEL: {terms.policy_label}")
    editions = tuple(sorted({w.res.edition for w in works if w.res.edition}))
    state = FundsState(
        bill=bill,
        terms=terms,
        works=tuple(works),
        basic=basic,
        work_injury=wi,
        maternity=mat,
        account_paid=0,
        commercial=(),
        warnings=tuple(warnings),
        editions=editions,
        drg=None,
        basic_source="engine" if centre_basic is None else "nhsa-platform",
    )
    state = _with_drg(state)
    if terms.account_first:
        state = _pay_account(state)
    return state


def _with_drg(state: FundsState) -> FundsState:
    from onestop.engine._drg import drg_section

    section = drg_section(state)
    return replace(state, drg=section) if section is not None else state


def _pay_account(state: FundsState) -> FundsState:
    """The personal account pays the patient's remaining liability (never CIDL), up to the balance.

    Only employees' insurance has personal accounts: a resident's bill asking for one pays nothing
    from it (and the settlement warns ``ACCOUNT_NOT_APPLICABLE``).
    """
    p = state.bill.patient
    if not p.use_account or p.account_balance_fen <= 0 or p.insutype is Insutype.RESIDENT:
        return state
    works = [w.copy() for w in state.works]
    weights = [sum(v for c, v in w.remaining.items() if c in ACCOUNT_FILL_ORDER) for w in works]
    pay = min(int(p.account_balance_fen), sum(weights))
    if pay <= 0:
        return state
    for w, part in zip(works, allocate_ints(pay, weights, [w.sn for w in works]), strict=True):
        for cat in ACCOUNT_FILL_ORDER:
            if part <= 0:
                break
            take = min(part, w.remaining.get(cat, 0))
            w.pay(PayerKey.ACCOUNT, cat, take)
            part -= take
    return replace(state, works=tuple(works), account_paid=pay)


def apply_commercial(state: FundsState, answer: CommercialAnswer, *, offer: Offer | None = None) -> FundsState:
    """Stage 2: check one payer's answer against what it was offered and apply it.

    Payers run in bill order: the answer must come from ``bill.coverages[state.next_payer_index]``.
    A declined, pending or unknown answer pays nothing now (the patient pays that part; an unknown
    leg is for the caller's resolver to cancel). An answer that breaks an invariant — paying more
    than offered on any line or category, a line not offered, both line and total forms, a
    reference that does not echo — raises :class:`~onestop.errors.IntegrityViolation` and changes
    nothing.

    Args:
        state: The state after the previous payer.
        answer: The payer's answer.
        offer: The offer that was sent (defaults to ``state.offer_for(index)``).
    """
    idx = state.next_payer_index
    cov_list = state.bill.coverages
    if idx >= len(cov_list):
        raise InvalidState("every commercial payer of the bill has already answered")
    cov = cov_list[idx]
    offer = offer or state.offer_for(idx)
    payer = cov.payer

    def bad(msg: str) -> IntegrityViolation:
        return IntegrityViolation(f"{payer}: {msg}", payer=payer, flow="settle")

    if answer.payer != payer:
        raise bad(f"answer from {answer.payer!r} but the next payer in bill order is {payer!r}")
    if answer.reference != offer.reference:
        raise bad(f"reference {answer.reference!r} does not echo the offer's {offer.reference!r}")
    offered = offer.total
    works = [w.copy() for w in state.works]
    paid = 0
    if answer.status in (AnswerStatus.APPROVED, AnswerStatus.PARTIAL):
        if answer.lines and answer.totals:
            raise bad("an answer is either per line or per category total, not both")
        if answer.lines:
            if not offer.lines:
                raise bad("answered per line but was offered category totals only")
            paid = _apply_lines(works, answer, PayerKey.commercial(payer), bad)
        else:
            paid = _apply_totals(works, answer, PayerKey.commercial(payer), offer, bad)
    elif answer.lines or any(answer.totals.values()):
        raise bad(f"a {answer.status.value} answer cannot carry payments")
    status = answer.status
    if status is AnswerStatus.APPROVED and paid < offered:
        status = AnswerStatus.PARTIAL
    if status is AnswerStatus.PARTIAL and paid == 0:
        status = AnswerStatus.DECLINED
    leg = CommercialLeg(
        payer=payer,
        product=cov.product,
        policy_no=cov.policy_no,
        reference=offer.reference,
        status=status,
        offered_fen=Fen(offered),
        paid_fen=Fen(paid),
        reason=answer.reason,
        raw_code=answer.raw_code,
        raw_message=answer.raw_message,
        payer_claim_id=answer.payer_claim_id,
    )
    return replace(state, works=tuple(works), commercial=(*state.commercial, leg))


def _apply_lines(works: list[Work], answer: CommercialAnswer, key: str, bad: Any) -> int:
    by_sn = {w.sn: w for w in works}
    seen: set[str] = set()
    paid = 0
    for lp in answer.lines:
        w = by_sn.get(lp.feedetl_sn)
        if w is None:
            raise bad(f"line {lp.feedetl_sn!r} was not offered")
        if lp.feedetl_sn in seen:
            raise bad(f"line {lp.feedetl_sn!r} answered twice")
        seen.add(lp.feedetl_sn)
        for cat, amount in lp.amounts.items():
            if cat not in PAYABLE:
                raise bad(f"line {lp.feedetl_sn}: category {cat.value} cannot be paid")
            if amount > w.remaining.get(cat, 0):
                raise bad(
                    f"line {lp.feedetl_sn}: pays {int(amount)} > offered {w.remaining.get(cat, 0)} in {cat.value}"
                )
        for cat in sorted(lp.amounts, key=_CAT_POS.__getitem__):
            w.pay(key, cat, int(lp.amounts[cat]))
            paid += int(lp.amounts[cat])
    return paid


def _apply_totals(works: list[Work], answer: CommercialAnswer, key: str, offer: Offer, bad: Any) -> int:
    paid = 0
    keys = [w.sn for w in works]
    for cat in sorted(answer.totals, key=_CAT_POS.__getitem__):
        amount = int(answer.totals[cat])
        if cat not in PAYABLE:
            raise bad(f"category {cat.value} cannot be paid")
        available = [w.remaining.get(cat, 0) for w in works]
        if amount > sum(available):
            raise bad(f"pays {amount} > offered {sum(available)} in {cat.value}")
        if amount == 0:
            continue
        # Same named rule as the funds: largest remainder over what each line has left, ties by feedetl_sn.
        for w, part in zip(works, allocate_ints(amount, available, keys), strict=True):
            w.pay(key, cat, part)
        paid += amount
    return paid


def finalize(state: FundsState) -> Settlement:
    """Stage 3: the personal account (when it pays after commercial payers), then the patient's cash.

    Payers of the bill that have not answered are recorded as not asked (unpaid).
    """
    b = state.bill
    while state.next_payer_index < len(b.coverages):
        idx = state.next_payer_index
        offer = state.offer_for(idx)
        state = apply_commercial(
            state,
            CommercialAnswer(
                reference=offer.reference, payer=offer.payer, status=AnswerStatus.DECLINED, reason="NOT_ASKED"
            ),
            offer=offer,
        )
    if not state.terms.account_first:
        state = _pay_account(state)
    lines, sums = line_results(state.works)
    return _settlement(state, lines, sums)


def _rate(num: int, den: int) -> Decimal:
    if den <= 0:
        return Decimal("0.0000")
    return (Decimal(num) / Decimal(den)).quantize(_RATE_Q, rounding=ROUND_HALF_UP)


def _settlement(state: FundsState, lines: tuple[LineResult, ...], sums: LineSums) -> Settlement:
    b = state.bill
    by_payer = sums.by_payer
    cidl_amt = sums.cidl_amt
    basic_cidl = sums.basic_cidl
    basic_medfee = sums.basic_medfee
    self_pay = sums.basic_fulamt + sums.basic_overlmt

    basic_leg = None
    if state.basic is not None:
        bt = state.basic
        acct_basic = sums.basic_account
        psn_part = basic_medfee - bt.fund_pay_sumamt
        balance = int(b.patient.account_balance_fen) - state.account_paid
        basic_leg = trusted(
            BasicLeg,
            {
                "kind": "basic",
                "source": "nhsa-platform" if state.basic_source == "nhsa-platform" else "engine",
                "insutype": bt.insutype,
                "psn_type": bt.psn_type,
                "med_type": b.visit.med_type.value,
                "benefit_kind": bt.benefit_kind,
                "benefit_year": bt.benefit_year,
                "medfee_sumamt": Fen(basic_medfee),
                "fulamt_ownpay_amt": Fen(sums.basic_fulamt),
                "overlmt_selfpay": Fen(sums.basic_overlmt),
                "preselfpay_amt": Fen(sums.basic_preselfpay),
                "inscp_scp_amt": Fen(sums.basic_inscope),
                "act_pay_dedc": Fen(bt.act_pay_dedc),
                "hifp_pay": Fen(bt.hifp_pay),
                "pool_prop_selfpay": bt.pool_prop_selfpay,
                "cvlserv_pay": Fen(bt.cvlserv_pay),
                "hifes_pay": Fen(bt.hifes_pay),
                "hifmi_pay": Fen(bt.hifmi_pay),
                "hifob_pay": Fen(bt.hifob_pay),
                "maf_pay": Fen(bt.maf_pay),
                "hosp_part_amt": Fen(bt.hosp_part_amt),
                "oth_pay": Fen(bt.oth_pay),
                "fund_pay_sumamt": Fen(bt.fund_pay_sumamt),
                "psn_part_amt": Fen(psn_part),
                "acct_pay": Fen(acct_basic),
                "psn_cash_pay": Fen(psn_part - acct_basic),
                "balc": Fen(balance),
                "acct_mulaid_pay": _ZERO,
                "cidl_amt": Fen(basic_cidl),
                "fund_details": bt.fund_details,
                "accumulator_deltas": bt.deltas,
            },
        )
    wi_leg = None
    if state.work_injury is not None:
        wt = state.work_injury
        wi_leg = trusted(
            WorkInjuryLeg,
            {
                "kind": "work_injury",
                "status": wt.status,
                "decision_id": wt.decision_id,
                "medfee_sumamt": Fen(wt.medfee),
                "fund_pay_fen": Fen(wt.fund),
                "employer_pay_fen": Fen(wt.employer),
                "patient_pay_fen": Fen(wt.patient),
                "pending_reimbursement_fen": Fen(wt.pending),
                "meal_allowance_fen": Fen(wt.meal_allowance),
            },
        )
    mat_leg = None
    if state.maternity is not None:
        mt = state.maternity
        mat_leg = trusted(
            MaternityLeg,
            {
                "kind": "maternity",
                "medfee_sumamt": Fen(sums.maternity_medfee),
                "inscp_scp_amt": Fen(mt.inscope),
                "fund_pay_fen": Fen(mt.fund),
                "deductible_fen": Fen(mt.deductible),
                "copay_fen": Fen(mt.copay),
                "accumulator_deltas": mt.deltas,
            },
        )
    basic_fund = sum(v for k, v in by_payer.items() if k.startswith("fund:") and k != PayerKey.fund("510100"))
    totals = trusted(
        Totals,
        {
            "medfee_sumamt": Fen(sums.total),
            "basic_fund_fen": Fen(basic_fund),
            "work_injury_fund_fen": Fen(by_payer.get(PayerKey.WORK_INJURY, 0)),
            "maternity_fund_fen": Fen(by_payer.get(PayerKey.fund("510100"), 0)),
            "employer_fen": Fen(by_payer.get(PayerKey.EMPLOYER, 0)),
            "commercial_fen": Fen(sum(v for k, v in by_payer.items() if k.startswith("commercial:"))),
            "account_fen": Fen(by_payer.get(PayerKey.ACCOUNT, 0)),
            "final_patient_cash_fen": Fen(by_payer.get(PayerKey.PATIENT, 0)),
            "cidl_amt": Fen(cidl_amt),
        },
    )
    indicators = trusted(
        HospitalIndicators,
        {
            "self_pay_fen": Fen(self_pay),
            "self_pay_rate": _rate(self_pay, basic_medfee),
            "self_pay_excl_cidl_fen": Fen(self_pay - basic_cidl),
            "self_pay_rate_excl_cidl": _rate(self_pay - basic_cidl, basic_medfee - basic_cidl),
            "cidl_amt": Fen(basic_cidl),
        },
    )
    t = state.terms
    standards = tuple(sorted({w.split.std_label for w in state.works if w.split.std_label}))
    versions = trusted(
        VersionsUsed,
        {
            "catalog_editions": state.editions,
            "policy_id": t.policy_id,
            "policy_version": t.policy_version,
            "policy_label": t.policy_label,
            "standards": standards,
            "drg_scheme": state.drg.scheme if state.drg else "",
        },
    )
    warnings = list(state.warnings)
    for leg in state.commercial:
        if leg.status is not AnswerStatus.APPROVED and leg.offered_fen:
            warnings.append(f"COMMERCIAL_{leg.status.value.upper()}: {leg.payer} {leg.reason}".rstrip())
    if b.patient.insutype is Insutype.RESIDENT and b.patient.use_account:
        warnings.append("ACCOUNT_NOT_APPLICABLE: residents have no personal account")
    return trusted(
        Settlement,
        {
            "hospital_code": b.hospital.code,
            "mdtrt_id": b.visit.mdtrt_id,
            "med_type": b.visit.med_type.value,
            "lines": lines,
            "basic": basic_leg,
            "work_injury": wi_leg,
            "maternity": mat_leg,
            "commercial": state.commercial,
            "totals": totals,
            "indicators": indicators,
            "drg": state.drg,
            "versions": versions,
            "warnings": tuple(sorted(set(warnings))),
        },
    )
