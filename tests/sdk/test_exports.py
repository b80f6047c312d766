"""The public surface of the SDK and its test doubles is locked: changing it is a deliberate diff."""

from __future__ import annotations

import onestop.sdk
import onestop.sdk.testing
import onestop.testing

SDK = """
ADAPTER_GROUP CHANNEL_GROUP CHANNEL_READ_ONLY CHANNEL_REQUIRED INSURER_READ_ONLY INSURER_REQUIRED SYSTEM_CLOCK
AccumulatorsInput AccumulatorsResult AdapterConfig AmountUnit CallPolicy CancelInput CancelOutcome CancelResult
Capabilities Channel ChannelCaller ChannelCancelInput ChannelCancelResult ChannelCapabilities ChannelFlow
ChannelPreSettleInput ChannelReconcileInput ChannelReconcileResult ChannelSettleInput ChannelSettleResult Clock
EligibilityInput EligibilityResult FundChannel FundLegPayload Insurer InsurerAdapter InsurerCaller InsurerFlow
InsurerInterceptor LineSplit OfferDetail PaymentResult PersonLookupInput PersonLookupResult PreSettleInput
PreSettleResult QueryInput QueryResult ReasonCode ReconcileInput ReconcileResult RegisterVisitInput
RegisterVisitResult Resolver ResolverOutcome ReversalInput ReversalOutcome ReversalResult SettleInput SettleResult
StateDelta StateKey StateRecord StateStore StatusMapping SystemClock UnresolvedLeg UploadFeeDetailInput UploadFeeDetailResult
amount_from_wire amount_to_wire channel_settle_problems check_channel_settle check_payment is_read_retryable
load_adapters load_channels negate payment_problems redact_secrets validate_adapter validate_channel
"""

KIT = """
AdapterFixtures ChannelFixtures Inflate LoseAnswer LoseRequest Misreference Record SampleLine UnreachableQuery
get_adapter_test_class get_channel_test_class sample_bill sample_offer standard_fixtures with_fresh_reference
"""

DOUBLES = """
CentreFault FAKE_STATUS FakeClock FakeInsurer FakeInsurerConfig FakeNhsaCentre FakeStep FakeWorkInjuryCentre
InMemoryStateStore NhsaFault Recognition WorkInjuryFault
"""


def test_sdk_exports() -> None:
    """onestop.sdk exports exactly the documented names, each once."""
    assert sorted(onestop.sdk.__all__) == sorted(SDK.split())
    assert len(set(onestop.sdk.__all__)) == len(onestop.sdk.__all__)


def test_kit_and_doubles_exports() -> None:
    """onestop.sdk.testing and onestop.testing export exactly the documented names."""
    assert sorted(onestop.sdk.testing.__all__) == sorted(KIT.split())
    assert sorted(onestop.testing.__all__) == sorted(DOUBLES.split())


def test_public_classes_read_as_sdk_names() -> None:
    """Public SDK classes show as onestop.sdk.X, not their private module."""
    assert repr(onestop.sdk.InsurerAdapter) == "<class 'onestop.sdk.InsurerAdapter'>"
    assert onestop.sdk.SettleResult.__module__ == "onestop.sdk"
