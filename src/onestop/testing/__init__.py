"""Public test doubles for hosts and adapter authors: a fake insurer, a fake clock, a state store.

These are API, not internals: the gateway's tests, the simulator's tests and third-party adapters
use them (``onestop.sdk.testing`` holds the conformance kit that runs on top of them).
"""

from onestop.testing._clock import FakeClock
from onestop.testing._fake_http import CentreFault
from onestop.testing._fake_insurer import FAKE_STATUS, FakeInsurer, FakeInsurerConfig, FakeStep
from onestop.testing._fake_nhsa import FakeNhsaCentre, NhsaFault
from onestop.testing._fake_workinjury import FakeWorkInjuryCentre, Recognition, WorkInjuryFault
from onestop.testing._state import InMemoryStateStore

__all__ = [
    "FAKE_STATUS",
    "CentreFault",
    "FakeClock",
    "FakeInsurer",
    "FakeInsurerConfig",
    "FakeNhsaCentre",
    "FakeStep",
    "FakeWorkInjuryCentre",
    "InMemoryStateStore",
    "NhsaFault",
    "Recognition",
    "WorkInjuryFault",
]
