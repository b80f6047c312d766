"""onestop fund channel for the NHSA 医疗保障信息平台 (basic insurance).

Registered as ``nhsa-platform`` in the entry-point group ``onestop.channels``. The fake platform the
tests settle against is :class:`onestop.testing.FakeNhsaCentre`; :mod:`onestop_nhsa_platform.testing`
points this channel at a shared one.
"""

from onestop_nhsa_platform._journal import (
    InMemoryJournal,
    Journal,
    JournalConflict,
    JournalEntry,
    JournalTotals,
    StateJournal,
)
from onestop_nhsa_platform._refusals import REFUSAL_RULES, reason_for
from onestop_nhsa_platform.channel import NhsaPlatformChannel, NhsaPlatformConfig

__all__ = [
    "REFUSAL_RULES",
    "InMemoryJournal",
    "Journal",
    "JournalConflict",
    "JournalEntry",
    "JournalTotals",
    "NhsaPlatformChannel",
    "NhsaPlatformConfig",
    "StateJournal",
    "reason_for",
]
