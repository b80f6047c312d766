"""Discovery by entry points and validation at load.

Adapters are advertised in group ``onestop.adapters`` and channels in ``onestop.channels``; the
entry-point name is the adapter's ``name``. Each class is validated before anyone uses it, and a
broken one is refused with an :class:`~onestop.errors.AdapterValidationError` that names the
adapter, the flow and what is wrong.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Collection, Mapping
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points
from typing import Any, TypeVar

import structlog

from onestop.domain.offer import PAYABLE
from onestop.errors import AdapterValidationError
from onestop.sdk import _channel_models as cm
from onestop.sdk import _insurer_models as im
from onestop.sdk._capabilities import Capabilities, ChannelCapabilities
from onestop.sdk._channel import FundChannel
from onestop.sdk._config import AdapterConfig
from onestop.sdk._flows import CHANNEL_REQUIRED, INSURER_REQUIRED, ChannelFlow, InsurerFlow
from onestop.sdk._insurer import InsurerAdapter

__all__ = [
    "ADAPTER_GROUP",
    "CHANNEL_GROUP",
    "load_adapters",
    "load_channels",
    "validate_adapter",
    "validate_channel",
]

ADAPTER_GROUP = "onestop.adapters"
CHANNEL_GROUP = "onestop.channels"

_log = structlog.get_logger("onestop.sdk")

#: flow → (input type, result type) of each insurer flow.
INSURER_SIGNATURES: Mapping[InsurerFlow, tuple[type, type]] = {
    InsurerFlow.ELIGIBILITY: (im.EligibilityInput, im.EligibilityResult),
    InsurerFlow.PRE_SETTLE: (im.PreSettleInput, im.PreSettleResult),
    InsurerFlow.SETTLE: (im.SettleInput, im.SettleResult),
    InsurerFlow.QUERY: (im.QueryInput, im.QueryResult),
    InsurerFlow.CANCEL: (im.CancelInput, im.CancelResult),
    InsurerFlow.RECONCILE: (im.ReconcileInput, im.ReconcileResult),
}

#: flow → (input type, result type) of each channel flow.
CHANNEL_SIGNATURES: Mapping[ChannelFlow, tuple[type, type]] = {
    ChannelFlow.PERSON_LOOKUP: (cm.PersonLookupInput, cm.PersonLookupResult),
    ChannelFlow.REGISTER_VISIT: (cm.RegisterVisitInput, cm.RegisterVisitResult),
    ChannelFlow.UPLOAD_FEE_DETAIL: (cm.UploadFeeDetailInput, cm.UploadFeeDetailResult),
    ChannelFlow.PRE_SETTLE: (cm.ChannelPreSettleInput, cm.ChannelSettleResult),
    ChannelFlow.SETTLE: (cm.ChannelSettleInput, cm.ChannelSettleResult),
    ChannelFlow.CANCEL: (cm.ChannelCancelInput, cm.ChannelCancelResult),
    ChannelFlow.REVERSAL: (cm.ReversalInput, cm.ReversalResult),
    ChannelFlow.ACCUMULATORS: (cm.AccumulatorsInput, cm.AccumulatorsResult),
    ChannelFlow.RECONCILE: (cm.ChannelReconcileInput, cm.ChannelReconcileResult),
}

_F = TypeVar("_F", bound=StrEnum)


def _label(cls: object, name: str | None) -> str:
    if name:
        return name
    own = getattr(cls, "name", "")
    return own if isinstance(own, str) and own else getattr(cls, "__name__", repr(cls))


def _check_common(cls: type, base: type, label: str, name: str | None, caps_type: type) -> None:
    own = getattr(cls, "name", "")
    if not isinstance(own, str) or not own:
        raise AdapterValidationError(label, "class attribute `name` must be a non-empty string")
    if name is not None and own != name:
        raise AdapterValidationError(label, f"entry point is named {name!r} but the class says name = {own!r}")
    caps = getattr(cls, "capabilities", None)
    if not isinstance(caps, caps_type):
        raise AdapterValidationError(label, f"class attribute `capabilities` must be a {caps_type.__name__}")
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, AdapterConfig)):
        raise AdapterValidationError(label, "class attribute `Config` must subclass onestop.sdk.AdapterConfig")


def _check_flows(
    cls: type,
    base: type,
    label: str,
    declared: Collection[_F],
    required: Collection[_F],
    signatures: Mapping[_F, tuple[type, type]],
) -> None:
    for flow in sorted(required, key=str):
        if flow not in declared:
            raise AdapterValidationError(label, "is required but missing from capabilities.flows", flow=flow.value)
    for flow, (in_type, out_type) in signatures.items():
        method = inspect.getattr_static(cls, flow.value)
        implemented = method is not inspect.getattr_static(base, flow.value)
        if flow in declared and not implemented:
            raise AdapterValidationError(label, "is declared in capabilities but not implemented", flow=flow.value)
        if implemented and flow not in declared:
            raise AdapterValidationError(
                label, "is implemented but not declared in capabilities.flows", flow=flow.value
            )
        if implemented:
            _check_signature(getattr(cls, flow.value), label, flow.value, in_type, out_type)


def _check_signature(fn: Callable[..., Any], label: str, flow: str, in_type: type, out_type: type) -> None:
    if not inspect.iscoroutinefunction(fn):
        raise AdapterValidationError(label, "must be `async def`", flow=flow)
    params = list(inspect.signature(fn).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    others = [p for p in params if p not in positional and p.default is p.empty and p.kind is not p.VAR_KEYWORD]
    if len(positional) != 2 or others:
        shown = ", ".join(p.name for p in params)
        raise AdapterValidationError(
            label, f"must take exactly one argument ({in_type.__name__}) after self, takes ({shown})", flow=flow
        )
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:  # an unresolvable annotation is the author's error, reported as such
        raise AdapterValidationError(label, f"annotations cannot be resolved: {exc}", flow=flow) from exc
    arg = hints.get(positional[1].name)
    if arg is not None and arg is not in_type:
        raise AdapterValidationError(
            label, f"argument is annotated {getattr(arg, '__name__', arg)!s}, expected {in_type.__name__}", flow=flow
        )
    ret = hints.get("return")
    if ret is not None and not (isinstance(ret, type) and issubclass(ret, out_type)):
        raise AdapterValidationError(
            label, f"returns {getattr(ret, '__name__', ret)!s}, expected {out_type.__name__}", flow=flow
        )


def validate_adapter(cls: object, *, name: str | None = None) -> type[InsurerAdapter]:
    """Check an insurer adapter class before use.

    Args:
        cls: The class (usually loaded from an entry point).
        name: The entry-point name it was loaded under, which must equal ``cls.name``.

    Returns:
        ``cls``, typed.

    Raises:
        AdapterValidationError: Naming the adapter, the flow and the mismatch — not a subclass of
            InsurerAdapter; no name/capabilities/Config; a required flow missing; a flow declared but
            not implemented or implemented but not declared; a method not ``async``, with the wrong
            arguments or annotations; categories the insurer cannot pay.
    """
    label = _label(cls, name)
    if not (isinstance(cls, type) and issubclass(cls, InsurerAdapter)):
        raise AdapterValidationError(label, "is not a subclass of onestop.sdk.InsurerAdapter")
    _check_common(cls, InsurerAdapter, label, name, Capabilities)
    caps: Capabilities = cls.capabilities
    bad = sorted(str(c) for c in caps.categories - PAYABLE)
    if bad:
        raise AdapterValidationError(label, f"capabilities.categories lists categories that cannot be paid: {bad}")
    _check_flows(cls, InsurerAdapter, label, caps.flows, INSURER_REQUIRED, INSURER_SIGNATURES)
    return cls


def validate_channel(cls: object, *, name: str | None = None) -> type[FundChannel]:
    """Check a fund channel class before use (same rules as :func:`validate_adapter`).

    Raises:
        AdapterValidationError: Naming the channel, the flow and the mismatch.
    """
    label = _label(cls, name)
    if not (isinstance(cls, type) and issubclass(cls, FundChannel)):
        raise AdapterValidationError(label, "is not a subclass of onestop.sdk.FundChannel")
    _check_common(cls, FundChannel, label, name, ChannelCapabilities)
    _check_flows(cls, FundChannel, label, cls.capabilities.flows, CHANNEL_REQUIRED, CHANNEL_SIGNATURES)
    return cls


def _load(
    group: str, validate: Callable[..., Any], blocked: Collection[str], only: Collection[str] | None
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    eps: list[EntryPoint] = sorted(entry_points(group=group), key=lambda e: e.name)
    for ep in eps:
        if ep.name in blocked:
            _log.info("adapter.blocked", adapter=ep.name, group=group)
            continue
        if only is not None and ep.name not in only:
            continue
        if ep.name in found:
            raise AdapterValidationError(ep.name, f"two distributions advertise {ep.name!r} in {group}")
        try:
            obj = ep.load()
        except Exception as exc:  # any import failure refuses the adapter, with the cause
            raise AdapterValidationError(ep.name, f"cannot be imported from {ep.value!r}: {exc!r}") from exc
        found[ep.name] = validate(obj, name=ep.name)
        _log.info("adapter.loaded", adapter=ep.name, group=group)
    return found


def load_adapters(
    *, blocked: Collection[str] = (), only: Collection[str] | None = None, group: str = ADAPTER_GROUP
) -> dict[str, type[InsurerAdapter]]:
    """Load and validate every insurer adapter advertised in ``group``.

    Args:
        blocked: Entry-point names never loaded (block-list).
        only: When given, load just these names.
        group: Entry-point group (default ``onestop.adapters``).

    Returns:
        Adapter classes by name.

    Raises:
        AdapterValidationError: For the first adapter that cannot be imported or is invalid.
    """
    return _load(group, validate_adapter, blocked, only)


def load_channels(
    *, blocked: Collection[str] = (), only: Collection[str] | None = None, group: str = CHANNEL_GROUP
) -> dict[str, type[FundChannel]]:
    """Load and validate every fund channel advertised in ``group`` (see :func:`load_adapters`)."""
    return _load(group, validate_channel, blocked, only)
