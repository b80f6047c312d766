"""Stage 1: route lines to legs, split them, and settle the statutory funds.

Routing (ARCHITECTURE step 4): work-related lines of a recognised 工伤 go to the work-injury leg;
while recognition is pending they are no fund's cost (社会保险法 §30) and go to the employer or the
patient, flagged for later reimbursement; a maternity visit (生育 51/52, 职工 or 510) goes to the
maternity leg; everything else goes to the basic leg. No line ever reaches two funds.

Bill-level fund amounts go back to lines by one named rule, ``allocate_inscope``: largest
remainder over each line's remaining 政策范围内 amount, ties broken by feedetl_sn, applied in a fixed
sequence (deductible, then each fund in the calculator's order, and the co-pay is what is left), so
that on every line deductible + funds + co-pay = 政策范围内 exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from onestop.catalog.resolution import CatalogView
from onestop.domain.bill import Bill
from onestop.domain.codes import Insutype, MedType, WorkInjuryStatus
from onestop.domain.offer import Category
from onestop.domain.settlement import AccumulatorDelta, FundDetail, Leg, PayerKey, SplitCategory
from onestop.engine._output import trusted
from onestop.engine._split import ONE, Reason, Split, SplitContext, split_basic, split_no_ab
from onestop.engine._terms import Terms
from onestop.engine._work import Work
from onestop.errors import OnestopError
from onestop.money import Fen, allocate_ints
from onestop.policy import Accumulators, CrossRegion, compute_basic, compute_maternity

MATERNITY_FUND = "510100"


#: The bill-level basic-leg figures (fen) the fund calculator produces, NHSA ``setlinfo`` names.
BASIC_FUND_FIGURES: tuple[str, ...] = (
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "hosp_part_amt",
    "oth_pay",
    "fund_pay_sumamt",
)


@dataclass(frozen=True, slots=True)
class BasicTotals:
    """Bill-level basic-leg figures, before the account and the patient's cash are known."""

    insutype: str
    psn_type: str
    benefit_kind: str
    benefit_year: int
    act_pay_dedc: int
    hifp_pay: int
    pool_prop_selfpay: Any
    cvlserv_pay: int
    hifes_pay: int
    hifmi_pay: int
    hifob_pay: int
    maf_pay: int
    hosp_part_amt: int
    oth_pay: int
    fund_pay_sumamt: int
    fund_details: tuple[FundDetail, ...]
    deltas: tuple[AccumulatorDelta, ...]


@dataclass(frozen=True, slots=True)
class MaternityTotals:
    """Bill-level maternity figures."""

    inscope: int
    fund: int
    deductible: int
    copay: int
    deltas: tuple[AccumulatorDelta, ...]


@dataclass(frozen=True, slots=True)
class WorkInjuryTotals:
    """Bill-level work-injury figures."""

    status: str
    decision_id: str
    medfee: int
    fund: int
    employer: int
    patient: int
    pending: int
    meal_allowance: int


def benefit_year(bill: Bill, terms: Terms) -> int:
    """The benefit year whose deductible, caps and accumulators apply (policy rule; default discharge)."""
    rule = terms.benefit_year_rule
    if rule == "admission_date":
        return bill.visit.admission_date.year
    return bill.visit.discharge_date.year


def _basic_kind(bill: Bill) -> str:
    v = bill.visit
    mt = v.med_type
    if mt.is_inpatient:
        return "inpatient"
    if mt is MedType.CHRONIC_SPECIAL_OUTPATIENT:
        return "chronic_special"
    if mt is MedType.PHARMACY and v.prescribing_context is not None:
        # The policy falls back to the prescribing context's own terms when it has no pharmacy terms.
        return f"pharmacy_{v.prescribing_context.value}"
    return "general_outpatient"


def _cross_region(bill: Bill) -> CrossRegion:
    """异地 status: treated outside the insured region, with or without a 备案."""
    if not bill.is_cross_region:
        return CrossRegion.NONE
    return CrossRegion.FILED if bill.patient.registrations.cross_region_filing_id else CrossRegion.UNFILED


def _registered(codes: Sequence[str], diagnoses: Sequence[str]) -> bool:
    """True when a diagnosis of the visit falls under one of the registered codes (prefix match)."""
    return any(d.startswith(c) for c in codes for d in diagnoses)


def _route(bill: Bill) -> tuple[Leg, Leg]:
    """(leg for work-related lines, leg for the others)."""
    wi = bill.work_injury
    work_leg = Leg.BASIC
    if wi is not None:
        work_leg = Leg.WORK_INJURY if wi.status is WorkInjuryStatus.RECOGNISED else Leg.NONE
    other = Leg.BASIC
    if bill.visit.med_type.is_maternity and bill.patient.insutype in (Insutype.EMPLOYEE, Insutype.MATERNITY):
        other = Leg.MATERNITY
    return work_leg, other


