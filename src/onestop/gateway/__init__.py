"""The settlement gateway: a durable, idempotent settle flow over SQLite or PostgreSQL.

:class:`Gateway` is the service (no transport); :mod:`onestop.gateway.store` is its storage;
transport (gRPC) lives beside it and calls the service with a :class:`Caller`.
"""

from onestop.gateway.config import GatewayConfig
from onestop.gateway.models import (
    LegKind,
    LegOutcome,
    LegStatus,
    MaintenanceReport,
    ReconcileDetail,
    ReconcileLine,
    ReconcileReport,
    ResolverEntry,
    ReverseOutcome,
    SettlementPage,
    SettlementRecord,
    SettlementStatus,
    SettleOutcome,
)
from onestop.gateway.service import Caller, Gateway

__all__ = [
    "Caller",
    "Gateway",
    "GatewayConfig",
    "LegKind",
    "LegOutcome",
    "LegStatus",
    "MaintenanceReport",
    "ReconcileDetail",
    "ReconcileLine",
    "ReconcileReport",
    "ResolverEntry",
    "ReverseOutcome",
    "SettleOutcome",
    "SettlementPage",
    "SettlementRecord",
    "SettlementStatus",
]
