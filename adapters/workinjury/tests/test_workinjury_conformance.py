"""The SDK's conformance kit against the work-injury channel and its fake centre."""

from __future__ import annotations

from onestop_workinjury import WorkInjuryChannel
from onestop_workinjury.testing import fresh_config, work_injury_bill

from onestop.sdk.testing import ChannelFixtures, get_channel_test_class

_BILL = work_injury_bill()

TestWorkInjury = get_channel_test_class(
    WorkInjuryChannel, fixtures=ChannelFixtures(bill=_BILL), config=lambda: fresh_config(_BILL)
)


def test_installed_entry_point_loads_and_validates() -> None:
    """The installed distribution advertises `work-injury` in onestop.channels and it passes load validation."""
    from onestop.sdk import load_channels

    assert load_channels(only=["work-injury"]) == {"work-injury": WorkInjuryChannel}
