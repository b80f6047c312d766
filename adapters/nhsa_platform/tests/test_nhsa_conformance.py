"""The SDK's conformance kit against the nhsa-platform channel and the fake platform (outpatient and inpatient)."""

from __future__ import annotations

from onestop_nhsa_platform import NhsaPlatformChannel
from onestop_nhsa_platform.testing import fresh_config, inpatient_bill, outpatient_bill

from onestop.sdk.testing import ChannelFixtures, get_channel_test_class

_OUT = outpatient_bill()
_IN = inpatient_bill()

TestNhsaOutpatient = get_channel_test_class(
    NhsaPlatformChannel, fixtures=ChannelFixtures(bill=_OUT), config=lambda: fresh_config(_OUT)
)
TestNhsaInpatient = get_channel_test_class(
    NhsaPlatformChannel, fixtures=ChannelFixtures(bill=_IN), config=lambda: fresh_config(_IN)
)


def test_installed_entry_point_loads_and_validates() -> None:
    """The installed distribution advertises `nhsa-platform` in onestop.channels and it passes load validation."""
    from onestop.sdk import load_channels

    assert load_channels(only=["nhsa-platform"]) == {"nhsa-platform": NhsaPlatformChannel}
