"""The bill a hospital sends: hospital, patient, visit, optional work injury, coverages and fee lines.

Models are frozen and strict: unknown fields and unknown enum codes are refused; amounts are
integer fen; quantities and unit prices are exact decimals given as text (``"2"``, ``"12.3400"``),
never floats. Every validation error names the field, and for a line its ``lines[i]`` index and
``feedetl_sn``. Unknown *item codes* are not errors: such a line is simply out of catalog.

Which patient fields the NHSA channel fetches rather than trusts (``onestop.sdk`` nhsa-platform):
insutype, psn_type, civil-servant flag, personal-account balance come from 1101 person info and
year-to-date accumulators from 5206; the values in the bill are then the hospital's preview only.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from onestop.domain.codes import (
    CertType,
    ChargeCategory,
    DischargeWay,
    HospApprFlag,
    Insutype,
    MedicalAssistance,
    MedType,
    PrescribingContext,
    Sex,
    WorkInjuryStatus,
)
from onestop.money import Fen

__all__ = [
    "Bill",
    "BillLine",
    "CommercialCoverage",
    "Diagnosis",
    "Hospital",
    "Patient",
    "Registrations",
    "Visit",
    "WorkInjury",
]

_ADMDVS = r"^[0-9]{6}$"
# ASCII digits only: \d would also accept full-width and Arabic-Indic digits.
_DEC_RE = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
MAX_TEXT = 200


def _exact_decimal(value: Any) -> Decimal:
    """Accept decimal text or an int; refuse floats, NaN, Inf, exponents and signs."""
    if isinstance(value, (bool, float)):
        raise ValueError('must be exact decimal text such as "12.30", not a float')
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite decimal")
        value = format(value, "f")
    if not isinstance(value, str) or not _DEC_RE.match(value):
        raise ValueError("must be plain decimal text (digits and one point; no sign, exponent, NaN or Inf)")
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the regex rules it out
        raise ValueError("not a decimal") from exc


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact_decimal)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Code = Annotated[str, Field(min_length=1, max_length=50)]
Admdvs = Annotated[str, Field(pattern=_ADMDVS)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class Hospital(_Model):
    """The treating institution (定点医疗机构)."""

    code: Code
    """fixmedins_code, the NHSA institution code; the idempotency key's first half."""
    tier: Code
    """Hospital tier as the treatment region's policy names it (e.g. 一级, 市属三级, 社区)."""
    region: Admdvs
    """Treatment region admdvs (就医地): picks catalogs and provincial lists."""
    group: Text = ""
    """Hospital group (医联体) id; 医疗机构制剂 approved for group use are payable across it."""


class Registrations(_Model):
    """备案 the patient holds; each is an id issued by the agency, empty when absent."""

    chronic_special: tuple[Code, ...] = ()
    """门诊慢特病 disease codes registered (备案) for this patient."""
    two_diseases: tuple[Code, ...] = ()
    """两病 (高血压/糖尿病) registrations: diagnosis codes, e.g. I10, E11."""
    dual_channel_filing_id: Text = ""
    """双通道 备案 id, required by provinces that require one for a pharmacy purchase."""
    cross_region_filing_id: Text = ""
    """异地就医 备案 id; a cross-region visit without one is settled under the policy's unfiled terms."""


class Patient(_Model):
    """The insured person. Name and certificate number are personal data: never logged, masked on display."""

    psn_no: Code
    """NHSA person number."""
    cert_type: CertType
    """mdtrt_cert_type."""
    cert_no: Annotated[str, Field(min_length=1, max_length=64, repr=False)]
    """mdtrt_cert_no (token, ID card or SSC number)."""
    name: Annotated[str, Field(min_length=1, max_length=50, repr=False)]
    """psn_name."""
    insutype: Insutype
    """险种类型; 310 职工 or 390 居民 for the basic leg."""
    psn_type: Code
    """人员类别, e.g. 11 在职, 12 退休; regional policies key ratios by it."""
    age: Annotated[int, Field(ge=0, le=150)]
    """Age in whole years on the visit's start date."""
    sex: Sex
    insured_region: Admdvs
    """参保地 admdvs: picks benefits (参保地待遇)."""
    civil_servant: bool = False
    """cvlserv_flag: eligible for 公务员医疗补助."""
    medical_assistance: MedicalAssistance = MedicalAssistance.NONE
    """医疗救助 category, the last layer after basic and 大病."""
    account_balance_fen: Annotated[Fen, Field(ge=0)] = Fen(0)
    """Personal account (个人账户) balance before this visit, fen."""
    use_account: bool = False
    """acct_used_flag: the patient agrees to pay from the personal account."""
    registrations: Registrations = Registrations()

    @property
    def masked_name(self) -> str:
        """Name for display: first character then ``*`` (``张三 -> 张*``)."""
        return self.name[:1] + "*" * max(1, len(self.name) - 1)

    @property
    def masked_cert_no(self) -> str:
        """Certificate number for display: first 3 and last 2 characters kept."""
        n = self.cert_no
        return n[:3] + "*" * max(0, len(n) - 5) + n[-2:] if len(n) > 5 else "*" * len(n)


