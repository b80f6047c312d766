"""The SDK's conformance kit against the direct-pay adapter and its fake insurer server."""

from __future__ import annotations

from onestop_directpay import DirectPayAdapter
from onestop_directpay.testing import DECLINED_MEMBER, shared_config

from onestop.sdk.testing import AdapterFixtures, get_adapter_test_class, sample_offer

TestDirectPay = get_adapter_test_class(
    DirectPayAdapter,
    config=shared_config,
    fixtures=AdapterFixtures(
        happy=sample_offer("directpay"),
        partial=sample_offer("directpay"),
        decline=sample_offer("directpay", member_ref=DECLINED_MEMBER),
        cidl=sample_offer("directpay", kind="cidl"),
    ),
)


def test_installed_entry_point_loads_and_validates() -> None:
    """The installed distribution advertises `directpay` in onestop.adapters and it passes load validation."""
    from onestop.sdk import load_adapters

    assert load_adapters(only=["directpay"]) == {"directpay": DirectPayAdapter}
