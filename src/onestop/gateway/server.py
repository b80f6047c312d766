"""The gRPC server: the three services, health, reflection, one interceptor, TLS/mTLS, N worker processes.

``serve(settings)`` runs until SIGTERM/SIGINT. With ``workers > 1`` it starts that many processes,
each with its own gateway and server bound to the same port (SO_REUSEPORT: the kernel spreads
connections over them), and prints the listening line once all are up.
"""

from __future__ import annotations

import functools
import gc
import inspect
import json
import logging
import multiprocessing
import signal
import socket
import sys
import threading
from collections.abc import MutableMapping
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from onestop.errors import ConfigError, FieldViolation
from onestop.gateway.auth import Authenticator
from onestop.gateway.config import GatewayConfig
from onestop.gateway.interceptors import GatewayInterceptor, Metrics
from onestop.gateway.service import Gateway
from onestop.gateway.servicers import add_servicers
from onestop.gateway.settings import EXAMPLE_ADAPTER, ChannelSpec, InsurerSpec, ServeSettings
from onestop.sdk import StateStore

__all__ = ["Housekeeper", "RunningServer", "configure_logging", "gateway_config", "serve", "start_server"]

_log = structlog.get_logger("onestop.gateway.server")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(level: str = "info", *, worker: int | None = None) -> None:
    """JSON log lines on stderr, with the bound request context (request_id, settlement_id, hospital).

    Args:
        level: Lowest level written.
        worker: Index of this worker process, added to every line when several serve one port.
    """

    def _worker(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if worker is not None:
            event["worker"] = worker
        return event

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _worker,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level.lower(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def _insurer_factory(name: str, spec: InsurerSpec) -> Any:
    if spec.adapter == EXAMPLE_ADAPTER:
        from onestop.testing import FakeInsurer

        cls: Any = FakeInsurer.variant(name=name)
    else:
        from onestop.sdk import load_adapters

        found = load_adapters(only=[spec.adapter])
        if spec.adapter not in found:
            raise ConfigError(
                f"insurer {name!r}: adapter {spec.adapter!r} is not installed",
                violations=(FieldViolation(f"insurers.{name}.adapter", "no such installed adapter"),),
            )
        cls = found[spec.adapter]
    # JSON mode: the adapter's strict Config reads decimals and secrets given as text.
    config = cls.Config.model_validate_json(json.dumps(spec.config))

    def factory(state: StateStore) -> Any:
        return cls(config, state=state)

    return factory


def _channel_factory(name: str, spec: ChannelSpec) -> Any:
    from onestop.sdk import load_channels

    found = load_channels(only=[spec.adapter])
    if spec.adapter not in found:
        raise ConfigError(
            f"channel {name!r}: {spec.adapter!r} is not an installed fund channel",
            violations=(FieldViolation(f"channels.{name}.adapter", "no such installed channel"),),
        )
    cls: Any = found[spec.adapter]
    config = cls.Config.model_validate_json(json.dumps(spec.config))
    # A channel that journals what it sent (nhsa-platform) keeps the journal in the gateway's database.
    keeps_state = "state" in inspect.signature(cls).parameters

    def factory(state: StateStore) -> Any:
        return cls(config, state=state) if keeps_state else cls(config)

    return factory


def gateway_config(settings: ServeSettings, **overrides: Any) -> GatewayConfig:
    """The :class:`GatewayConfig` the settings describe (database, keys, catalogs, insurers, fund channels, routes)."""
    values: dict[str, Any] = {
        "database_url": settings.database_url,
        "pseudonym_key": settings.pseudonym_key.get_secret_value().encode(),
        "insurer_factories": {n: _insurer_factory(n, s) for n, s in settings.insurers.items()},
        "channel_factories": {n: _channel_factory(n, s) for n, s in settings.channels.items()},
        "fund_routes": dict(settings.fund_routes),
        "recover_on_open": settings.recover_on_open,
        "data_key": settings.data_key.get_secret_value(),
        "data_dir": settings.data_dir,
    }
    if settings.catalog_url:
        from onestop.catalog import open_catalogs

        values["catalogs"] = open_catalogs(settings.catalog_url)
    values.update(overrides)
    return GatewayConfig(**values)


def _read(path: Any) -> bytes:
    try:
        data: bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}", violations=(FieldViolation(str(path), str(exc)),)) from None
    return data


class Housekeeper:
    """Runs :meth:`Gateway.maintenance` every ``interval`` seconds on a daemon thread.

    Each pass finishes intents a dead process left past the lease, lets the resolver close legs left
    open at their payers, and reaps expired idempotency keys; a pass that fails is logged and the
    next one runs on time.

    Args:
        gateway: The gateway to keep.
        interval: Seconds between passes (> 0).
    """

    def __init__(self, gateway: Gateway, interval: float) -> None:
        self.gateway = gateway
        self.interval = interval
        self.passes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="onestop-housekeeping", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.gateway.maintenance()
            except Exception as exc:  # a failed pass must not end housekeeping
                _log.error("gateway.maintenance_failed", error=type(exc).__name__)
            self.passes += 1

    def stop(self) -> None:
        """Stop after the pass under way, if any."""
        self._stop.set()
        self._thread.join(timeout=30)


@dataclass
class RunningServer:
    """A started server and what it serves."""

    server: grpc.Server
    port: int
    gateway: Gateway
    metrics: Metrics
    housekeeper: Housekeeper | None = None

    def stop(self, grace: float | None = 2.0) -> None:
        """Stop serving (in-flight calls get ``grace`` seconds), stop housekeeping and close the gateway."""
        self.server.stop(grace).wait()
        if self.housekeeper is not None:
            self.housekeeper.stop()
        self.gateway.close()


def _housekeep(running: RunningServer, settings: ServeSettings) -> None:
    if settings.maintenance_interval_s > 0:
        running.housekeeper = Housekeeper(running.gateway, settings.maintenance_interval_s)


def start_server(settings: ServeSettings, gateway: Gateway) -> RunningServer:
    """Build and start the gRPC server for ``gateway`` on the settings' address.

    Raises:
        ConfigError: TLS files unreadable, or the port cannot be bound.
    """
    mtls = settings.client_ca is not None
    metrics = Metrics()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="onestop-rpc"),
        interceptors=[GatewayInterceptor(Authenticator(settings.tokens, mtls=mtls, dev=settings.dev), metrics)],
        options=[
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
            # Only workers of one `serve --workers N` share a port; a second single-process gateway started
            # by mistake on a busy port must fail to bind rather than silently take half the traffic.
            ("grpc.so_reuseport", 1 if settings.workers > 1 else 0),
        ],
    )
    names = add_servicers(server, gateway, max_lines=settings.max_lines)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in (*names, ""):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection((*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{settings.host}:{settings.port}"
    if settings.tls:
        assert settings.tls_cert is not None
        assert settings.tls_key is not None
        creds = grpc.ssl_server_credentials(
            [(_read(settings.tls_key), _read(settings.tls_cert))],
            root_certificates=_read(settings.client_ca) if settings.client_ca else None,
            require_client_auth=mtls,
        )
        bind = functools.partial(server.add_secure_port, address, creds)
    else:
        bind = functools.partial(server.add_insecure_port, address)
    try:
        port = bind()
    except RuntimeError:  # grpcio ≥ 1.60 raises where older versions returned 0
        port = 0
    if not port:
        # The server owns the gateway from here on (RunningServer.stop closes it), so close it on failure too.
        gateway.close()
        raise ConfigError(f"cannot listen on {address}", violations=(FieldViolation("port", "cannot be bound"),))
    # Catalogs, policies and DRG tables are loaded by now and live as long as the process: move them out
    # of the cyclic collector's reach, so full collections stop walking them on every few requests.
    gc.collect()
    gc.freeze()
    server.start()
    return RunningServer(server=server, port=port, gateway=gateway, metrics=metrics)


def _worker(settings: ServeSettings, index: int, ready: Any, stop: Any) -> None:
    configure_logging(settings.log_level, worker=index)
    # The parent recovered open intents before starting the workers; a worker that recovered on open
    # could take a settlement another worker is still driving for an interrupted one.
    running = start_server(settings, Gateway.open(gateway_config(settings, recover_on_open=False)))
    if index == 0:
        _housekeep(running, settings)
    if settings.metrics_port is not None:
        start_http_server(settings.metrics_port + index, addr=settings.host, registry=running.metrics.registry)
    ready.put(running.port)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers
    stop.wait()
    running.stop()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def serve(settings: ServeSettings) -> None:
    """Serve until SIGTERM or SIGINT; print ``listening on HOST:PORT`` once every worker is up."""
    configure_logging(settings.log_level)
    if settings.dev:
        _log.warning(
            "DEVELOPMENT MODE: unauthenticated calls are accepted; the x-onestop-hospital header names the "
            "hospital. Never run this in production."
        )
    done = threading.Event()

    def _stop(*_: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if settings.workers == 1:
        running = start_server(settings, Gateway.open(gateway_config(settings)))
        _housekeep(running, settings)
        if settings.metrics_port is not None:
            start_http_server(settings.metrics_port, addr=settings.host, registry=running.metrics.registry)
        _announce(settings, running.port)
        done.wait()
        running.stop()
        return
    if settings.port == 0:
        settings = settings.model_copy(update={"port": _free_port(settings.host)})
    # Migrations and recovery of interrupted intents run once, before the workers open the database.
    Gateway.open(gateway_config(settings)).close()
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_worker, args=(settings, i, ready, stop), daemon=True) for i in range(settings.workers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    _announce(settings, settings.port)
    while not done.wait(0.5):
        if any(not p.is_alive() for p in procs):
            _log.error("a worker exited; stopping")
            break
    stop.set()
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.terminate()


def _announce(settings: ServeSettings, port: int) -> None:
    auth = "mTLS" if settings.client_ca else ("TLS + token" if settings.tls else "token")
    if settings.dev:
        auth += " or dev header (DEVELOPMENT MODE)"
    _log.info("listening", host=settings.host, port=port, workers=settings.workers, auth=auth)
    print(f"onestop gateway listening on {settings.host}:{port} ({settings.workers} worker(s), {auth})", flush=True)  # noqa: T201
