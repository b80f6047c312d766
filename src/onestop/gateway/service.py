"""The gateway as a plain Python service: durable, idempotent settle / reverse / read / reconcile.

Transport (gRPC) builds a :class:`Caller` from the authenticated peer and calls one method per RPC;
every error raised is an ``onestop.errors`` class that transport maps to a gRPC status in one place.

This module is the façade: :class:`Gateway` wires the parts and inherits the flows, each in a
private module with one job — ``_settle`` (pre-settle, settle, the driven flow, recovery of an
intent), ``_reverse``, ``_reads`` (get, list, reconcile), ``_supplement`` and ``resolver``; the
shared records and steps are in ``_base``. The durable ordering is in ``docs/gateway-storage.md``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from typing import Any

from onestop import errors
from onestop.errors import OnestopError
from onestop.gateway import legs as lg
from onestop.gateway._base import _LOCK_STRIPES, Caller, RequestInProgress, _log
from onestop.gateway._reads import Reading
from onestop.gateway._reverse import Reversing
from onestop.gateway._settle import Settling
from onestop.gateway._supplement import recover_supplements, supplement
from onestop.gateway.config import GatewayConfig, data_sealer
from onestop.gateway.models import (
    LegKind,
    LegOutcome,
    LegStatus,
    MaintenanceReport,
    ReconcileLine,
    ReconcileReport,
    ResolverEntry,
    ReverseOutcome,
    SettlementPage,
    SettlementRecord,
    SettlementStatus,
    SettleOutcome,
)
from onestop.gateway.resolver import queue, resolve_pass
from onestop.gateway.store import SqlStateStore, Store, connect, migrate, utcnow
from onestop.gateway.store.checkpoint import Checkpointer
from onestop.sdk import ChannelCaller, InsurerCaller

__all__ = [
    "Caller",
    "Gateway",
    "GatewayConfig",
    "LegKind",
    "LegOutcome",
    "LegStatus",
    "MaintenanceReport",
    "ReconcileLine",
    "ReconcileReport",
    "RequestInProgress",
    "ReverseOutcome",
    "SettleOutcome",
    "SettlementPage",
    "SettlementRecord",
    "SettlementStatus",
]


class Gateway(Settling, Reversing, Reading):
    """The settlement service over one database. Thread-safe: transport calls it from many threads.

    Use :meth:`open`; the constructor is for :meth:`open` only. The flows live in private modules by
    job (``_settle``, ``_reverse``, ``_reads``, ``_supplement``); this class wires them together.
    """

    def __init__(self, config: GatewayConfig, store: Store, catalogs: Any) -> None:
        """Wire the parts (see :meth:`open`)."""
        self.config = config
        self.store = store
        self.catalogs = catalogs
        self.state_store = SqlStateStore(store)
        self._loop = lg.PayerLoop()
        insurers = dict(config.insurers)
        # The gateway closes what its factories built; instances in the config belong to the caller.
        self._owned: list[Any] = []
        self._checkpointer: Checkpointer | None = None
        for name, factory in config.insurer_factories.items():
            insurers[name] = factory(self.state_store)
            self._owned.append(insurers[name])
        self._insurers = {
            n: InsurerCaller(a, policy=config.call_policy, clock=config.clock) for n, a in insurers.items()
        }
        channels = dict(config.channels)
        for name, make in config.channel_factories.items():
            channels[name] = make(self.state_store)
            self._owned.append(channels[name])
        self._channels = {
            kind: ChannelCaller(channels[name], policy=config.call_policy, clock=config.clock)
            for kind, name in config.fund_routes.items()
        }
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]
        self._done = threading.Condition()
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------------------------

    @classmethod
    def open(cls, config: GatewayConfig) -> Gateway:
        """Open the database (running migrations), load catalogs/policies/payers, recover open intents."""
        sealer = data_sealer(config)
        engine = connect(config.database_url)
        migrate(engine)
        catalogs = config.catalogs
        if catalogs is None:
            from onestop.catalog import default_catalogs

            catalogs = default_catalogs()
        gw = cls(config, Store(engine, sealer), catalogs)
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            gw._checkpointer = Checkpointer(engine, gw.store.writer_queue)
        if config.recover_on_open:
            try:
                gw.recover()
            except BaseException:
                gw.close()  # the caller never gets the gateway: stop its threads and release the database
                raise
        return gw

    def close(self) -> None:
        """Close the adapters and channels the factories built, stop the payer loop, dispose of the database."""
        if self._closed:
            return
        self._closed = True
        for adapter in self._owned:
            aclose = getattr(adapter, "aclose", None)
            if aclose is None:
                continue
            try:
                self._loop.run(aclose(), timeout=5.0)
            except Exception as exc:  # one adapter failing to close must not keep the others open
                _log.warning("gateway.adapter_close_failed", adapter=type(adapter).__name__, error=type(exc).__name__)
        self._loop.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.store.engine.dispose()

    def __enter__(self) -> Gateway:
        """Use as a context manager."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close."""
        self.close()

    # -- recovery ---------------------------------------------------------------------------------

    def recover(self) -> int:
        """Re-drive every intent left without an outcome (and every unfinished reversal and supplement).

        Legs already sent are resolved by query (commercial) or reversal (fund), never re-sent.
        A supplement whose payer call was sent is resolved by query and its idempotency key released.
        Runs at open, when no settlement of this database can be live: with several gateway instances
        on one database, open them with ``recover_on_open=False`` and let :meth:`maintenance` take
        intents left untouched for ``config.intent_lease``.

        Returns:
            How many intents and supplements were driven to an outcome.
        """
        with self.store.read() as conn:
            pending = self.store.pending_settlements(conn)
            reversing = self.store.running_reversals(conn)
        n = recover_supplements(self)
        n += self._recover_intents(pending, untouched_since=None)
        for sid in reversing:
            try:
                self._reverse_run(sid)
            except OnestopError as exc:
                _log.warning("gateway.reversal_recovery_failed", settlement_id=sid, reason=exc.reason)
        return n

    def recover_stale(self) -> int:
        """Re-drive the intents nobody has touched for ``config.intent_lease`` (safe beside live settlements).

        A live settlement finishes well within the lease (its payer calls are bounded by the call
        policy), so an intent that old was left by a process that died; each is claimed by
        compare-and-set first, so two gateways never drive the same one.

        Returns:
            How many intents were driven to an outcome.
        """
        cutoff = utcnow() - self.config.intent_lease
        with self.store.read() as conn:
            pending = self.store.pending_settlements(conn, untouched_since=cutoff)
        return self._recover_intents(pending, untouched_since=cutoff)

    def _recover_intents(self, pending: list[str], *, untouched_since: dt.datetime | None) -> int:
        n = 0
        for sid in pending:
            with self.store.write() as conn:
                claimed = self.store.claim_intent(conn, sid, untouched_since=untouched_since)
            if not claimed:
                continue
            try:
                self._recover_one(sid)
            except OnestopError as exc:
                _log.warning("gateway.recovered_failed", settlement_id=sid, reason=exc.reason)
            n += 1
        return n

    # -- supplement --------------------------------------------------------------------------------

    def supplement(
        self, caller: Caller, settlement_id: str, payer: str, request_id: str, *, deadline: float | None = None
    ) -> SettleOutcome:
        """Supplementary settlement of a commercial leg that was unpaid at the cashier.

        ``deadline`` (seconds the caller still waits) cuts the payer call; an answer still unknown then
        is resolved by query later, never by a second send.

        Raises:
            NotFound: No such settlement for this hospital.
            InvalidState: The leg is paid, still open at the resolver, or the settlement is not SETTLED.
        """
        out: SettleOutcome = supplement(self, caller, settlement_id, payer, request_id, deadline)
        return out

    # -- resolver, DRG ------------------------------------------------------------------------------

    def resolve_pending(self, *, max_attempts: int = 10) -> int:
        """One resolver pass over the queue (see :mod:`onestop.gateway.resolver`); returns entries closed."""
        closed: int = resolve_pass(self, max_attempts=max_attempts)
        return closed

    def maintenance(self, *, max_attempts: int = 10) -> MaintenanceReport:
        """One housekeeping pass, for a timer in the server: stale intents, a resolver pass, expired keys.

        Intents untouched for ``config.intent_lease`` are re-driven (:meth:`recover_stale`).

        Finished idempotency keys older than ``config.idempotency_retention`` are deleted (a running
        key never is). Safe to call from several processes at once: each resolver entry is closed
        by reference at its payer, and reaping is one DELETE.

        Args:
            max_attempts: Passes after which a resolver entry goes to ``manual``.

        Returns:
            How many resolver entries closed and how many keys were reaped.
        """
        recovered = self.recover_stale()
        resolved = self.resolve_pending(max_attempts=max_attempts)
        cutoff = utcnow() - self.config.idempotency_retention
        with self.store.write() as conn:
            reaped = self.store.reap_keys(conn, cutoff)
        manual = len(self.resolver_queue("manual"))
        if recovered or resolved or reaped:
            _log.info("gateway.maintenance", recovered=recovered, resolved=resolved, reaped_keys=reaped)
        if manual:
            # Repeated every pass on purpose: these legs stay open at a payer until a person closes them.
            _log.warning("gateway.manual_queue", entries=manual)
        return MaintenanceReport(resolved=resolved, reaped_keys=reaped, manual=manual, recovered=recovered)

    def resolver_queue(self, state: str | None = "manual") -> tuple[ResolverEntry, ...]:
        """The resolver's entries in ``state`` (``open``, ``done``, ``manual``; None for all), oldest first.

        The manual queue is what an operator works through: each entry names the payer, the gateway's
        reference to quote to it, and the last error.
        """
        return queue(self.store, state)

    def group(self, case: Any) -> Any:
        """DRG grouping: delegates to ``onestop.drg``.

        Raises:
            NoGrouper: ``onestop.drg`` is not installed or offers no ``group`` function.
        """
        try:
            drg = importlib.import_module("onestop.drg")
        except ModuleNotFoundError:
            raise errors.NoGrouper("no DRG grouper is installed") from None
        fn = getattr(drg, "group", None)
        if fn is None:
            raise errors.NoGrouper("onestop.drg offers no group function")
        return fn(case)