class Diagnosis(_Model):
    """A diagnosis in 医保版 ICD-10 (principal first in the visit's list)."""

    code: Code
    name: Text = ""


class Visit(_Model):
    """One 就诊 (mdtrt): dates, diagnoses, procedures, and what the DRG grouper needs."""

    mdtrt_id: Code
    med_type: MedType
    admission_date: dt.date
    """Visit start (入院 / 就诊 date)."""
    discharge_date: dt.date
    """Visit end (出院 date; same as admission for outpatient)."""
    diagnoses: Annotated[tuple[Diagnosis, ...], Field(min_length=1, max_length=60)]
    """Principal diagnosis first."""
    procedures: Annotated[tuple[Code, ...], Field(max_length=60)] = ()
    """医保版 ICD-9-CM-3 procedure codes, principal first."""
    discharge_way: DischargeWay = DischargeWay.ORDERED
    newborn_weight_g: Annotated[int, Field(ge=100, le=9999)] | None = None
    """Birth weight in grams for neonatal cases."""
    age_days: Annotated[int, Field(ge=0, le=365)] | None = None
    """Age in days for patients under one year (newborn DRG rules)."""
    vent_hours: Annotated[int, Field(ge=0)] = 0
    """Ventilator hours (vent_used_dura)."""
    dept: Text = ""
    """Discharge department code."""
    prescribing_context: PrescribingContext | None = None
    """Pharmacy purchase (med_type 41) only: the context whose policy applies (双通道)."""

    @property
    def los_days(self) -> int:
        """Length of stay: discharge − admission, at least 1 for an inpatient stay."""
        days = (self.discharge_date - self.admission_date).days
        return max(days, 1) if self.med_type.is_inpatient else days

    @model_validator(mode="after")
    def _dates_in_order(self) -> Visit:
        if self.discharge_date < self.admission_date:
            raise ValueError("discharge_date: is before admission_date")
        if self.med_type is MedType.PHARMACY and self.prescribing_context is None:
            raise ValueError("prescribing_context: is required for a pharmacy purchase (med_type 41)")
        return self


class WorkInjury(_Model):
    """The work-related part of a visit (工伤)."""

    status: WorkInjuryStatus
    decision_id: Text = ""
    """认定书 number; required when recognised."""
    decision_date: dt.date | None = None
    diagnosis_codes: tuple[Code, ...] = ()
    """Work-related diagnoses; lines flagged work-related belong to them."""
    employer: Text = ""
    """Employer (用人单位) name or code; pays what the fund does not when stated by policy."""

    @model_validator(mode="after")
    def _recognition_complete(self) -> WorkInjury:
        if self.status is WorkInjuryStatus.RECOGNISED and not (self.decision_id and self.decision_date):
            raise ValueError("decision_id: a recognised work injury needs decision_id and decision_date")
        return self


class CommercialCoverage(_Model):
    """One commercial policy of the patient, offered the remaining liability in bill order."""

    payer: Code
    """Adapter name as registered (entry point name), e.g. ``huiminbao``."""
    product: Code
    """Product code at that payer (e.g. a 惠民保 product file id)."""
    policy_no: Code
    consent_line_detail: bool = False
    """Whether the patient consented to share line detail; otherwise category totals only."""


