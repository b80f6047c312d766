"""The Settlement: one frozen, line-level answer for one bill.

Per line it says how the amount splits (NHSA 全自费 / 超限价 / 先行自付 / 政策范围内), which leg the line
went to, and who paid what in which category (:class:`Allocation` cells). Per leg it carries the
leg's own block — the basic leg keeps the NHSA ``setlinfo`` names and meanings. Totals, hospital
indicators (self-pay rate with and without the CIDL exclusion), the DRG section, the versions
used and warnings complete it.

Invariants (checked by :func:`onestop.engine.check_settlement` and by property tests):

* per line, Σ allocations = line amount; per bill, Σ lines = ``medfee_sumamt``;
* no amount is negative; no fund pays a CIDL line; no line is paid by two funds;
* ``final_patient_cash_fen`` = Σ allocations to ``patient``.

Confidential payment standards never appear: a line priced against one shows
``pric_uplmt_amt_fen = None`` and ``standard_confidential = True``.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from onestop.domain.codes import ChargeCategory, ChrgitmLv, ItemKind
from onestop.domain.offer import AnswerStatus
from onestop.money import Fen

__all__ = [
    "AccumulatorDelta",
    "Allocation",
    "BasicLeg",
    "CommercialLeg",
    "DrgSection",
    "FundDetail",
    "HospitalIndicators",
    "Leg",
    "LineResult",
    "MaternityLeg",
    "PayerKey",
    "Settlement",
    "SplitCategory",
    "Totals",
    "VersionsUsed",
    "WorkInjuryLeg",
]

NonNegFen = Annotated[Fen, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class Leg(StrEnum):
    """Which fund leg a line was routed to."""

    BASIC = "basic"
    WORK_INJURY = "work_injury"
    MATERNITY = "maternity"
    NONE = "none"
    """Not a fund cost at all (work-related while recognition is pending)."""


class PayerKey:
    """Payer keys used in allocations (plain strings, built here so they are spelled one way).

    ``fund:<fund_pay_type>`` for each basic fund (e.g. ``fund:310100`` 职工统筹, ``fund:390200`` 居民大病,
    ``fund:510100`` 生育), ``work_injury``, ``employer``, ``commercial:<payer>``, ``account``, ``patient``.
    """

    WORK_INJURY = "work_injury"
    EMPLOYER = "employer"
    ACCOUNT = "account"
    PATIENT = "patient"

    @staticmethod
    def fund(fund_pay_type: str) -> str:
        """Key of one basic/maternity fund by its fund_pay_type code."""
        return f"fund:{fund_pay_type}"

    @staticmethod
    def commercial(payer: str) -> str:
        """Key of a commercial payer by its adapter name."""
        return f"commercial:{payer}"

    @staticmethod
    def is_fund(key: str) -> bool:
        """True for the statutory funds (basic funds, maternity, work injury)."""
        return key.startswith("fund:") or key == PayerKey.WORK_INJURY


class SplitCategory(StrEnum):
    """The category a cell of money sits in: the offer categories plus fund-covered in-scope money."""

    FUND = "fund"
    """Paid by a statutory fund (in-scope for basic; in-catalog for work injury / maternity)."""
    FULAMT_OWNPAY = "fulamt_ownpay"
    CIDL = "cidl"
    OVERLMT = "overlmt"
    PRESELFPAY = "preselfpay"
    DEDUCTIBLE = "deductible"
    COPAY = "copay"


class Allocation(_Model):
    """One cell: ``payer`` paid ``amount_fen`` of this line out of ``category``."""

    payer: str
    category: SplitCategory
    amount_fen: NonNegFen


class LineResult(_Model):
    """One line of the settlement."""

    feedetl_sn: str
    name: str
    national_code: str
    """Resolved national code (empty when out of catalog and unmapped)."""
    item_kind: ItemKind
    charge_category: ChargeCategory
    amount_fen: NonNegFen
    """det_item_fee_sumamt."""
    leg: Leg
    in_catalog: bool
    matched_by: str
    chrgitm_lv: ChrgitmLv
    selfpay_prop: Decimal
    """先行自付 ratio applied (0 for 甲, e.g. 0.1 for 乙, 1 for 全自费)."""
    pric_uplmt_amt_fen: Fen | None
    """Payment standard per unit, fen; None when none applies or when it is confidential."""
    standard_confidential: bool = False
    fulamt_ownpay_amt: NonNegFen
    overlmt_amt: NonNegFen
    preselfpay_amt: NonNegFen
    inscp_scp_amt: NonNegFen
    cidl_no: int | None = None
    """商保创新药目录 number when the line is a CIDL drug (its amount sits in 全自费)."""
    cidl_matched_by: str = ""
    reasons: tuple[str, ...] = ()
    """Reason codes for the split (e.g. OUT_OF_CATALOG, CIDL_NOT_FUND_PAYABLE, OVER_STANDARD)."""
    allocations: tuple[Allocation, ...]
    """Who paid what, in canonical order; sums to amount_fen."""


class FundDetail(_Model):
    """setldetail[]: one fund's payment (基金分项)."""

    fund_pay_type: str
    fund_pay_type_name: str
    inscp_scp_amt: NonNegFen
    crt_payb_lmt_amt: NonNegFen | None = None
    """本次可支付限额金额 (remaining cap before this payment), when the fund has a cap."""
    fund_payamt: NonNegFen
    setl_proc_info: str = ""
    """How the amount was computed (free text, as the NHSA centre returns it)."""


