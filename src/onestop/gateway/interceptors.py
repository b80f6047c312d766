"""The one place where a call is authenticated, logged, measured and its errors mapped to gRPC status.

Every ``onestop.errors`` class carries its gRPC code, ErrorInfo reason and Chinese cashier text;
:func:`status_of` turns one into a ``grpc.Status`` with ``google.rpc.ErrorInfo``, ``BadRequest``
(one field violation per offending field, naming the line) and ``LocalizedMessage`` (zh-CN).
Status travels in HTTP/2 trailers, which clients cap (grpc: a soft limit of 8 KiB above which it may
drop the call, 16 KiB hard), so a refusal of a bill with hundreds of bad lines carries the first
violations up to a byte budget and says in ``ErrorInfo.metadata`` how many there were
(``violations_total``) and how many it names (``violations_shown``).
Any other exception is INTERNAL with no detail: its type goes to the log, its text nowhere (it
could hold personal data).

Log lines carry the request id, the method, the hospital, the status and, once known, the
settlement id. They never carry a bill's content.
"""

from __future__ import annotations

import contextvars
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from prometheus_client import CollectorRegistry, Counter, Histogram

from onestop.errors import InvalidRequest, OnestopError
from onestop.gateway.auth import Authenticator
from onestop.gateway.service import Caller

__all__ = ["ERROR_DOMAIN", "GatewayInterceptor", "Metrics", "current_caller", "status_of"]

#: ErrorInfo.domain of every error the gateway answers.
ERROR_DOMAIN = "onestop.v1"
#: Methods anyone may call: the health check load balancers use.
_OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
#: Bytes of serialised BadRequest a status may carry: base64 in the trailer makes it 4/3 larger, and the
#: whole trailer must stay under grpc's 8 KiB soft limit.
_VIOLATION_BUDGET = 3 * 1024
#: Characters of one violation's field or description.
_DESCRIPTION_BUDGET = 256
#: Characters of grpc-message a status may carry (percent-encoded on the wire: CJK text triples).
_MESSAGE_BUDGET = 512

_log = structlog.get_logger("onestop.gateway.rpc")
_caller: contextvars.ContextVar[Caller] = contextvars.ContextVar("onestop_caller")


def current_caller() -> Caller:
    """The authenticated hospital of the call being served (set by :class:`GatewayInterceptor`)."""
    return _caller.get()


def _pack(msg: Any) -> any_pb2.Any:
    out = any_pb2.Any()
    out.Pack(msg)
    return out


def status_of(exc: BaseException) -> grpc.Status:
    """The gRPC status of an exception: rich details for onestop errors, a bare INTERNAL otherwise."""
    if not isinstance(exc, OnestopError):
        exc = OnestopError("internal error")
    code = grpc.StatusCode[exc.grpc_code]
    metadata = dict(exc.metadata)
    extra: list[any_pb2.Any] = []
    if isinstance(exc, InvalidRequest) and exc.violations:
        bad = _bad_request(exc)
        if len(bad.field_violations) < len(exc.violations):
            metadata["violations_total"] = str(len(exc.violations))
            metadata["violations_shown"] = str(len(bad.field_violations))
        extra.append(_pack(bad))
    details = [
        _pack(error_details_pb2.ErrorInfo(reason=exc.reason, domain=ERROR_DOMAIN, metadata=metadata)),
        _pack(error_details_pb2.LocalizedMessage(locale="zh-CN", message=exc.localized)),
        *extra,
    ]
    message = str(exc) if type(exc) is not OnestopError else "internal error"
    if len(message) > _MESSAGE_BUDGET:
        message = message[: _MESSAGE_BUDGET - 40].rstrip() + f" … ({len(message)} characters; see BadRequest)"
    return rpc_status.to_status(status_pb2.Status(code=code.value[0], message=message, details=details))


def _bad_request(exc: InvalidRequest) -> error_details_pb2.BadRequest:
    """The request's field violations, in order, as many as fit the trailer budget."""
    bad = error_details_pb2.BadRequest()
    size = 0
    for v in exc.violations:
        item = error_details_pb2.BadRequest.FieldViolation(
            field=v.field[:_DESCRIPTION_BUDGET], description=v.description[:_DESCRIPTION_BUDGET]
        )
        # 4 bytes covers the repeated field's tag and length prefix.
        size += item.ByteSize() + 4
        if size > _VIOLATION_BUDGET and bad.field_violations:
            break
        bad.field_violations.append(item)
    return bad


