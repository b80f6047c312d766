"""The gateway as a plain Python service: durable, idempotent settle / reverse / read / reconcile.

Transport (gRPC) builds a :class:`Caller` from the authenticated peer and calls one method per RPC;
every error raised is an ``onestop.errors`` class that transport maps to a gRPC status in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from onestop.domain.bill import Bill
from onestop.domain.settlement import Settlement
from onestop.gateway.config import GatewayConfig
from onestop.gateway.models import (
    LegKind,
    LegOutcome,
    LegStatus,
    ReconcileLine,
    ReconcileReport,
    ReverseOutcome,
    SettlementPage,
    SettlementRecord,
    SettlementStatus,
    SettleOutcome,
)

__all__ = [
    "Caller",
    "Gateway",
    "GatewayConfig",
    "LegKind",
    "LegOutcome",
    "LegStatus",
    "ReconcileLine",
    "ReconcileReport",
    "ReverseOutcome",
    "SettleOutcome",
    "SettlementPage",
    "SettlementRecord",
    "SettlementStatus",
]


@dataclass(frozen=True)
class Caller:
    """Who is calling; transport builds it from mTLS/token auth.

    Attributes:
        hospital_code: The hospital's fixmedins_code; every read and reversal is limited to it.
    """

    hospital_code: str


class Gateway:
    """The settlement service over one database. Thread-safe: transport calls it from many threads."""

    @classmethod
    def open(cls, config: GatewayConfig) -> Gateway:
        """Open the database (running migrations), load catalogs/policies/payers, recover open intents."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the payer event loop and dispose of the database engine."""
        raise NotImplementedError

    def pre_settle(self, caller: Caller, bill: Bill, *, deadline: float | None = None) -> Settlement:
        """A trial settlement: no side effect, nothing stored, no accumulator changed.

        Args:
            caller: The calling hospital (must be the bill's hospital).
            bill: The validated bill.
            deadline: Seconds the caller still waits (payer calls are cut to fit).

        Raises:
            PermissionDenied: The bill names another hospital.
        """
        raise NotImplementedError

    def settle(
        self, caller: Caller, request_id: str, bill: Bill, fingerprint: bytes, *, deadline: float | None = None
    ) -> SettleOutcome:
        """Settle a bill once per (hospital, request_id).

        Args:
            caller: The calling hospital (must be the bill's hospital).
            request_id: The client's idempotency key.
            bill: The validated bill.
            fingerprint: sha256 of the canonical request body.
            deadline: Seconds the caller still waits.

        Returns:
            The outcome; ``replayed=True`` with the stored settlement for a repeated identical request.

        Raises:
            IdempotencyKeyReused: Same (hospital, request_id) with another fingerprint.
            PayerError: A fund leg failed (the settlement is FAILED; a replay raises the same error).
        """
        raise NotImplementedError

    def reverse(self, caller: Caller, settlement_id: str, request_id: str) -> ReverseOutcome:
        """Undo every leg with its own reference and apply negative accumulator deltas; idempotent.

        Raises:
            NotFound: No such settlement for this hospital.
            InvalidState: The settlement is not SETTLED (e.g. FAILED or PENDING).
        """
        raise NotImplementedError

    def supplement(self, caller: Caller, settlement_id: str, payer: str, request_id: str) -> SettleOutcome:
        """Supplementary settlement of a commercial leg that was unpaid at the cashier.

        Raises:
            NotFound: No such settlement for this hospital.
            InvalidState: The leg is paid, still open at the resolver, or the settlement is not SETTLED.
        """
        raise NotImplementedError

    def get(self, caller: Caller, settlement_id: str) -> SettlementRecord:
        """One settlement of the caller's hospital.

        Raises:
            NotFound: No such settlement for this hospital (another hospital's looks the same).
        """
        raise NotImplementedError

    def list(
        self, caller: Caller, date_from: dt.date, date_to: dt.date, page_size: int, page_token: str
    ) -> SettlementPage:
        """The caller's settlements whose settle date falls in ``[date_from, date_to]``, oldest first."""
        raise NotImplementedError

    def reconcile(self, caller: Caller, day: dt.date) -> ReconcileReport:
        """Totals per payer and fund type for the caller's settlements (and reversals) on ``day``."""
        raise NotImplementedError

    def group(self, case: Any) -> Any:
        """DRG grouping: delegates to ``onestop.drg``.

        Raises:
            NoGrouper: ``onestop.drg`` is not installed or has no grouper for the case.
        """
        raise NotImplementedError
