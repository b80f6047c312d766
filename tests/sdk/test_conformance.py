"""The conformance kit run against the SDK's own fakes: FakeInsurer variants and a toy channel."""

from __future__ import annotations

from decimal import Decimal

from sdk.toys import ToyWorkInjuryChannel

from onestop.domain.offer import Category
from onestop.money import Fen
from onestop.sdk import InsurerFlow, OfferDetail
from onestop.sdk.testing import (
    AdapterFixtures,
    ChannelFixtures,
    get_adapter_test_class,
    get_channel_test_class,
    sample_bill,
    sample_offer,
)
from onestop.testing import FakeInsurer, FakeInsurerConfig

_FIX = AdapterFixtures(
    happy=sample_offer("fake"),
    partial=sample_offer("fake"),
    decline=sample_offer("fake", member_ref="no-policy"),
    cidl=sample_offer("fake", kind="cidl"),
)


def _config() -> FakeInsurerConfig:
    # A 90 % ratio makes every paid offer PARTIAL; "no-policy" has no policy, so its offer is DECLINED.
    return FakeInsurerConfig(pay_ratio=Decimal("0.9"), ineligible_members=("no-policy",))


TestFakeInsurer = get_adapter_test_class(FakeInsurer, config=_config, fixtures=_FIX)

_Totals = FakeInsurer.variant(
    name="fake_totals",
    flows=(InsurerFlow.PRE_SETTLE, InsurerFlow.SETTLE, InsurerFlow.QUERY, InsurerFlow.CANCEL),
    categories=(Category.FULAMT_OWNPAY, Category.OVERLMT),
    detail=OfferDetail.TOTALS,
)
TestFakeTotalsOnly = get_adapter_test_class(
    _Totals,
    config=FakeInsurerConfig(claim_cap_fen=Fen(50_000)),
    fixtures=AdapterFixtures(
        happy=sample_offer("fake_totals"),
        partial=sample_offer("fake_totals"),
        cidl=sample_offer("fake_totals", kind="cidl"),
    ),
)

_Stateful = FakeInsurer.variant(name="fake_stateful", stateful=True)
TestFakeStateful = get_adapter_test_class(_Stateful)

TestToyChannel = get_channel_test_class(
    ToyWorkInjuryChannel, fixtures=ChannelFixtures(bill=sample_bill(work_related=True))
)
