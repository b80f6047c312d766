"""The pure basic-fund calculator: bill-level amounts of one benefit kind (domain.md §2.3).

Given Σ 政策范围内 of the lines of one benefit kind and the person's year-to-date accumulators::

    dedc    = min(inscope, deductible left)                      act_pay_dedc
    base    = inscope − dedc
    pool    = min(base × ratio, own cap left, shared cap left)   hifp_pay      (310100 / 390100)
    over    = base − (least base whose share reaches pool)       the in-scope amount above the cap
    large   = 大额 bands on its base (over-cap or burden)         hifob_pay     (330100)
    serious = 大病保险 bands on its base                           hifmi_pay     (390200)
    civil   = ratio × co-pay left (± deductible)                 cvlserv_pay   (320100)
    assist  = ratio × (burden left − 救助 deductible left)         maf_pay       (610100), the last layer

ratio = the rate row's ratio + retiree bonus + cross-region adjustment, held in [0, 1]. Each layer
pays only in-scope amounts the patient still bears on this bill, taken off the co-pay first and then
the deductible. Identities: inscope = deductible (patient part) + fund_pay_sumamt + copay and
fund_pay_sumamt = Σ details; every amount and every accumulator increment is ≥ 0. One rounding:
:func:`onestop.money.apply_ratio` at each product. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from onestop.domain.codes import MedicalAssistance
from onestop.errors import FieldViolation, InvalidRequest
from onestop.money import Fen, apply_ratio, format_yuan
from onestop.policy._accumulators import Accumulators
from onestop.policy._layers import banded, base_for_share, clamp_ratio, take
from onestop.policy._model import RegionalPolicy
from onestop.policy._terms import BandedLayerTerms, InsutypeTerms, KindTerms
from onestop.policy._types import BenefitKind, CrossRegion, DeductiblePer, LayerBase

__all__ = ["BasicFundResult", "FundPayment", "compute_basic"]

FUND_NAMES = {
    "310100": "职工基本医疗保险统筹基金",
    "390100": "城乡居民基本医疗保险基金",
    "330100": "大额医疗费用补助基金",
    "390200": "城乡居民大病医疗保险基金",
    "320100": "公务员医疗补助基金",
    "610100": "医疗救助基金",
    "510100": "生育基金",
}


@dataclass(frozen=True, slots=True)
class FundPayment:
    """One fund's payment on a bill: a ``setldetail`` row (domain.md §1.7)."""

    fund_pay_type: str
    """基金支付类型 code (domain.md §1.9.8)."""
    fund_pay_type_name: str
    """The fund's name."""
    inscp_scp_amt: Fen
    """符合政策范围金额 of the bill part this fund computed on."""
    crt_payb_lmt_amt: Fen | None
    """本次可支付限额金额: what was left of the fund's cap before this bill (None = no cap)."""
    fund_payamt: Fen
    """基金支付金额."""
    setl_proc_info: str
    """结算过程信息: the arithmetic, in yuan."""


@dataclass(frozen=True, slots=True)
class BasicFundResult:
    """Bill-level basic-fund amounts of one benefit kind, with NHSA field names (domain.md §1.6)."""

    kind: BenefitKind
    """The kind whose terms (and accumulators) applied, after fallback."""
    inscp_scp_amt: Fen
    """The in-scope amount computed on."""
    act_pay_dedc: Fen
    """实际支付起付线: deductible charged on this bill (before any layer paid part of it)."""
    hifp_pay: Fen
    """统筹基金."""
    pool_prop_selfpay: Decimal
    """The 统筹 ratio applied (NHSA field name; a ratio, not fen)."""
    cvlserv_pay: Fen
    """公务员医疗补助."""
    hifes_pay: Fen
    """企业补充医疗保险 (no policy terms for it: always 0)."""
    hifmi_pay: Fen
    """城乡居民大病保险."""
    hifob_pay: Fen
    """职工大额医疗费用补助."""
    maf_pay: Fen
    """医疗救助."""
    hosp_part_amt: Fen
    """医院负担 (not set by a policy: always 0)."""
    oth_pay: Fen
    """其他支出 (not set by a policy: always 0)."""
    fund_pay_sumamt: Fen
    """Σ of the funds above."""
    deductible: Fen
    """The patient's part of the deductible after the layers (≤ act_pay_dedc)."""
    copay: Fen
    """In-scope amount above the deductible that no fund paid (co-pay and anything above caps)."""
    details: tuple[FundPayment, ...]
    """One row per fund that paid, in the order the layers apply."""
    deltas: Accumulators
    """Accumulator increments (never negative); ``year`` is the benefit year."""


def _y(fen: int) -> str:
    return format_yuan(fen)


def _fail(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, violations=(FieldViolation(field, message),))


def _resolve(policy: RegionalPolicy, insutype: str, kind: str) -> tuple[InsutypeTerms, BenefitKind, KindTerms]:
    if insutype not in policy.basic:
        raise _fail("patient.insutype", f"policy {policy.id} has no basic terms for insutype {insutype}")
    try:
        return policy.resolve_kind(insutype, kind)
    except ValueError:
        raise _fail("visit.med_type", f"{kind!r} is not a benefit kind") from None


