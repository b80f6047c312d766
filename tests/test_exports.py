"""The public surface of the core packages is locked: changing it is a deliberate diff of this file."""

from __future__ import annotations

import importlib

import pytest

SURFACES = {
    "onestop": "Fen InvalidRequest OnestopError __version__",
    "onestop.money": (
        "Fen MoneyError allocate allocate_ints apply_ratio format_yuan parse_ratio parse_yuan round_to_fen trusted_fen"
    ),
    "onestop.errors": """
        AdapterValidationError BillOutOfScope ConfigError FailedPrecondition FieldViolation IdempotencyKeyReused IntegrityViolation
        InvalidRequest InvalidState NoEditionInForce NoGrouper NotFound OnestopError PayerDeclined PayerError
        PayerTimeout PayerUnavailable PermissionDenied PolicyNotFound ResourceExhausted Unauthenticated
        UnsupportedFlow is_transient
    """,
    "onestop.domain": """
        AccumulatorDelta Allocation AnswerStatus BasicLeg Bill BillLine CATEGORY_ORDER Category CertType
        ChargeCategory ChrgitmLv CommercialAnswer CommercialCoverage CommercialLeg Diagnosis DischargeWay DrgSection
        FundDetail HospApprFlag Hospital HospitalIndicators Insutype ItemKind Leg LineOffer LinePayment LineResult
        MaternityLeg MedType MedicalAssistance Offer Patient PayerKey PrescribingContext Registrations Settlement Sex
        SplitCategory Totals VersionsUsed Visit WorkInjury WorkInjuryLeg WorkInjuryStatus parse_bill_json
        violations_from
    """,
    "onestop.catalog": """
        AuditHit CONFIDENTIAL_ENV CatalogData CatalogSet CatalogStore CatalogView CidlMatch CidlView EditionInfo
        EntryView FixtureSample HospitalPreparation LookupResult MatchedBy Resolution Restriction RestrictionKind
        Standard StandardSource StandardView default_catalogs fixture_samples open_catalogs
    """,
    "onestop.drg": """
        BatchRow Case ChsDrg11Grouper CidlHandling CostClass DrgSettings DrgTables GroupResult GroupStatus Grouper
        INPUT_OPTIONAL INPUT_REQUIRED LowRatioPayment OUTPUT_COLUMNS Payment PaymentMode RowError SCHEMES
        SCHEME_CHS_DRG_11 case_from_bill drg_section_for group group_csv group_with grouper_for grouper_for_settings
        load_tables parse_case_row pay settings_for
    """,
    "onestop.engine": """
        FundsState InProcessPayer Reason SettlementInvariantError apply_commercial check_settlement finalize receipt
        settle settle_funds
    """,
}


@pytest.mark.parametrize("module", sorted(SURFACES))
def test_public_surface_is_exactly_the_documented_one(module: str) -> None:
    """Each core package exports exactly its curated names, and every exported name resolves."""
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(SURFACES[module].split())
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name} is exported but missing"