class AccumulatorDelta(_Model):
    """A change to a person-year accumulator; reversals apply the negated delta."""

    key: str
    """e.g. ``310:2026:deductible``, ``310:2026:pool_paid``."""
    delta_fen: Fen


class BasicLeg(_Model):
    """The basic-insurance leg, NHSA ``setlinfo`` names and meanings (domain.md §1.6)."""

    kind: Literal["basic"] = "basic"
    source: Literal["engine", "nhsa-platform"] = "engine"
    """Who computed it. From the centre, the engine's figures are a cross-check only."""
    insutype: str
    psn_type: str
    med_type: str
    benefit_kind: str
    """Which terms of the policy applied (inpatient, general_outpatient, chronic_special, two_diseases, …)."""
    benefit_year: int
    medfee_sumamt: NonNegFen
    """Σ lines on this leg."""
    fulamt_ownpay_amt: NonNegFen
    overlmt_selfpay: NonNegFen
    preselfpay_amt: NonNegFen
    inscp_scp_amt: NonNegFen
    act_pay_dedc: NonNegFen
    """起付线 actually charged this time."""
    hifp_pay: NonNegFen
    """统筹基金."""
    pool_prop_selfpay: Decimal
    """The 统筹 payment ratio used (a ratio, not fen; NHSA label 支付比例)."""
    cvlserv_pay: NonNegFen
    hifes_pay: NonNegFen
    hifmi_pay: NonNegFen
    hifob_pay: NonNegFen
    maf_pay: NonNegFen
    hosp_part_amt: NonNegFen
    oth_pay: NonNegFen
    fund_pay_sumamt: NonNegFen
    psn_part_amt: NonNegFen
    acct_pay: NonNegFen
    psn_cash_pay: NonNegFen
    """NHSA meaning: the patient's cash before commercial insurance."""
    balc: NonNegFen
    """Personal-account balance after this settlement."""
    acct_mulaid_pay: NonNegFen = Fen(0)
    cidl_amt: NonNegFen = Fen(0)
    """CIDL drug amount, a subset of fulamt_ownpay_amt."""
    fund_details: tuple[FundDetail, ...] = ()
    accumulator_deltas: tuple[AccumulatorDelta, ...] = ()