def resolve_and_split(
    bill: Bill, catalogs: CatalogView, terms: Terms, lines_sorted: Sequence[Any]
) -> tuple[list[Work], list[str]]:
    """Resolve every line, route it to a leg, and split it; returns the works and warnings."""
    p, h, v = bill.patient, bill.hospital, bill.visit
    ctx = SplitContext(
        med_type=v.med_type,
        age=p.age,
        facility_level=terms.facility_level(h.tier),
        hospital_code=h.code,
        hospital_group=h.group,
        default_b_ratio=terms.default_b_ratio,
        b_overrides=terms.b_overrides,
        dual_channel_needs_filing=terms.dual_channel_needs_filing,
        dual_channel_needs_e_prescription=terms.dual_channel_needs_e_prescription,
        dual_channel_filing_id=p.registrations.dual_channel_filing_id,
    )
    work_leg, other_leg = _route(bill)
    kind = _basic_kind(bill)
    diag_codes = [d.code for d in v.diagnoses]
    chronic_ok = kind != "chronic_special" or _registered(p.registrations.chronic_special, diag_codes)
    two_ok = (
        kind == "general_outpatient"
        and bool(p.registrations.two_diseases)
        and _registered(p.registrations.two_diseases, diag_codes)
    )
    warnings: list[str] = []
    if not chronic_ok:
        warnings.append("CHRONIC_SPECIAL_NOT_REGISTERED: settled under general outpatient terms")
        kind = "general_outpatient"
    works: list[Work] = []
    resolve = catalogs.resolve
    for line in lines_sorted:
        res = resolve(line, h)
        leg = work_leg if line.work_related else other_leg
        line_kind = kind
        split: Split
        if leg is Leg.BASIC:
            split = split_basic(line, res, ctx)
            if two_ok and res.two_diseases and split.inscope:
                line_kind = "two_diseases"
                split.reasons.append(Reason.TWO_DISEASES)
        elif leg is Leg.NONE:
            split = Split(int(line.amount_fen), 0, 0, 0, ONE, None, False, "", [])
            split.reasons.append(Reason.WORK_INJURY_PENDING)
        else:
            split = split_no_ab(line, res, ctx, leg=leg.value)
        for n in res.notes:
            warnings.append(f"{line.feedetl_sn}: {n}")
        warnings.extend(split.warnings)
        works.append(Work(line=line, res=res, leg=leg, split=split, benefit_kind=line_kind))
    return works, warnings


def _outside_remaining(w: Work) -> None:
    """Put a line's out-of-scope parts into the patient's remaining liability."""
    s = w.split
    if s.fulamt:
        cat = Category.CIDL if w.res.cidl is not None else Category.FULAMT_OWNPAY
        w.remaining[cat] = w.remaining.get(cat, 0) + s.fulamt
    if s.overlmt:
        w.remaining[Category.OVERLMT] = w.remaining.get(Category.OVERLMT, 0) + s.overlmt
    if s.preselfpay:
        w.remaining[Category.PRESELFPAY] = w.remaining.get(Category.PRESELFPAY, 0) + s.preselfpay


def allocate_inscope(works: Sequence[Work], deductible: int, funds: Sequence[tuple[str, int]], copay: int) -> None:
    """Allocate bill-level deductible, fund payments and co-pay back to lines (see module docstring)."""
    keys = [w.line.feedetl_sn for w in works]  # not the ``sn`` property: a Python call per line
    cap = [w.split.inscope for w in works]
    ded = allocate_ints(deductible, cap, keys)
    for w, d in zip(works, ded, strict=True):
        if d:
            w.remaining[Category.DEDUCTIBLE] = w.remaining.get(Category.DEDUCTIBLE, 0) + d
    cap = [c - d for c, d in zip(cap, ded, strict=True)]
    for payer, amount in funds:
        if not amount:
            continue
        parts = allocate_ints(amount, cap, keys)
        for w, part in zip(works, parts, strict=True):
            if part:
                w.cells.append((payer, SplitCategory.FUND, part))
        cap = [c - p for c, p in zip(cap, parts, strict=True)]
    if sum(cap) != copay:
        raise OnestopError(f"fund calculator identity broken: co-pay {copay} != in-scope left {sum(cap)}")
    for w, c in zip(works, cap, strict=True):
        if c:
            w.remaining[Category.COPAY] = w.remaining.get(Category.COPAY, 0) + c


