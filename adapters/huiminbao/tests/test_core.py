"""The SDK's conformance kit against the 惠民保 adapter, on the shipped Heilongjiang upgraded design."""

from __future__ import annotations

from onestop_huiminbao import HuiminbaoAdapter, HuiminbaoConfig

from onestop.domain.codes import ChargeCategory, ChrgitmLv
from onestop.domain.offer import Category
from onestop.sdk.testing import AdapterFixtures, SampleLine, get_adapter_test_class, sample_offer

PRODUCT = "heilongjiang-upgraded-2025"

#: Fixture lines above the deductibles: in-catalog self-pay 3万 and out-of-catalog 5万 (invented amounts).
_LARGE: tuple[SampleLine, ...] = (
    ("L001", "fixture: 乙类 drug", ChargeCategory.WESTERN_DRUG, ChrgitmLv.B, True, None,
     {Category.PRESELFPAY: 500_000, Category.DEDUCTIBLE: 100_000, Category.COPAY: 2_400_000}),
    ("L002", "fixture: out-of-catalog material", ChargeCategory.MATERIAL, ChrgitmLv.C, False, None,
     {Category.FULAMT_OWNPAY: 4_800_000}),
    ("L003", "fixture: 甲类 exam over the standard", ChargeCategory.EXAMINATION, ChrgitmLv.A, True, None,
     {Category.OVERLMT: 200_000}),
)  # fmt: skip

TestHuiminbao = get_adapter_test_class(
    HuiminbaoAdapter,
    config=HuiminbaoConfig(register_required=False),
    fixtures=AdapterFixtures(
        happy=sample_offer("huiminbao", product=PRODUCT, lines=_LARGE),
        partial=sample_offer("huiminbao", product=PRODUCT, lines=_LARGE),
        # The kit's own general lines (1,459 yuan) stay below every deductible: declined DEDUCTIBLE_NOT_MET.
        decline=sample_offer("huiminbao", product=PRODUCT),
        cidl=sample_offer("huiminbao", product=PRODUCT, kind="cidl"),
    ),
)


def test_installed_entry_point_loads_and_validates() -> None:
    """The installed distribution advertises `huiminbao` in onestop.adapters and it passes load validation."""
    from onestop.sdk import load_adapters

    assert load_adapters(only=["huiminbao"]) == {"huiminbao": HuiminbaoAdapter}
