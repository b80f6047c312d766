"""The conformance kit: pytest classes that run the standard cases against an adapter or channel.

::

    from onestop.sdk.testing import get_adapter_test_class, standard_fixtures
    TestCore = get_adapter_test_class(MyAdapter, config=SAMPLE_CONFIG, fixtures=standard_fixtures("my"))

Also exported: sample offers and bills (fixtures, invented amounts) and the fault-injecting
interceptors the kit uses, for hosts that want the same faults in their own tests.
"""

from onestop.sdk.testing._channel_kit import ChannelFixtures, get_channel_test_class
from onestop.sdk.testing._kit import AdapterFixtures, get_adapter_test_class, standard_fixtures
from onestop.sdk.testing._samples import SampleLine, sample_bill, sample_offer, with_fresh_reference
from onestop.sdk.testing._shims import Inflate, LoseAnswer, LoseRequest, Misreference, Record, UnreachableQuery

__all__ = [
    "AdapterFixtures",
    "ChannelFixtures",
    "Inflate",
    "LoseAnswer",
    "LoseRequest",
    "Misreference",
    "Record",
    "SampleLine",
    "UnreachableQuery",
    "get_adapter_test_class",
    "get_channel_test_class",
    "sample_bill",
    "sample_offer",
    "standard_fixtures",
    "with_fresh_reference",
]