_YEAR_FIELDS = ("year", "benefit_year")
# Per accumulator type (a handful of dataclasses): year fields, amount fields, and whether every amount
# defaults to zero fen (then only the keys a caller has need passing).
_ACC_SPECS: dict[type, tuple[tuple[str, ...], tuple[str, ...], bool]] = {}


def _acc_spec(acc_type: type) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    spec = _ACC_SPECS.get(acc_type)
    if spec is None:
        fs = fields(acc_type)
        years = tuple(f.name for f in fs if f.name in _YEAR_FIELDS)
        amounts = tuple(f.name for f in fs if f.name not in _YEAR_FIELDS)
        zero_defaults = all(type(f.default) in (int, Fen) and f.default == 0 for f in fs if f.name in amounts)
        spec = _ACC_SPECS[acc_type] = (years, amounts, zero_defaults)
    return spec


def _acc_in(acc_type: type, accumulators: Mapping[str, int], prefix: str, year: int) -> Any:
    """Build the policy calculator's accumulator record from flat ``prefix:field`` keys."""
    years, amounts, zero_defaults = _acc_spec(acc_type)
    values: dict[str, Any] = dict.fromkeys(years, year)
    head = f"{prefix}:"
    if zero_defaults:
        # A person has a few accumulators; every field not passed is the type's own zero.
        cut = len(head)
        for key, value in accumulators.items():
            if key.startswith(head) and key[cut:] in amounts:
                values[key[cut:]] = Fen(int(value))
    else:
        for name in amounts:
            values[name] = Fen(int(accumulators.get(f"{head}{name}", 0)))
    return acc_type(**values)


def _delta(key: str, amount: int) -> AccumulatorDelta:
    return trusted(AccumulatorDelta, {"key": key, "delta_fen": Fen(amount)})


def _deltas_out(deltas: Any, prefix: str) -> tuple[AccumulatorDelta, ...]:
    if isinstance(deltas, Mapping):
        items = [(name, value) for name, value in deltas.items() if name not in _YEAR_FIELDS]
    else:
        items = [(name, getattr(deltas, name)) for name in _acc_spec(type(deltas))[1]]
    # Names are unique and every key shares the prefix, so sorting the pairs orders by key.
    return tuple(
        _delta(f"{prefix}:{name}", int(value))
        for name, value in sorted((n, v) for n, v in items if v and isinstance(v, int))
    )


def settle_basic(
    bill: Bill, works: Sequence[Work], terms: Terms, accumulators: Mapping[str, int], year: int
) -> BasicTotals | None:
    """Run the policy's fund calculator per benefit kind and allocate the results to lines."""
    basic = [w for w in works if w.leg is Leg.BASIC]
    if not basic:
        return None
    for w in basic:
        _outside_remaining(w)
    p, h = bill.patient, bill.hospital
    kinds = sorted({w.benefit_kind for w in basic})
    sums: dict[str, int] = dict.fromkeys(BASIC_FUND_FIGURES, 0)
    details: dict[str, list[Any]] = {}
    deltas: list[AccumulatorDelta] = []
    ratio: Any = None
    # Accumulators move as each kind is computed, so a second kind sees the first one's use.
    acc = dict(accumulators)
    for kind in kinds:
        group = [w for w in basic if w.benefit_kind == kind]
        prefix = f"{p.insutype.value}:{year}"
        outside = sum(w.split.fulamt + w.split.overlmt + w.split.preselfpay for w in group if w.res.cidl is None)
        result = compute_basic(
            terms.policy,
            insutype=p.insutype.value,
            psn_type=p.psn_type,
            tier=terms.rate_tier(h.tier),
            kind=kind,
            civil_servant=p.civil_servant,
            assistance=p.medical_assistance.value,
            inscope_fen=Fen(sum(w.split.inscope for w in group)),
            personal_outside_fen=Fen(outside),
            accumulators=_acc_in(Accumulators, acc, prefix, year),
            cross_region=_cross_region(bill),
        )
        for key in sums:
            sums[key] += int(getattr(result, key))
        if ratio is None or kind == "inpatient":
            ratio = result.pool_prop_selfpay
        funds = [(PayerKey.fund(d.fund_pay_type), int(d.fund_payamt)) for d in result.details]
        allocate_inscope(group, int(result.deductible), funds, int(result.copay))
        for fp in result.details:
            details.setdefault(fp.fund_pay_type, []).append(fp)
        kd = _deltas_out(result.deltas, prefix)
        deltas.extend(kd)
        for delta in kd:
            acc[delta.key] = acc.get(delta.key, 0) + delta.delta_fen
    merged = tuple(_merge_details(details[k]) for k in sorted(details))
    return BasicTotals(
        insutype=p.insutype.value,
        psn_type=p.psn_type,
        benefit_kind="+".join(kinds),
        benefit_year=year,
        pool_prop_selfpay=ratio,
        fund_details=merged,
        deltas=_sum_deltas(deltas),
        **sums,
    )