class Metrics:
    """Prometheus metrics of the RPCs (one registry per worker process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.calls = Counter(
            "onestop_rpc_total", "RPCs served, by method and status code", ["method", "code"], registry=self.registry
        )
        self.seconds = Histogram(
            "onestop_rpc_seconds",
            "RPC handling time, by method",
            ["method"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )


def _request_id(request: Any, metadata: dict[str, str]) -> str:
    rid = getattr(request, "request_id", "") or metadata.get("x-request-id", "")
    return str(rid)[:255] or uuid.uuid4().hex


class GatewayInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]  # grpc ships no types
    """Authenticates, binds the log context, maps errors and records metrics for every unary call.

    Args:
        auth: Turns metadata and the TLS peer into a :class:`Caller`.
        metrics: Where call counts and durations go.
    """

    def __init__(self, auth: Authenticator, metrics: Metrics) -> None:
        self.auth = auth
        self.metrics = metrics

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        """Wrap the method's handler: unary calls fully, streaming ones (reflection) with authentication."""
        handler = continuation(details)
        method: str = details.method
        if handler is None or method.startswith(_OPEN_PREFIXES):
            return handler
        if handler.unary_unary is None:
            return self._authenticated_stream(handler)
        inner = handler.unary_unary
        short = method.rsplit("/", 1)[-1]

        def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
            # The pool's threads are reused: what the previous call bound (hospital, settlement) must not
            # be logged under this one.
            structlog.contextvars.clear_contextvars()
            t0 = time.perf_counter()
            md = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
            code = "OK"
            with structlog.contextvars.bound_contextvars(request_id=_request_id(request, md), rpc=short):
                try:
                    caller = self.auth.authenticate(context.invocation_metadata(), context.auth_context())
                    structlog.contextvars.bind_contextvars(hospital=caller.hospital_code)
                    token = _caller.set(caller)
                    try:
                        return inner(request, context)
                    finally:
                        _caller.reset(token)
                except OnestopError as exc:
                    code = exc.grpc_code
                    _log.info("rpc refused", code=code, reason=exc.reason)
                    context.abort_with_status(status_of(exc))
                except Exception as exc:
                    code = "INTERNAL"
                    _log.error("rpc failed", code=code, error_type=type(exc).__name__)
                    context.abort_with_status(status_of(exc))
                finally:
                    elapsed = time.perf_counter() - t0
                    self.metrics.calls.labels(short, code).inc()
                    self.metrics.seconds.labels(short).observe(elapsed)
                    if code == "OK":
                        _log.info("rpc", code=code, ms=round(elapsed * 1000, 2))

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _authenticated_stream(self, handler: Any) -> Any:
        """A streaming handler that answers only authenticated callers (UNAUTHENTICATED before any message)."""

        def check(context: grpc.ServicerContext) -> None:
            try:
                self.auth.authenticate(context.invocation_metadata(), context.auth_context())
            except OnestopError as exc:
                _log.info("rpc refused", code=exc.grpc_code, reason=exc.reason)
                context.abort_with_status(status_of(exc))

        kinds = (
            ("stream_stream", grpc.stream_stream_rpc_method_handler),
            ("unary_stream", grpc.unary_stream_rpc_method_handler),
            ("stream_unary", grpc.stream_unary_rpc_method_handler),
        )
        for attr, build in kinds:
            inner = getattr(handler, attr)
            if inner is None:
                continue
            if attr == "stream_unary":

                def unary_out(request: Any, context: grpc.ServicerContext, inner: Any = inner) -> Any:
                    check(context)
                    return inner(request, context)

                behaviour: Any = unary_out
            else:

                def streamed(request: Any, context: grpc.ServicerContext, inner: Any = inner) -> Any:
                    check(context)
                    yield from inner(request, context)

                behaviour = streamed
            return build(
                behaviour,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler
