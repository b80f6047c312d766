"""The payer SDK: contracts for commercial insurers and fund channels, and how they are called.

* Contracts: :class:`InsurerAdapter` and :class:`FundChannel`, one frozen input and one result
  model per flow, declared :class:`Capabilities`, configs with secrets as ``SecretStr``.
* Discovery: entry-point groups ``onestop.adapters`` and ``onestop.channels``, validated at load
  (:func:`load_adapters`, :func:`validate_adapter`).
* Around every call: :class:`InsurerCaller` / :class:`ChannelCaller` (timeouts, read-only retries,
  logs, integrity, unknown outcomes) and the cashier-deadline :class:`Resolver`.
* State for stateful adapters: the :class:`StateStore` interface the host provides.
* Testing: ``onestop.sdk.testing`` (conformance kit) and ``onestop.testing`` (fakes).
"""

from onestop.sdk._call import CallPolicy, ChannelCaller, InsurerCaller, is_read_retryable
from onestop.sdk._capabilities import AmountUnit, Capabilities, ChannelCapabilities, OfferDetail
from onestop.sdk._channel import FundChannel
from onestop.sdk._channel_models import (
    AccumulatorsInput,
    AccumulatorsResult,
    ChannelCancelInput,
    ChannelCancelResult,
    ChannelPreSettleInput,
    ChannelReconcileInput,
    ChannelReconcileResult,
    ChannelSettleInput,
    ChannelSettleResult,
    FundLegPayload,
    LineSplit,
    PersonLookupInput,
    PersonLookupResult,
    RegisterVisitInput,
    RegisterVisitResult,
    ReversalInput,
    ReversalOutcome,
    ReversalResult,
    UploadFeeDetailInput,
    UploadFeeDetailResult,
)
from onestop.sdk._clock import SYSTEM_CLOCK, Clock, SystemClock
from onestop.sdk._config import AdapterConfig, redact_secrets
from onestop.sdk._flows import (
    CHANNEL_READ_ONLY,
    CHANNEL_REQUIRED,
    INSURER_READ_ONLY,
    INSURER_REQUIRED,
    ChannelFlow,
    InsurerFlow,
)
from onestop.sdk._insurer import InsurerAdapter
from onestop.sdk._insurer_models import (
    CancelInput,
    CancelOutcome,
    CancelResult,
    EligibilityInput,
    EligibilityResult,
    PaymentResult,
    PreSettleInput,
    PreSettleResult,
    QueryInput,
    QueryResult,
    ReconcileInput,
    ReconcileResult,
    SettleInput,
    SettleResult,
)
from onestop.sdk._integrity import channel_settle_problems, check_channel_settle, check_payment, payment_problems
from onestop.sdk._interceptor import InsurerInterceptor
from onestop.sdk._protocols import Channel, Insurer
from onestop.sdk._reasons import ReasonCode, StatusMapping
from onestop.sdk._registry import (
    ADAPTER_GROUP,
    CHANNEL_GROUP,
    load_adapters,
    load_channels,
    validate_adapter,
    validate_channel,
)
from onestop.sdk._resolver import Resolver, ResolverOutcome, UnresolvedLeg
from onestop.sdk._state import StateDelta, StateKey, StateRecord, StateStore, negate
from onestop.sdk._wire import amount_from_wire, amount_to_wire

__all__ = [
    "ADAPTER_GROUP",
    "CHANNEL_GROUP",
    "CHANNEL_READ_ONLY",
    "CHANNEL_REQUIRED",
    "INSURER_READ_ONLY",
    "INSURER_REQUIRED",
    "SYSTEM_CLOCK",
    "AccumulatorsInput",
    "AccumulatorsResult",
    "AdapterConfig",
    "AmountUnit",
    "CallPolicy",
    "CancelInput",
    "CancelOutcome",
    "CancelResult",
    "Capabilities",
    "Channel",
    "ChannelCaller",
    "ChannelCancelInput",
    "ChannelCancelResult",
    "ChannelCapabilities",
    "ChannelFlow",
    "ChannelPreSettleInput",
    "ChannelReconcileInput",
    "ChannelReconcileResult",
    "ChannelSettleInput",
    "ChannelSettleResult",
    "Clock",
    "EligibilityInput",
    "EligibilityResult",
    "FundChannel",
    "FundLegPayload",
    "Insurer",
    "InsurerAdapter",
    "InsurerCaller",
    "InsurerFlow",
    "InsurerInterceptor",
    "LineSplit",
    "OfferDetail",
    "PaymentResult",
    "PersonLookupInput",
    "PersonLookupResult",
    "PreSettleInput",
    "PreSettleResult",
    "QueryInput",
    "QueryResult",
    "ReasonCode",
    "ReconcileInput",
    "ReconcileResult",
    "RegisterVisitInput",
    "RegisterVisitResult",
    "Resolver",
    "ResolverOutcome",
    "ReversalInput",
    "ReversalOutcome",
    "ReversalResult",
    "SettleInput",
    "SettleResult",
    "StateDelta",
    "StateKey",
    "StateRecord",
    "StateStore",
    "StatusMapping",
    "SystemClock",
    "UnresolvedLeg",
    "UploadFeeDetailInput",
    "UploadFeeDetailResult",
    "amount_from_wire",
    "amount_to_wire",
    "channel_settle_problems",
    "check_channel_settle",
    "check_payment",
    "is_read_retryable",
    "load_adapters",
    "load_channels",
    "negate",
    "payment_problems",
    "redact_secrets",
    "validate_adapter",
    "validate_channel",
]

# Public names read as onestop.sdk.X in reprs and docs, not as the private module they live in.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("onestop.sdk._"):
        _obj.__module__ = __name__
del _name, _obj