def _merge_details(ds: list[Any]) -> FundDetail:
    first = ds[0]
    caps = [d.crt_payb_lmt_amt for d in ds if getattr(d, "crt_payb_lmt_amt", None) is not None]
    return trusted(
        FundDetail,
        {
            "fund_pay_type": str(first.fund_pay_type),
            "fund_pay_type_name": str(getattr(first, "fund_pay_type_name", "")),
            "inscp_scp_amt": Fen(sum(int(d.inscp_scp_amt) for d in ds)),
            "crt_payb_lmt_amt": Fen(int(caps[0])) if caps else None,
            "fund_payamt": Fen(sum(int(d.fund_payamt) for d in ds)),
            "setl_proc_info": " | ".join(
                str(getattr(d, "setl_proc_info", "")) for d in ds if getattr(d, "setl_proc_info", "")
            ),
        },
    )


def _sum_deltas(deltas: Sequence[AccumulatorDelta]) -> tuple[AccumulatorDelta, ...]:
    acc: dict[str, int] = {}
    for d in deltas:
        acc[d.key] = acc.get(d.key, 0) + int(d.delta_fen)
    return tuple(_delta(k, v) for k, v in sorted(acc.items()) if v)


def settle_maternity(
    bill: Bill, works: Sequence[Work], terms: Terms, accumulators: Mapping[str, int], year: int
) -> MaternityTotals | None:
    """The maternity leg: in-catalog amounts through the region's maternity terms."""
    group = [w for w in works if w.leg is Leg.MATERNITY]
    if not group:
        return None
    for w in group:
        _outside_remaining(w)
    prefix = f"{Insutype.MATERNITY.value}:{year}"
    inscope = sum(w.split.inscope for w in group)
    result = compute_maternity(
        terms.policy,
        inscope_fen=Fen(inscope),
        accumulators=_acc_in(Accumulators, accumulators, prefix, year),
        med_type=bill.visit.med_type.value,
    )
    fund = int(result.fund_pay_fen)
    allocate_inscope(group, int(result.deductible_fen), [(PayerKey.fund(MATERNITY_FUND), fund)], int(result.copay_fen))
    return MaternityTotals(
        inscope=inscope,
        fund=fund,
        deductible=int(result.deductible_fen),
        copay=int(result.copay_fen),
        deltas=_deltas_out(result.deltas, prefix),
    )


def settle_work_injury(bill: Bill, works: Sequence[Work], terms: Terms) -> WorkInjuryTotals | None:
    """The work-injury leg: in-catalog work-related amounts paid in full; the rest per policy."""
    wi = bill.work_injury
    if wi is None:
        return None
    group = [w for w in works if w.leg in (Leg.WORK_INJURY, Leg.NONE)]
    uncovered_to_employer = terms.work_injury_uncovered_payer == "employer"
    fund = employer = patient = pending = 0
    for w in group:
        s = w.split
        if w.leg is Leg.NONE:
            # Pending recognition: not a basic-insurance cost; paid now, claimed from the fund later.
            pending += s.fulamt
            if uncovered_to_employer:
                w.cells.append((PayerKey.EMPLOYER, SplitCategory.FULAMT_OWNPAY, s.fulamt))
                employer += s.fulamt
            else:
                w.remaining[Category.FULAMT_OWNPAY] = s.fulamt
                patient += s.fulamt
            continue
        if s.inscope:
            w.cells.append((PayerKey.WORK_INJURY, SplitCategory.FUND, s.inscope))
            fund += s.inscope
        for amount, cat in (
            (s.fulamt, Category.CIDL if w.res.cidl is not None else Category.FULAMT_OWNPAY),
            (s.overlmt, Category.OVERLMT),
        ):
            if not amount:
                continue
            if uncovered_to_employer and cat is not Category.CIDL:
                w.cells.append((PayerKey.EMPLOYER, SplitCategory(cat.value), amount))
                employer += amount
            else:
                w.remaining[cat] = w.remaining.get(cat, 0) + amount
                patient += amount
    meal = 0
    if wi.status is WorkInjuryStatus.RECOGNISED and bill.visit.med_type.is_inpatient and group:
        meal = bill.visit.los_days * terms.meal_allowance_per_day_fen
    return WorkInjuryTotals(
        status=wi.status.value,
        decision_id=wi.decision_id,
        medfee=sum(int(w.line.amount_fen) for w in group),
        fund=fund,
        employer=employer,
        patient=patient,
        pending=pending,
        meal_allowance=meal,
    )