class WorkInjuryLeg(_Model):
    """The 工伤 leg: in-catalog work-related lines paid in full up to the standard."""

    kind: Literal["work_injury"] = "work_injury"
    status: str
    """recognised | pending."""
    decision_id: str = ""
    medfee_sumamt: NonNegFen
    fund_pay_fen: NonNegFen
    """Paid by the work-injury fund (0 while pending)."""
    employer_pay_fen: NonNegFen
    """Borne by the employer (out of catalog, or everything while recognition is pending, per policy)."""
    patient_pay_fen: NonNegFen
    pending_reimbursement_fen: NonNegFen = Fen(0)
    """Work-related cost paid now by cash/employer, to claim from the fund after recognition."""
    meal_allowance_fen: NonNegFen = Fen(0)
    """住院伙食补助: a separate benefit outside line conservation."""


class MaternityLeg(_Model):
    """The 生育 leg (fund_pay_type 510100): no 甲/乙 distinction."""

    kind: Literal["maternity"] = "maternity"
    medfee_sumamt: NonNegFen
    inscp_scp_amt: NonNegFen
    fund_pay_fen: NonNegFen
    deductible_fen: NonNegFen
    copay_fen: NonNegFen
    accumulator_deltas: tuple[AccumulatorDelta, ...] = ()


class CommercialLeg(_Model):
    """One commercial payer's part."""

    kind: Literal["commercial"] = "commercial"
    payer: str
    product: str
    policy_no: str
    reference: str
    status: AnswerStatus
    offered_fen: NonNegFen
    paid_fen: NonNegFen
    reason: str = ""
    raw_code: str = ""
    raw_message: str = ""
    payer_claim_id: str = ""


class DrgSection(_Model):
    """DRG grouping and payment of an inpatient case (filled when the policy configures a grouper)."""

    scheme: str
    status: str
    mdc: str = ""
    adrg: str = ""
    drg: str = ""
    weight: Decimal | None = None
    base_rate_fen: Fen | None = None
    drg_payment_fen: Fen | None = None
    case_cost_fen: NonNegFen
    """Case cost used for DRG: the bill total without CIDL lines."""
    cidl_cost_fen: NonNegFen
    cost_ratio: Decimal | None = None
    cost_class: str = ""
    special_review: bool = False
    special_review_reason: str = ""
    trace: tuple[str, ...] = ()


class Totals(_Model):
    """Bill-level totals; Σ of the payer figures equals medfee_sumamt."""

    medfee_sumamt: NonNegFen
    basic_fund_fen: NonNegFen
    work_injury_fund_fen: NonNegFen
    maternity_fund_fen: NonNegFen
    employer_fen: NonNegFen
    commercial_fen: NonNegFen
    account_fen: NonNegFen
    final_patient_cash_fen: NonNegFen
    """What the patient pays at the window after every payer."""
    cidl_amt: NonNegFen


class HospitalIndicators(_Model):
    """Indicators the hospital is assessed on; CIDL amounts do not count in the self-pay rate."""

    self_pay_fen: NonNegFen
    """全自费 + 超限价 on basic-leg lines, CIDL included."""
    self_pay_rate: Decimal
    self_pay_excl_cidl_fen: NonNegFen
    self_pay_rate_excl_cidl: Decimal
    """The rate the 自费率 indicator uses: CIDL excluded from numerator and denominator."""
    cidl_amt: NonNegFen


class VersionsUsed(_Model):
    """Catalog editions, standards and policy versions a settlement used."""

    catalog_editions: tuple[str, ...]
    policy_id: str
    policy_version: str
    policy_label: str = ""
    """E.g. "unverified example parameters": carried into every output that used the policy."""
    standards: tuple[str, ...] = ()
    """``code:source:valid_from`` of each standard applied (never the amount)."""
    drg_scheme: str = ""


class Settlement(_Model):
    """The consolidated, line-level result for one bill."""

    hospital_code: str
    mdtrt_id: str
    med_type: str
    lines: tuple[LineResult, ...]
    """Sorted by feedetl_sn, whatever the input order."""
    basic: BasicLeg | None = None
    work_injury: WorkInjuryLeg | None = None
    maternity: MaternityLeg | None = None
    commercial: tuple[CommercialLeg, ...] = ()
    totals: Totals
    indicators: HospitalIndicators
    drg: DrgSection | None = None
    versions: VersionsUsed
    warnings: tuple[str, ...] = ()
