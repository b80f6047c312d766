"""惠民保 products as rules-as-data: the design schema, loading, and the pure adjudication.

* :class:`Design` — one product edition (eligibility, premium, policy period, deductible and
  sum-insured pools, pre-existing groups, liabilities), loaded from YAML with
  :func:`load_product` (a file) or :func:`load_design` (a shipped design by code).
* :func:`adjudicate` — one offer for one member given the member's product-year accumulators;
  pure, the one statement of the rules (the simulator's fast mode mirrors it to the fen).
* :func:`in_process_payer` — a design answering the engine's offers in-process.

The ``huiminbao`` insurer adapter (``adapters/huiminbao``) runs the same adjudication behind the
SDK's flows, with accumulators and the member register in the host's state store.
"""

from onestop.products._adjudicate import (
    Adjudication,
    LiabilityOutcome,
    MemberFacts,
    accumulator_keys,
    adjudicate,
    deductible_key,
    paid_key,
)
from onestop.products._load import load_design, load_product, parse_design, shipped_designs
from onestop.products._payer import ProductPayer, in_process_payer
from onestop.products._schema import (
    Design,
    DrugList,
    Eligibility,
    Liability,
    LiabilityKind,
    PolicyPeriod,
    PreExistingGroup,
    Ratio,
)

__all__ = [
    "Adjudication",
    "Design",
    "DrugList",
    "Eligibility",
    "Liability",
    "LiabilityKind",
    "LiabilityOutcome",
    "MemberFacts",
    "PolicyPeriod",
    "PreExistingGroup",
    "ProductPayer",
    "Ratio",
    "accumulator_keys",
    "adjudicate",
    "deductible_key",
    "in_process_payer",
    "load_design",
    "load_product",
    "paid_key",
    "parse_design",
    "shipped_designs",
]
