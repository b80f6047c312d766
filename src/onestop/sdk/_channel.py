"""The fund-channel contract: basic insurance, work injury and maternity centres."""

from __future__ import annotations

from typing import ClassVar

from onestop.errors import InvalidRequest, UnsupportedFlow
from onestop.sdk._capabilities import ChannelCapabilities
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
    PersonLookupInput,
    PersonLookupResult,
    RegisterVisitInput,
    RegisterVisitResult,
    ReversalInput,
    ReversalResult,
    UploadFeeDetailInput,
    UploadFeeDetailResult,
)
from onestop.sdk._clock import SYSTEM_CLOCK, Clock
from onestop.sdk._config import AdapterConfig
from onestop.sdk._flows import ChannelFlow

__all__ = ["FundChannel"]


def _unsupported(channel: FundChannel, flow: ChannelFlow) -> UnsupportedFlow:
    return UnsupportedFlow(f"channel {channel.name!r} does not offer {flow.value}", metadata={"flow": flow.value})


class FundChannel:
    """Base class of a fund channel. Settle and cancel are required; the rest are optional.

    A settle is never re-sent: when it times out the SDK marks it UNKNOWN and resolves it by
    :meth:`reversal` of the original reference (or by cancel when the channel has no reversal).

    Attributes:
        name: The entry-point name in group ``onestop.channels``.
        capabilities: What the channel supports; checked at load.
        Config: The channel's configuration model (secrets as ``SecretStr``).
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[ChannelCapabilities]
    Config: ClassVar[type[AdapterConfig]] = AdapterConfig

    def __init__(self, config: AdapterConfig, *, clock: Clock | None = None) -> None:
        """Build the channel.

        Args:
            config: An instance of the channel's ``Config``.
            clock: Time source (tests pass a fake clock).
        """
        if not isinstance(config, self.Config):
            raise InvalidRequest(
                f"channel {self.name!r} needs a {self.Config.__name__} config, got {type(config).__name__}"
            )
        self.config = config
        self.clock: Clock = clock or SYSTEM_CLOCK

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    async def settle(self, inp: ChannelSettleInput) -> ChannelSettleResult:
        """Settle the fund leg (required)."""
        raise NotImplementedError(f"{type(self).__name__}.settle must be implemented")

    async def cancel(self, inp: ChannelCancelInput) -> ChannelCancelResult:
        """Cancel a settlement (required)."""
        raise NotImplementedError(f"{type(self).__name__}.cancel must be implemented")

    async def person_lookup(self, inp: PersonLookupInput) -> PersonLookupResult:
        """Person / eligibility / recognition lookup (optional)."""
        raise _unsupported(self, ChannelFlow.PERSON_LOOKUP)

    async def register_visit(self, inp: RegisterVisitInput) -> RegisterVisitResult:
        """Register the visit (optional)."""
        raise _unsupported(self, ChannelFlow.REGISTER_VISIT)

    async def upload_fee_detail(self, inp: UploadFeeDetailInput) -> UploadFeeDetailResult:
        """Upload fee lines; returns the per-line split when the centre gives it (optional)."""
        raise _unsupported(self, ChannelFlow.UPLOAD_FEE_DETAIL)

    async def pre_settle(self, inp: ChannelPreSettleInput) -> ChannelSettleResult:
        """Trial settlement (optional)."""
        raise _unsupported(self, ChannelFlow.PRE_SETTLE)

    async def reversal(self, inp: ReversalInput) -> ReversalResult:
        """Reverse a message by its original reference (optional)."""
        raise _unsupported(self, ChannelFlow.REVERSAL)

    async def accumulators(self, inp: AccumulatorsInput) -> AccumulatorsResult:
        """Year-to-date accumulators (optional)."""
        raise _unsupported(self, ChannelFlow.ACCUMULATORS)

    async def reconcile(self, inp: ChannelReconcileInput) -> ChannelReconcileResult:
        """Totals reconciliation (optional)."""
        raise _unsupported(self, ChannelFlow.RECONCILE)

    def supports(self, flow: ChannelFlow) -> bool:
        """True when the channel declares ``flow``."""
        return flow in self.capabilities.flows

    async def aclose(self) -> None:
        """Release connections; the host calls it once when done."""
