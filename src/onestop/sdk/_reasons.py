"""Unified reason codes and the explicit mapping of an insurer's own statuses.

An adapter reports *why* in the unified code (valid across insurers) and keeps the insurer's raw
code and message beside it. Insurer statuses map through a :class:`StatusMapping` written out in
full by the adapter; a raw status it does not list maps to ``PENDING`` — never to a paid status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from onestop.domain.offer import AnswerStatus

__all__ = ["ReasonCode", "StatusMapping"]


class ReasonCode(StrEnum):
    """Why a payer answered as it did, in one vocabulary for every insurer and channel."""

    NONE = ""
    """No reason needed (a full approval)."""
    COVERED = "COVERED"
    DEDUCTIBLE_NOT_MET = "DEDUCTIBLE_NOT_MET"
    SUM_INSURED_EXHAUSTED = "SUM_INSURED_EXHAUSTED"
    CAP_REACHED = "CAP_REACHED"
    """A per-claim or per-liability cap limited the payment."""
    PRE_EXISTING_CONDITION = "PRE_EXISTING_CONDITION"
    """A lower ratio for a pre-existing condition applied."""
    WAITING_PERIOD = "WAITING_PERIOD"
    NOT_COVERED = "NOT_COVERED"
    """Nothing offered falls under the product's liabilities."""
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    """No policy in force for the member on the date."""
    PENDING_REVIEW = "PENDING_REVIEW"
    """The insurer has not decided yet (manual review)."""
    PAYER_UNAVAILABLE = "PAYER_UNAVAILABLE"
    """The payer could not be reached; nothing happened on its side."""
    SETTLE_FAILED = "SETTLE_FAILED"
    """After an ambiguous settle, the payer said definitively it has no such leg."""
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    """Timed out or ambiguous, and not yet resolved by query: treated as unpaid, handed to the resolver."""
    INTEGRITY_VIOLATION = "INTEGRITY_VIOLATION"
    """The payer's answer broke an invariant and was rejected."""
    CANCELLED = "CANCELLED"
    OTHER = "OTHER"
    """Anything else: the raw code and message say what."""


@dataclass(frozen=True, slots=True)
class StatusMapping:
    """An insurer's raw statuses mapped explicitly to the unified :class:`AnswerStatus`.

    Example::

        STATUS = StatusMapping({"1": AnswerStatus.APPROVED, "4": AnswerStatus.DECLINED, "0": AnswerStatus.PENDING})
        STATUS("1")   # APPROVED
        STATUS("9")   # PENDING: an unlisted status is never taken as paid

    Args:
        table: Raw status → unified status. ``UNKNOWN`` is not allowed as a target: it is the SDK's
            own state for a call whose outcome it could not learn.
    """

    table: Mapping[str, AnswerStatus] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for raw, status in self.table.items():
            if not isinstance(status, AnswerStatus):
                raise TypeError(f"status {raw!r} maps to {status!r}, not an AnswerStatus")
            if status is AnswerStatus.UNKNOWN:
                raise ValueError(f"status {raw!r}: UNKNOWN is the SDK's state, map the raw status to PENDING")
        object.__setattr__(self, "table", MappingProxyType(dict(self.table)))

    def __call__(self, raw: str) -> AnswerStatus:
        """The unified status of ``raw``; ``PENDING`` for a raw status the table does not list."""
        return self.table.get(raw, AnswerStatus.PENDING)
