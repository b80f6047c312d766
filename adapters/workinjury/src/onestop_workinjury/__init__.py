"""onestop fund channel for a work-injury (工伤) settlement centre — a **modelled** interface.

No public specification of a work-injury settlement interface was found; the paths and fields are
onestop's own. Registered as ``work-injury`` in the entry-point group ``onestop.channels``. The fake
centre is :class:`onestop.testing.FakeWorkInjuryCentre`.
"""

from onestop_workinjury.channel import RecognitionInput, RecognitionResult, WorkInjuryChannel, WorkInjuryConfig

__all__ = ["RecognitionInput", "RecognitionResult", "WorkInjuryChannel", "WorkInjuryConfig"]
