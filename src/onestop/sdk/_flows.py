"""The flows an insurer adapter or a fund channel may offer, and which of them are read-only.

Read-only flows change nothing at the payer, so the SDK may retry them; every other flow is sent
at most once per call (a timed-out settle is resolved by query or reversal, never re-sent).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CHANNEL_READ_ONLY",
    "CHANNEL_REQUIRED",
    "INSURER_READ_ONLY",
    "INSURER_REQUIRED",
    "ChannelFlow",
    "InsurerFlow",
]


class InsurerFlow(StrEnum):
    """Flows of a commercial insurer adapter; the value is the method name."""

    ELIGIBILITY = "eligibility"
    """Is the member covered on the date, and what is left of the benefits (read-only, optional)."""
    PRE_SETTLE = "pre_settle"
    """Trial: what the insurer would pay for this offer; no payment is made."""
    SETTLE = "settle"
    """Confirm: the insurer pays; keyed by the gateway's reference (a replay returns the same result)."""
    QUERY = "query"
    """Status of a leg by the gateway's reference (read-only); resolves unknown settles."""
    CANCEL = "cancel"
    """Undo a leg: cancel before payment or refund after, whichever its state needs."""
    RECONCILE = "reconcile"
    """Daily totals for reconciliation (read-only, optional)."""


class ChannelFlow(StrEnum):
    """Flows of a fund channel (basic insurance, work injury, maternity); the value is the method name."""

    PERSON_LOOKUP = "person_lookup"
    """Person / eligibility (or work-injury recognition) lookup (read-only)."""
    REGISTER_VISIT = "register_visit"
    """Register the visit (NHSA 2201/2401)."""
    UPLOAD_FEE_DETAIL = "upload_fee_detail"
    """Upload the fee lines; the per-line split comes back (NHSA 2204/2301)."""
    PRE_SETTLE = "pre_settle"
    """Trial settlement (NHSA 2206/2303)."""
    SETTLE = "settle"
    """Settlement (NHSA 2207/2304): never re-sent automatically."""
    CANCEL = "cancel"
    """Cancel a settlement (NHSA 2208/2305)."""
    REVERSAL = "reversal"
    """Reverse a message by its original reference (NHSA 2601 冲正)."""
    ACCUMULATORS = "accumulators"
    """Year-to-date accumulators of a person (NHSA 5206, read-only)."""
    RECONCILE = "reconcile"
    """Totals reconciliation (NHSA 3201, read-only)."""


#: Insurer flows every adapter must implement: without query an unknown settle cannot be resolved.
INSURER_REQUIRED: frozenset[InsurerFlow] = frozenset(
    {InsurerFlow.PRE_SETTLE, InsurerFlow.SETTLE, InsurerFlow.QUERY, InsurerFlow.CANCEL}
)

#: Insurer flows the SDK may retry.
INSURER_READ_ONLY: frozenset[InsurerFlow] = frozenset(
    {InsurerFlow.ELIGIBILITY, InsurerFlow.QUERY, InsurerFlow.RECONCILE}
)

#: Channel flows every channel must implement.
CHANNEL_REQUIRED: frozenset[ChannelFlow] = frozenset({ChannelFlow.SETTLE, ChannelFlow.CANCEL})

#: Channel flows the SDK may retry.
CHANNEL_READ_ONLY: frozenset[ChannelFlow] = frozenset(
    {ChannelFlow.PERSON_LOOKUP, ChannelFlow.ACCUMULATORS, ChannelFlow.RECONCILE}
)