@dataclass(slots=True)
class _Run:
    """Mutable working state of one computation (local to compute_basic)."""

    inscope: int
    copay: int
    deductible: int
    details: list[FundPayment]
    deltas: dict[str, int]

    def pay(self, code: str, amount: int, limit: int | None, info: str) -> None:
        self.copay, self.deductible = take(amount, self.copay, self.deductible)
        if amount:
            self.details.append(
                FundPayment(
                    code,
                    FUND_NAMES.get(code, code),
                    Fen(self.inscope),
                    None if limit is None else Fen(limit),
                    Fen(amount),
                    info,
                )
            )

    def add(self, name: str, amount: int) -> None:
        self.deltas[name] = self.deltas.get(name, 0) + amount


def compute_basic(
    policy: RegionalPolicy,
    *,
    insutype: str,
    psn_type: str,
    tier: str,
    kind: str,
    civil_servant: bool,
    assistance: str,
    inscope_fen: int,
    personal_outside_fen: int,
    accumulators: Accumulators,
    cross_region: CrossRegion = CrossRegion.NONE,
) -> BasicFundResult:
    """Compute the basic funds of one benefit kind on a bill (pure; see the module docstring).

    Args:
        policy: The insured region's policy (参保地待遇).
        insutype: Insutype code with terms in the policy (``310`` 职工, ``390`` 居民).
        psn_type: 人员类别; picks the psn_type group's rate row and the retiree bonus.
        tier: Hospital tier name as the policy defines it.
        kind: A :class:`BenefitKind` value; a kind without its own terms falls back
            (pharmacy → its prescribing context's kind; chronic_special, two_diseases → general_outpatient).
        civil_servant: Eligible for 公务员医疗补助 (cvlserv_flag).
        assistance: :class:`~onestop.domain.codes.MedicalAssistance` value (``none`` for none).
        inscope_fen: Σ 政策范围内 of the lines of this kind on the basic leg.
        personal_outside_fen: Σ 全自费 (excluding CIDL) + 超限价 + 先行自付 of those lines. Used only by a
            ``personal_burden`` layer with ``burden_includes_outside`` (it counts toward the threshold);
            no fund pays it.
        accumulators: Year-to-date figures before this bill.
        cross_region: 异地 status, for the policy's cross-region ratio adjustment.

    Returns:
        The amounts, per-fund details and accumulator increments.

    Raises:
        InvalidRequest: unknown insutype, tier, benefit kind or assistance category, or a negative amount.
    """
    if inscope_fen < 0 or personal_outside_fen < 0:
        raise _fail("lines", "in-scope and outside amounts cannot be negative")
    terms, applied, kt = _resolve(policy, insutype, kind)
    if policy.tier_level(tier) is None:
        raise _fail("hospital.tier", f"{tier!r} is not a hospital tier of {policy.id}")
    try:
        category = MedicalAssistance(assistance)
    except ValueError:
        raise _fail("patient.medical_assistance", f"{assistance!r} is not an assistance category") from None
    row = kt.rate(tier, terms.group_of(psn_type))
    if row is None:  # pragma: no cover - the policy validator guarantees a row for every tier
        raise _fail("hospital.tier", f"no rate row for tier {tier!r}")
    acc = accumulators
    inscope = int(inscope_fen)

    # 起付线
    per_year = kt.deductible_per is DeductiblePer.YEAR
    ded_name = f"deductible_used_{applied.value}"
    ded_std = int(row.deductible_fen)
    ded_used = acc.get(ded_name) if per_year else 0
    dedc = min(inscope, max(0, ded_std - ded_used))
    base = inscope - dedc

    # 统筹: ratio and caps
    ratio = row.ratio
    if psn_type in terms.retiree_psn_types:
        ratio += kt.retiree_bonus
    if cross_region is CrossRegion.FILED:
        ratio += policy.cross_region.filed_ratio_adjustment
    elif cross_region is CrossRegion.UNFILED:
        ratio += policy.cross_region.unfiled_ratio_adjustment
    ratio = clamp_ratio(ratio)
    own_name = f"pool_paid_{applied.value}"
    own_left = None if kt.annual_cap_fen is None else max(0, int(kt.annual_cap_fen) - acc.get(own_name))
    shared_left = max(0, int(terms.annual_cap_fen) - int(acc.pool_paid)) if kt.shared_cap else None
    lefts = [x for x in (own_left, shared_left) if x is not None]
    cap_left = min(lefts) if lefts else None
    pool_raw = int(apply_ratio(base, ratio))
    pool = pool_raw if cap_left is None else min(pool_raw, cap_left)
    # Only the shared 封顶线 feeds an above-cap layer; a kind's own cap (门诊统筹) does not.
    shared_bound = shared_left is not None and pool == shared_left < pool_raw
    over = base - base_for_share(pool, ratio) if shared_bound else 0

    run = _Run(inscope=inscope, copay=base, deductible=dedc, details=[], deltas={})
    per = "每年" if per_year else "每次"
    cap_text = "无封顶" if cap_left is None else f"封顶余{_y(cap_left)}"
    run.pay(
        f"{insutype}100",  # 310 → 310100, 390 → 390100 (domain.md §1.9.8)
        pool,
        cap_left,
        f"政策范围内{_y(inscope)}; 起付线{_y(ded_std)}/{per} 已用{_y(ded_used)} 本次{_y(dedc)}; "
        f"({_y(inscope)}−{_y(dedc)})×{ratio}={_y(pool_raw)}; {cap_text} → {_y(pool)}",
    )
    if per_year:
        run.add(ded_name, dedc)
    run.add(own_name, pool)
    if kt.shared_cap:
        run.add("pool_paid", pool)

    # The banded layers see the burden left after 统筹 (and after 大额 when both exist).
    for layer, prefix, code in (
        (terms.large_amount, "large", "330100"),
        (terms.serious_illness, "serious", "390200"),
    ):
        if layer is not None and layer.covers(kind, applied):
            _banded_layer(run, layer, prefix, code, over, int(personal_outside_fen), category, acc)

    cs = policy.civil_servant
    if civil_servant and cs is not None:
        cs_base = run.copay + (run.deductible if cs.includes_deductible else 0)
        cs_left = max(0, int(cs.annual_cap_fen) - int(acc.civil_paid))
        civil = min(int(apply_ratio(cs_base, cs.ratio)), cs_left)
        run.pay("320100", civil, cs_left, f"公务员补助 {_y(cs_base)}×{cs.ratio}; 年度余{_y(cs_left)} → {_y(civil)}")
        run.add("civil_paid", civil)

    at = policy.medical_assistance.get(category)
    if at is not None:
        ma_base = run.copay + (run.deductible if at.includes_deductible else 0)
        ma_ded = min(ma_base, max(0, int(at.deductible_fen) - int(acc.assistance_deductible_used)))
        ma_left = max(0, int(at.annual_cap_fen) - int(acc.assistance_paid))
        assist = min(int(apply_ratio(ma_base - ma_ded, at.ratio)), ma_left)
        run.pay(
            "610100",
            assist,
            ma_left,
            f"医疗救助({category.value}) ({_y(ma_base)}−起付{_y(ma_ded)})×{at.ratio}; 年度余{_y(ma_left)} → {_y(assist)}",
        )
        run.add("assistance_deductible_used", ma_ded)
        run.add("assistance_paid", assist)

    by_code = {d.fund_pay_type: int(d.fund_payamt) for d in run.details}
    funds = sum(by_code.values())
    return BasicFundResult(
        kind=applied,
        inscp_scp_amt=Fen(inscope),
        act_pay_dedc=Fen(dedc),
        hifp_pay=Fen(pool),
        pool_prop_selfpay=ratio,
        cvlserv_pay=Fen(by_code.get("320100", 0)),
        hifes_pay=Fen(0),
        hifmi_pay=Fen(by_code.get("390200", 0)),
        hifob_pay=Fen(by_code.get("330100", 0)),
        maf_pay=Fen(by_code.get("610100", 0)),
        hosp_part_amt=Fen(0),
        oth_pay=Fen(0),
        fund_pay_sumamt=Fen(funds),
        deductible=Fen(run.deductible),
        copay=Fen(run.copay),
        details=tuple(run.details),
        deltas=Accumulators(year=acc.year, **{k: Fen(v) for k, v in run.deltas.items() if v}),
    )


