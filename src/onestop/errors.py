"""The one error tree of onestop, each class carrying its gRPC status and ErrorInfo reason.

::

    OnestopError                         INTERNAL           base; unknown errors never leak text
    ├── InvalidRequest                   INVALID_ARGUMENT   bad input; carries field violations
    │   └── ConfigError                  INVALID_ARGUMENT   bad policy/product/config file (file, path)
    ├── NotFound                         NOT_FOUND
    │   ├── NoEditionInForce             NOT_FOUND          no catalog edition covers the date
    │   ├── PolicyNotFound               NOT_FOUND          no regional policy for the region
    │   └── NoGrouper                    NOT_FOUND          no DRG grouper for (region, date)
    ├── PermissionDenied                 PERMISSION_DENIED  a hospital touching another's data
    ├── Unauthenticated                  UNAUTHENTICATED
    ├── FailedPrecondition               FAILED_PRECONDITION
    │   ├── IdempotencyKeyReused         FAILED_PRECONDITION same request_id, other body
    │   └── InvalidState                 FAILED_PRECONDITION e.g. reversing a failed settlement
    ├── ResourceExhausted                RESOURCE_EXHAUSTED too many lines, message too large
    ├── PayerError                       UNAVAILABLE        a payer (adapter/channel) problem
    │   ├── PayerUnavailable             UNAVAILABLE        down before any side effect (safe to retry reads)
    │   ├── PayerTimeout                 DEADLINE_EXCEEDED  outcome unknown: resolve by query, never re-send
    │   ├── PayerDeclined                FAILED_PRECONDITION the payer said no
    │   └── IntegrityViolation           INTERNAL           a payer answer that breaks an invariant
    ├── UnsupportedFlow                  UNIMPLEMENTED      an adapter does not offer the flow
    └── AdapterValidationError           FAILED_PRECONDITION an adapter refused at load

Every error exposes ``reason`` (UPPER_SNAKE, for ``google.rpc.ErrorInfo``), ``grpc_code`` (the
name of a ``grpc.StatusCode`` member, so this module does not import gRPC), ``retryable`` and
structured ``metadata``. :func:`is_transient` is the only retry predicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "AdapterValidationError",
    "BillOutOfScope",
    "ConfigError",
    "FailedPrecondition",
    "FieldViolation",
    "IdempotencyKeyReused",
    "IntegrityViolation",
    "InvalidRequest",
    "InvalidState",
    "NoEditionInForce",
    "NoGrouper",
    "NotFound",
    "OnestopError",
    "PayerDeclined",
    "PayerError",
    "PayerTimeout",
    "PayerUnavailable",
    "PermissionDenied",
    "PolicyNotFound",
    "ResourceExhausted",
    "Unauthenticated",
    "UnsupportedFlow",
    "is_transient",
]


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One offending field: a dotted path (``lines[3].quantity``) and what is wrong with it."""

    field: str
    description: str


class OnestopError(Exception):
    """Base of every error onestop raises on purpose."""

    grpc_code: str = "INTERNAL"
    reason: str = "INTERNAL"
    retryable: bool = False
    #: Text a cashier may read (Chinese); never contains personal data.
    localized: str = "系统内部错误"

    def __init__(self, message: str, *, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidRequest(OnestopError):
    """Input that cannot be settled as sent; lists every offending field."""

    grpc_code = "INVALID_ARGUMENT"
    reason = "INVALID_REQUEST"
    localized = "请求内容有误，请核对后重新提交"

    def __init__(
        self,
        message: str,
        *,
        violations: tuple[FieldViolation, ...] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, metadata=metadata)
        self.violations = violations

    def __str__(self) -> str:
        if not self.violations:
            return self.message
        return self.message + ": " + "; ".join(f"{v.field}: {v.description}" for v in self.violations)


class BillOutOfScope(InvalidRequest):
    """A well-formed bill that no configured catalog edition or regional policy covers.

    Raised by the gateway in place of :class:`NoEditionInForce` / :class:`PolicyNotFound` met while
    settling a bill, keeping their reason and naming the bill's field, so the hospital sees which line
    date or region is outside what the gateway serves.
    """

    grpc_code = "FAILED_PRECONDITION"
    localized = "账单的日期或统筹区不在已配置的医保目录或政策范围内"

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        violations: tuple[FieldViolation, ...],
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, violations=violations, metadata=metadata)
        self.reason = reason


class ConfigError(InvalidRequest):
    """A policy, product or adapter configuration file that does not validate."""

    reason = "INVALID_CONFIG"


class NotFound(OnestopError):
    """Something asked for by key does not exist."""

    grpc_code = "NOT_FOUND"
    reason = "NOT_FOUND"
    localized = "未找到相关记录"


