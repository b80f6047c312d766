"""The product-design schema: a 惠民保 product as data, validated once at load.

A :class:`Design` is one product edition: who may buy it, what it costs, its policy period (the
*product year* every accumulator is keyed by), its per-year deductible pools and sum-insured pools,
the pre-existing-condition groups it recognises, and its liabilities in the order they are
adjudicated. The adjudication rules that read these fields are stated in
:func:`onestop.products.adjudicate`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)

from onestop.domain.offer import Category, LineOffer
from onestop.money import Fen, MoneyError, parse_ratio

__all__ = [
    "Design",
    "DrugList",
    "Eligibility",
    "Liability",
    "LiabilityKind",
    "PolicyPeriod",
    "PreExistingGroup",
    "Ratio",
]

_ID = r"^[a-z][a-z0-9_]*$"
_CODE = r"^[a-z0-9][a-z0-9-]*$"


def _ratio(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f"ratios are exact decimal text (e.g. 0.70), not a binary float {value!r}")
    try:
        return parse_ratio(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


Ratio = Annotated[
    Decimal,
    PlainValidator(_ratio),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^(0(\.\d+)?|1(\.0+)?)$"}),
]
"""An exact ratio in [0, 1]; in YAML written plainly (``0.70``) and read from its text, never as a float."""

NonNegFen = Annotated[Fen, Field(ge=0)]
PosFen = Annotated[Fen, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class LiabilityKind(StrEnum):
    """What a liability covers (descriptive; which amounts it takes is set by its categories and drugs)."""

    IN_CATALOG = "in_catalog"
    """医保目录内 self-pay left after the funds (先行自付, 起付线, 共付)."""
    OUT_OF_CATALOG = "out_of_catalog"
    """医保目录外 self-pay (全自费, 超限价, and CIDL drugs not on a drug list)."""
    SPECIAL_DRUG = "special_drug"
    """特药: a named drug list, including chosen 商保创新药目录 (CIDL) drugs."""
    CAR_T = "car_t"
    """CAR-T cell therapies (a named drug list)."""


class DrugList(_Model):
    """Drugs a liability pays, matched on an offered line by CIDL number, exact name or national code.

    A line matches when any of the three matches. Matching needs line detail: a totals-only offer
    matches no drug list.
    """

    cidl_nos: frozenset[Annotated[int, Field(ge=1)]] = frozenset()
    """商保创新药目录 entry numbers (the line's ``cidl_no``)."""
    names: frozenset[str] = frozenset()
    """Generic names as charged (the line's ``name``, compared exactly)."""
    national_codes: frozenset[str] = frozenset()
    """医保 national codes (the line's ``national_code``)."""

    @model_validator(mode="after")
    def _not_empty(self) -> DrugList:
        if not (self.cidl_nos or self.names or self.national_codes):
            raise ValueError("a drug list names at least one cidl_no, name or national code")
        return self

    def matches(self, line: LineOffer) -> bool:
        """True when ``line`` is one of these drugs."""
        return (
            (line.cidl_no is not None and line.cidl_no in self.cidl_nos)
            or line.name in self.names
            or (bool(line.national_code) and line.national_code in self.national_codes)
        )


class Liability(_Model):
    """One responsibility of the product: which amounts it takes and how it pays them."""

    id: Annotated[str, Field(pattern=_ID)]
    """Stable identifier (accumulator keys, reports), e.g. ``in_catalog``."""
    kind: LiabilityKind
    name: str = ""
    """Name as the product calls it (Chinese)."""
    categories: Annotated[tuple[Category, ...], Field(min_length=1)]
    """Offer categories this liability takes (never ``account_paid``)."""
    drugs: DrugList | None = None
    """When set, only lines of these drugs; required for ``special_drug`` and ``car_t``."""
    deductible: str
    """Deductible pool (a key of ``Design.deductibles``); liabilities naming the same pool share it."""
    limit: str
    """Sum-insured pool (a key of ``Design.limits``); liabilities naming the same pool share it."""
    ratio: Ratio
    """Share paid of the amount above the deductible."""
    pre_existing_ratio: Ratio | None = None
    """Share paid instead when the claim is for a pre-existing condition (None: ``ratio`` applies)."""
    waiting_days: Annotated[int, Field(ge=0)] = 0
    """Days after enrolment before this liability pays (admission on day ``enrolled_on + waiting_days`` pays)."""

    @model_validator(mode="after")
    def _consistent(self) -> Liability:
        problems = []
        if Category.ACCOUNT_PAID in self.categories:
            problems.append("categories: account_paid is already settled and cannot be paid")
        if len(set(self.categories)) != len(self.categories):
            problems.append("categories: listed twice")
        if self.kind in (LiabilityKind.SPECIAL_DRUG, LiabilityKind.CAR_T) and self.drugs is None:
            problems.append(f"drugs: a {self.kind.value} liability needs a drug list")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def ratio_for(self, pre_existing: bool) -> Decimal:
        """The ratio paid, lower for a pre-existing condition when the liability says so."""
        if pre_existing and self.pre_existing_ratio is not None:
            return self.pre_existing_ratio
        return self.ratio


class PolicyPeriod(_Model):
    """The product year: cover runs from ``start`` to ``end`` inclusive."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> PolicyPeriod:
        if self.end < self.start:
            raise ValueError("end: before start")
        return self

    def contains(self, day: dt.date) -> bool:
        """True when ``day`` is inside the period."""
        return self.start <= day <= self.end


class Eligibility(_Model):
    """Who may buy the product (checked when a member is registered, and by the simulator's population)."""

    insured_regions: Annotated[tuple[Annotated[str, Field(pattern=r"^\d{6}$")], ...], Field(min_length=1)]
    """Basic-insurance regions (admdvs); a province code (``230000``) admits its cities."""
    insutypes: Annotated[tuple[str, ...], Field(min_length=1)]
    """Basic insurance types admitted (``310`` employees, ``390`` residents)."""
    min_age: Annotated[int, Field(ge=0)] | None = None
    max_age: Annotated[int, Field(ge=0)] | None = None
    """Inclusive age bounds; None: no bound."""

    def admits(self, region: str, insutype: str, age: int) -> bool:
        """True when a person of this region, insurance type and age may buy the product."""
        in_region = region in self.insured_regions or f"{region[:2]}0000" in self.insured_regions
        old_enough = self.min_age is None or age >= self.min_age
        young_enough = self.max_age is None or age <= self.max_age
        return in_region and insutype in self.insutypes and old_enough and young_enough


class PreExistingGroup(_Model):
    """A group of conditions the product treats as pre-existing (既往症) when the member had it before enrolling."""

    id: Annotated[str, Field(pattern=_ID)]
    name: str = ""
    icd10_prefixes: Annotated[tuple[str, ...], Field(min_length=1)]
    """A diagnosis code is in the group when it starts with one of these (e.g. ``C`` for malignant tumours)."""

    def matches(self, diagnosis: str) -> bool:
        """True when ``diagnosis`` belongs to the group."""
        return diagnosis.startswith(self.icd10_prefixes)


class Design(_Model):
    """One 惠民保 product edition as data (see :func:`onestop.products.adjudicate` for the rules)."""

    code: Annotated[str, Field(pattern=_CODE)]
    """The product code offers carry (``Offer.product``), e.g. ``heilongjiang-upgraded-2025``."""
    name: str
    """Product name (Chinese)."""
    insurer: str = ""
    source: str
    """Where the figures come from (domain reference section and its sources)."""
    example_values: tuple[str, ...] = ()
    """Dotted paths of fields whose value is an example, not a sourced figure (e.g. ``premium_fen``)."""
    policy_period: PolicyPeriod
    premium_fen: PosFen
    """Yearly premium per member, fen."""
    eligibility: Eligibility
    deductibles: Annotated[dict[Annotated[str, Field(pattern=_ID)], NonNegFen], Field(min_length=1)]
    """Deductible pools: pool → per-product-year amount, fen."""
    limits: Annotated[dict[Annotated[str, Field(pattern=_ID)], PosFen], Field(min_length=1)]
    """Sum-insured pools: pool → per-product-year amount, fen."""
    pre_existing: tuple[PreExistingGroup, ...] = ()
    liabilities: Annotated[tuple[Liability, ...], Field(min_length=1)]
    """In adjudication order: an amount goes to the first liability that takes it."""

    @model_validator(mode="after")
    def _references(self) -> Design:
        problems = []
        seen: set[str] = set()
        for i, lia in enumerate(self.liabilities):
            if lia.id in seen:
                problems.append(f"liabilities[{i}].id: {lia.id!r} is used twice")
            seen.add(lia.id)
            if lia.deductible not in self.deductibles:
                problems.append(f"liabilities[{i}].deductible: no deductible pool {lia.deductible!r}")
            if lia.limit not in self.limits:
                problems.append(f"liabilities[{i}].limit: no limit pool {lia.limit!r}")
        groups = [g.id for g in self.pre_existing]
        if len(set(groups)) != len(groups):
            problems.append("pre_existing: a group id is used twice")
        for i, path in enumerate(self.example_values):
            if not _has_path(self, path):
                problems.append(f"example_values[{i}]: no field {path!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def product_year(self) -> int:
        """The product year's number (the policy period's start year), the ``year`` of every accumulator."""
        return self.policy_period.start.year

    def liability(self, liability_id: str) -> Liability:
        """The liability with this id.

        Raises:
            KeyError: no such liability.
        """
        for lia in self.liabilities:
            if lia.id == liability_id:
                return lia
        raise KeyError(liability_id)

    def pre_existing_groups_of(self, diagnoses: tuple[str, ...]) -> frozenset[str]:
        """Ids of the pre-existing groups any of ``diagnoses`` belongs to."""
        return frozenset(g.id for g in self.pre_existing if any(g.matches(d) for d in diagnoses))


def _has_path(model: BaseModel, path: str) -> bool:
    node: Any = model
    for part in path.split("."):
        if isinstance(node, BaseModel):
            if part not in type(node).model_fields:
                return False
            node = getattr(node, part)
        elif isinstance(node, dict):
            if part not in node:
                return False
            node = node[part]
        elif isinstance(node, tuple):
            match = [x for x in node if getattr(x, "id", None) == part]
            if not match:
                return False
            node = match[0]
        else:
            return False
    return True
