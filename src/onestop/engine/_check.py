"""Invariants every Settlement must hold, checked in tests and before the gateway stores an answer."""

from __future__ import annotations

from onestop.domain.settlement import Leg, PayerKey, Settlement, SplitCategory
from onestop.errors import OnestopError

__all__ = ["SettlementInvariantError", "check_settlement"]


class SettlementInvariantError(OnestopError):
    """A settlement that breaks an amount invariant: a bug, never a user error."""

    reason = "SETTLEMENT_INVARIANT"


def check_settlement(s: Settlement) -> None:
    """Raise :class:`SettlementInvariantError` unless every amount invariant holds.

    * each line: 全自费 + 超限价 + 先行自付 + 政策范围内 = amount, and Σ allocations = amount;
    * no fund pays a CIDL line; at most one fund leg per line; the fund money sits in FUND cells;
    * bill: Σ lines = medfee_sumamt = Σ payer totals; patient cash = Σ patient cells;
    * basic leg: the NHSA identities of domain.md §1.6.
    """
    problems: list[str] = []
    total = 0
    patient = 0
    for ln in s.lines:
        a = int(ln.amount_fen)
        total += a
        parts = int(ln.fulamt_ownpay_amt) + int(ln.overlmt_amt) + int(ln.preselfpay_amt) + int(ln.inscp_scp_amt)
        if parts != a:
            problems.append(f"{ln.feedetl_sn}: split {parts} != amount {a}")
        if sum(int(x.amount_fen) for x in ln.allocations) != a:
            problems.append(f"{ln.feedetl_sn}: allocations do not sum to the amount")
        funds = {x.payer for x in ln.allocations if PayerKey.is_fund(x.payer)}
        if ln.cidl_no is not None and funds:
            problems.append(f"{ln.feedetl_sn}: a fund pays a CIDL line")
        legs = {
            "work_injury" if p == PayerKey.WORK_INJURY else ("maternity" if p == "fund:510100" else "basic")
            for p in funds
        }
        if len(legs) > 1:
            problems.append(f"{ln.feedetl_sn}: paid by two fund legs {sorted(legs)}")
        if ln.leg is Leg.NONE and funds:
            problems.append(f"{ln.feedetl_sn}: a pending work-injury line is paid by a fund")
        for x in ln.allocations:
            if PayerKey.is_fund(x.payer) != (x.category is SplitCategory.FUND):
                problems.append(f"{ln.feedetl_sn}: {x.payer} in category {x.category.value}")
            if x.payer == PayerKey.PATIENT:
                patient += int(x.amount_fen)
    t = s.totals
    if total != int(t.medfee_sumamt):
        problems.append(f"lines sum {total} != medfee_sumamt {int(t.medfee_sumamt)}")
    payers = (
        t.basic_fund_fen
        + t.work_injury_fund_fen
        + t.maternity_fund_fen
        + t.employer_fen
        + t.commercial_fen
        + t.account_fen
        + t.final_patient_cash_fen
    )
    if payers != t.medfee_sumamt:
        problems.append(f"payer totals {int(payers)} != medfee_sumamt {int(t.medfee_sumamt)}")
    if patient != int(t.final_patient_cash_fen):
        problems.append("final_patient_cash_fen differs from the patient cells")
    b = s.basic
    if b is not None:
        if b.medfee_sumamt != b.fulamt_ownpay_amt + b.overlmt_selfpay + b.preselfpay_amt + b.inscp_scp_amt:
            problems.append("basic: medfee != 全自费 + 超限价 + 先行自付 + 政策范围内")
        funds_sum = b.hifp_pay + b.cvlserv_pay + b.hifes_pay + b.hifmi_pay + b.hifob_pay + b.maf_pay + b.oth_pay
        if b.fund_pay_sumamt != funds_sum + b.hosp_part_amt and b.fund_pay_sumamt != funds_sum:
            problems.append("basic: fund_pay_sumamt != Σ funds")
        if b.medfee_sumamt != b.fund_pay_sumamt + b.psn_part_amt:
            problems.append("basic: medfee != fund_pay_sumamt + psn_part_amt")
        if b.psn_part_amt != b.acct_pay + b.psn_cash_pay:
            problems.append("basic: psn_part_amt != acct_pay + psn_cash_pay")
        if b.cidl_amt > b.fulamt_ownpay_amt:
            problems.append("basic: cidl_amt is not a subset of fulamt_ownpay_amt")
    for leg in s.commercial:
        if leg.paid_fen > leg.offered_fen:
            problems.append(f"commercial {leg.payer}: paid more than offered")
    if problems:
        raise SettlementInvariantError("; ".join(problems))