class NoEditionInForce(NotFound):
    """No catalog edition is in force on the date asked (distinct from "not in catalog")."""

    reason = "NO_EDITION_IN_FORCE"
    localized = "该日期无有效的医保目录版本"


class PolicyNotFound(NotFound):
    """No regional policy is configured for the region."""

    reason = "POLICY_NOT_FOUND"
    localized = "未配置该统筹区的医保政策"


class NoGrouper(NotFound):
    """No DRG grouper is configured for the (region, date) pair."""

    reason = "NO_GROUPER"
    localized = "该地区该日期未配置DRG分组器"


class PermissionDenied(OnestopError):
    """The caller may not touch this resource (e.g. another hospital's settlement)."""

    grpc_code = "PERMISSION_DENIED"
    reason = "PERMISSION_DENIED"
    localized = "无权访问该结算记录"


class Unauthenticated(OnestopError):
    """The caller did not prove who it is."""

    grpc_code = "UNAUTHENTICATED"
    reason = "UNAUTHENTICATED"
    localized = "身份认证失败"


class FailedPrecondition(OnestopError):
    """The request is well formed but the system is not in a state to do it."""

    grpc_code = "FAILED_PRECONDITION"
    reason = "FAILED_PRECONDITION"
    localized = "当前状态不允许此操作"


class IdempotencyKeyReused(FailedPrecondition):
    """The same (hospital, request_id) arrived with a different body."""

    reason = "IDEMPOTENCY_KEY_REUSED"
    localized = "请求号已被其他结算使用"


class InvalidState(FailedPrecondition):
    """E.g. reversing a settlement that failed, or settling a leg twice."""

    reason = "INVALID_STATE"


class ResourceExhausted(OnestopError):
    """Too large: message size, line count."""

    grpc_code = "RESOURCE_EXHAUSTED"
    reason = "RESOURCE_EXHAUSTED"
    localized = "请求过大，请拆分后提交"


class PayerError(OnestopError):
    """A problem talking to a payer (commercial adapter or fund channel)."""

    grpc_code = "UNAVAILABLE"
    reason = "PAYER_ERROR"
    localized = "支付方暂时无法处理"

    def __init__(
        self,
        message: str,
        *,
        payer: str = "",
        flow: str = "",
        raw_code: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        md = dict(metadata or {})
        md.update({k: v for k, v in (("payer", payer), ("flow", flow), ("raw_code", raw_code)) if v})
        super().__init__(message, metadata=md)
        self.payer = payer
        self.flow = flow
        self.raw_code = raw_code


class PayerUnavailable(PayerError):
    """The payer could not be reached and nothing happened on its side."""

    reason = "PAYER_UNAVAILABLE"
    retryable = True


class PayerTimeout(PayerError):
    """The call may or may not have taken effect: resolve by query, never by re-sending."""

    grpc_code = "DEADLINE_EXCEEDED"
    reason = "PAYER_OUTCOME_UNKNOWN"


class PayerDeclined(PayerError):
    """The payer answered no."""

    grpc_code = "FAILED_PRECONDITION"
    reason = "PAYER_DECLINED"
    localized = "支付方拒绝支付"


class IntegrityViolation(PayerError):
    """A payer answer that breaks an invariant (over the offer, not integer fen, ids not echoed)."""

    grpc_code = "INTERNAL"
    reason = "PAYER_INTEGRITY_VIOLATION"


class UnsupportedFlow(OnestopError):
    """The adapter does not implement an optional flow; its capabilities say so."""

    grpc_code = "UNIMPLEMENTED"
    reason = "UNSUPPORTED_FLOW"


class AdapterValidationError(OnestopError):
    """An adapter or channel was refused at load: names the adapter, the flow and the mismatch."""

    grpc_code = "FAILED_PRECONDITION"
    reason = "ADAPTER_INVALID"

    def __init__(self, adapter: str, message: str, *, flow: str = "") -> None:
        where = f"{adapter}.{flow}" if flow else adapter
        super().__init__(f"adapter {where!r}: {message}", metadata={"adapter": adapter, "flow": flow})
        self.adapter = adapter
        self.flow = flow


def is_transient(exc: BaseException) -> bool:
    """The retry predicate: true only for errors where nothing happened on the other side.

    Members: :class:`PayerUnavailable` and any ``OnestopError`` with ``retryable = True``; also
    connection-level ``ConnectionError`` and ``TimeoutError`` *only* when the caller knows the flow
    is read-only (callers of settle/cancel/reverse never reach this predicate, see ``onestop.sdk``).
    """
    if isinstance(exc, OnestopError):
        return exc.retryable
    return isinstance(exc, (ConnectionError, TimeoutError))