def _banded_layer(
    run: _Run,
    layer: BandedLayerTerms,
    prefix: str,
    code: str,
    over: int,
    outside: int,
    category: MedicalAssistance,
    acc: Accumulators,
) -> None:
    """Pay one banded layer (大额 or 大病保险) and record its base and payment increments."""
    if layer.base is LayerBase.ABOVE_CAP:
        increment, payable, what = over, min(over, run.copay), "超封顶"
    else:
        increment = run.copay + run.deductible + (outside if layer.burden_includes_outside else 0)
        payable, what = run.copay + run.deductible, "个人负担"
    tilt = layer.tilt.get(category)
    threshold = int(layer.threshold_fen)
    bonus = Decimal(0)
    if tilt is not None:
        threshold = threshold if tilt.threshold_fen is None else int(tilt.threshold_fen)
        bonus = tilt.ratio_bonus
    before = acc.get(f"{prefix}_base")
    raw = banded(threshold, layer.bands, before, before + increment, bonus)
    cap_left = max(0, int(layer.annual_cap_fen) - acc.get(f"{prefix}_paid"))
    amount = min(raw, cap_left, payable)
    run.pay(
        code,
        amount,
        cap_left,
        f"{what}累计{_y(before)}+{_y(increment)} 起付{_y(threshold)} 分段{_y(raw)}; 年度余{_y(cap_left)} → {_y(amount)}",
    )
    run.add(f"{prefix}_base", increment)
    run.add(f"{prefix}_paid", amount)
