"""Structural types for anything that behaves as an insurer adapter or a fund channel.

The caller, the resolver and the conformance kit accept these, so interceptors (which wrap an
adapter and delegate) are as good as the adapter itself.
"""

from __future__ import annotations

from typing import Protocol

from onestop.sdk import _channel_models as cm
from onestop.sdk import _insurer_models as im
from onestop.sdk._capabilities import Capabilities, ChannelCapabilities

__all__ = ["Channel", "Insurer"]


class Insurer(Protocol):
    """An insurer adapter: :class:`~onestop.sdk.InsurerAdapter` or an interceptor around one."""

    @property
    def name(self) -> str:
        """Adapter name."""
        ...

    @property
    def capabilities(self) -> Capabilities:
        """Declared capabilities."""
        ...

    async def eligibility(self, inp: im.EligibilityInput, /) -> im.EligibilityResult:
        """See :meth:`InsurerAdapter.eligibility`."""
        ...

    async def pre_settle(self, inp: im.PreSettleInput, /) -> im.PreSettleResult:
        """See :meth:`InsurerAdapter.pre_settle`."""
        ...

    async def settle(self, inp: im.SettleInput, /) -> im.SettleResult:
        """See :meth:`InsurerAdapter.settle`."""
        ...

    async def query(self, inp: im.QueryInput, /) -> im.QueryResult:
        """See :meth:`InsurerAdapter.query`."""
        ...

    async def cancel(self, inp: im.CancelInput, /) -> im.CancelResult:
        """See :meth:`InsurerAdapter.cancel`."""
        ...

    async def reconcile(self, inp: im.ReconcileInput, /) -> im.ReconcileResult:
        """See :meth:`InsurerAdapter.reconcile`."""
        ...


class Channel(Protocol):
    """A fund channel: :class:`~onestop.sdk.FundChannel` or an interceptor around one."""

    @property
    def name(self) -> str:
        """Channel name."""
        ...

    @property
    def capabilities(self) -> ChannelCapabilities:
        """Declared capabilities."""
        ...

    async def person_lookup(self, inp: cm.PersonLookupInput, /) -> cm.PersonLookupResult:
        """See :meth:`FundChannel.person_lookup`."""
        ...

    async def register_visit(self, inp: cm.RegisterVisitInput, /) -> cm.RegisterVisitResult:
        """See :meth:`FundChannel.register_visit`."""
        ...

    async def upload_fee_detail(self, inp: cm.UploadFeeDetailInput, /) -> cm.UploadFeeDetailResult:
        """See :meth:`FundChannel.upload_fee_detail`."""
        ...

    async def pre_settle(self, inp: cm.ChannelPreSettleInput, /) -> cm.ChannelSettleResult:
        """See :meth:`FundChannel.pre_settle`."""
        ...

    async def settle(self, inp: cm.ChannelSettleInput, /) -> cm.ChannelSettleResult:
        """See :meth:`FundChannel.settle`."""
        ...

    async def cancel(self, inp: cm.ChannelCancelInput, /) -> cm.ChannelCancelResult:
        """See :meth:`FundChannel.cancel`."""
        ...

    async def reversal(self, inp: cm.ReversalInput, /) -> cm.ReversalResult:
        """See :meth:`FundChannel.reversal`."""
        ...

    async def accumulators(self, inp: cm.AccumulatorsInput, /) -> cm.AccumulatorsResult:
        """See :meth:`FundChannel.accumulators`."""
        ...

    async def reconcile(self, inp: cm.ChannelReconcileInput, /) -> cm.ChannelReconcileResult:
        """See :meth:`FundChannel.reconcile`."""
        ...