class BillLine(_Model):
    """One fee line (feedetail). No negative lines: a refund is a Reverse and a new Settle."""

    feedetl_sn: Code
    """费用明细流水号, unique within the bill."""
    national_code: Annotated[str, Field(max_length=50)] = ""
    """med_list_codg (医保目录编码); empty when the hospital has none."""
    hospital_code: Annotated[str, Field(max_length=50)] = ""
    """medins_list_codg (院内编码), resolved through the hospital's code map."""
    name: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    """Item name as charged (generic name for drugs: used for CIDL matching by name)."""
    dosage_form: Text = ""
    """Dosage form (剂型) for drugs, used with the name for CIDL matching."""
    spec: Text = ""
    """Specification (规格), picks the payment-standard row among several specs."""
    category: ChargeCategory
    """med_chrgitm_type."""
    quantity: ExactDecimal
    """cnt (16,4): > 0, at most 4 decimals."""
    unit_price: ExactDecimal
    """pric (16,6) in yuan: ≥ 0, at most 6 decimals."""
    amount_fen: Annotated[Fen, Field(ge=0)]
    """det_item_fee_sumamt in fen; must equal quantity × unit_price within 1 fen."""
    hosp_appr_flag: HospApprFlag = HospApprFlag.NOT_APPROVED
    e_prescription_id: Text = ""
    """Electronic prescription id (双通道 purchases)."""
    work_related: bool = False
    """The line treats the recognised or pending work injury."""
    date: dt.date
    """fee_ocur_time (date part): picks the catalog edition and standards in force."""

    @field_validator("quantity")
    @classmethod
    def _quantity(cls, v: Decimal) -> Decimal:
        if v <= 0:
            raise ValueError("must be greater than 0")
        if -v.as_tuple().exponent > 4:  # type: ignore[operator]
            raise ValueError("at most 4 decimals")
        return v

    @field_validator("unit_price")
    @classmethod
    def _price(cls, v: Decimal) -> Decimal:
        if -v.as_tuple().exponent > 6:  # type: ignore[operator]
            raise ValueError("at most 6 decimals")
        return v

    @model_validator(mode="after")
    def _amount_matches(self) -> BillLine:
        expected = self.quantity * self.unit_price * 100
        if abs(expected - self.amount_fen) > 1:
            raise ValueError(
                f"amount_fen: {int(self.amount_fen)} differs from quantity × unit_price "
                f"({self.quantity} × {self.unit_price} yuan = {expected.normalize():f} fen) by more than 1 fen"
            )
        return self


class Bill(_Model):
    """One bill to settle: a visit with its fee lines."""

    hospital: Hospital
    patient: Patient
    visit: Visit
    lines: Annotated[tuple[BillLine, ...], Field(min_length=1, max_length=5000)]
    work_injury: WorkInjury | None = None
    coverages: Annotated[tuple[CommercialCoverage, ...], Field(max_length=10)] = ()
    """The patient's commercial policies, in the order they pay."""

    @property
    def is_cross_region(self) -> bool:
        """异地就医: insured region differs from treatment region."""
        return self.patient.insured_region != self.hospital.region

    @property
    def total_fen(self) -> Fen:
        """medfee_sumamt: the sum of every line."""
        return Fen(sum(line.amount_fen for line in self.lines))

    @model_validator(mode="after")
    def _cross_checks(self) -> Bill:
        seen: set[str] = set()
        errors: list[str] = []
        for i, line in enumerate(self.lines):
            if line.feedetl_sn in seen:
                errors.append(f"lines[{i}].feedetl_sn: duplicate feedetl_sn {line.feedetl_sn!r}")
            seen.add(line.feedetl_sn)
            if not (self.visit.admission_date <= line.date <= self.visit.discharge_date):
                errors.append(
                    f"lines[{i}].date: {line.date} is outside the visit "
                    f"({self.visit.admission_date}..{self.visit.discharge_date})"
                )
            if line.work_related and self.work_injury is None:
                errors.append(f"lines[{i}].work_related: line is work-related but the bill has no work_injury")
        payers = [c.payer for c in self.coverages]
        if len(set(payers)) != len(payers):
            errors.append("coverages: the same payer appears twice (one policy per payer per bill)")
        if errors:
            raise ValueError("; ".join(errors))
        return self
