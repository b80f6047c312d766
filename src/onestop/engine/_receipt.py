"""A Settlement rendered as the cashier reads it: per line who pays, then the legs and the cash."""

from __future__ import annotations

from onestop.domain.settlement import PayerKey, Settlement
from onestop.money import format_yuan

__all__ = ["receipt"]


def _cell(amount: int) -> str:
    return format_yuan(amount) if amount else "-"


def receipt(s: Settlement) -> str:
    """Format a settlement for the window (yuan with two decimals; no personal data)."""
    out: list[str] = [f"结算 {s.hospital_code} / 就诊 {s.mdtrt_id} / 医疗类别 {s.med_type}"]
    header = f"{'#':<6}{'项目':<18}{'金额':>12}{'统筹等基金':>12}{'工伤/单位':>11}{'商保':>11}{'个账':>10}{'自付现金':>11}  说明"
    out.append(header)
    for ln in s.lines:
        by: dict[str, int] = {}
        for a in ln.allocations:
            k = a.payer
            group = (
                "fund"
                if k.startswith("fund:")
                else "wi"
                if k in (PayerKey.WORK_INJURY, PayerKey.EMPLOYER)
                else "com"
                if k.startswith("commercial:")
                else k
            )
            by[group] = by.get(group, 0) + int(a.amount_fen)
        note = ",".join(ln.reasons)
        if ln.cidl_no is not None:
            note = f"商保创新药目录第{ln.cidl_no}号 " + note
        out.append(
            f"{ln.feedetl_sn:<6}{ln.name[:16]:<18}{format_yuan(ln.amount_fen):>12}{_cell(by.get('fund', 0)):>12}"
            f"{_cell(by.get('wi', 0)):>11}{_cell(by.get('com', 0)):>11}{_cell(by.get('account', 0)):>10}"
            f"{_cell(by.get('patient', 0)):>11}  {note}"
        )
    t = s.totals
    out.append("-" * len(header))
    if s.basic is not None:
        b = s.basic
        out.append(
            f"基本医保: 医疗费 {format_yuan(b.medfee_sumamt)}  全自费 {format_yuan(b.fulamt_ownpay_amt)}"
            f"  超限价 {format_yuan(b.overlmt_selfpay)}  先行自付 {format_yuan(b.preselfpay_amt)}"
            f"  政策范围内 {format_yuan(b.inscp_scp_amt)}  起付线 {format_yuan(b.act_pay_dedc)}"
        )
        out.append(
            f"          统筹 {format_yuan(b.hifp_pay)} (比例 {b.pool_prop_selfpay})  大额 {format_yuan(b.hifob_pay)}"
            f"  大病 {format_yuan(b.hifmi_pay)}  公务员 {format_yuan(b.cvlserv_pay)}  救助 {format_yuan(b.maf_pay)}"
            f"  基金合计 {format_yuan(b.fund_pay_sumamt)}  个账 {format_yuan(b.acct_pay)}"
        )
    if s.work_injury is not None:
        w = s.work_injury
        out.append(
            f"工伤({w.status}): 工伤基金 {format_yuan(w.fund_pay_fen)}  单位 {format_yuan(w.employer_pay_fen)}"
            f"  待认定后报销 {format_yuan(w.pending_reimbursement_fen)}  伙食补助(另行支付) {format_yuan(w.meal_allowance_fen)}"
        )
    if s.maternity is not None:
        m = s.maternity
        out.append(f"生育保险: 基金 {format_yuan(m.fund_pay_fen)}  起付 {format_yuan(m.deductible_fen)}")
    for c in s.commercial:
        out.append(
            f"商保 {c.payer}/{c.product}: {c.status.value} 支付 {format_yuan(c.paid_fen)} / 可赔 {format_yuan(c.offered_fen)} {c.reason}"
        )
    if s.drg is not None:
        d = s.drg
        out.append(
            f"DRG: {d.status} {d.drg} 病例费用(不含商保创新药) {format_yuan(d.case_cost_fen)} 特例单议 {'是' if d.special_review else '否'} {d.special_review_reason}"
        )
    out.append(
        f"合计 {format_yuan(t.medfee_sumamt)}: 基金 {format_yuan(t.basic_fund_fen + t.work_injury_fund_fen + t.maternity_fund_fen)}"
        f"  单位 {format_yuan(t.employer_fen)}  商保 {format_yuan(t.commercial_fen)}  个账 {format_yuan(t.account_fen)}"
    )
    out.append(f"患者窗口现金支付 final_patient_cash: {format_yuan(t.final_patient_cash_fen)} 元")
    if s.versions.policy_label:
        out.append(f"[{s.versions.policy_label}]")
    return "\n".join(out)
