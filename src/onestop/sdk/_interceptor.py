"""Interceptors: wrap an adapter, override the flows you care about, delegate the rest."""

from __future__ import annotations

from onestop.sdk import _insurer_models as im
from onestop.sdk._capabilities import Capabilities
from onestop.sdk._protocols import Insurer

__all__ = ["InsurerInterceptor"]


class InsurerInterceptor:
    """An :class:`~onestop.sdk.Insurer` that delegates every flow to ``next``.

    Subclass and override one method to add a concern around an adapter (shadow comparison,
    fault injection in tests, metrics) without touching the adapter::

        class CountSettles(InsurerInterceptor):
            async def settle(self, inp):
                self.count += 1
                return await self.next.settle(inp)
    """

    def __init__(self, next: Insurer) -> None:
        """Wrap ``next``."""
        self.next = next

    @property
    def name(self) -> str:
        """The wrapped adapter's name."""
        return self.next.name

    @property
    def capabilities(self) -> Capabilities:
        """The wrapped adapter's capabilities."""
        return self.next.capabilities

    async def eligibility(self, inp: im.EligibilityInput, /) -> im.EligibilityResult:
        """Delegate."""
        return await self.next.eligibility(inp)

    async def pre_settle(self, inp: im.PreSettleInput, /) -> im.PreSettleResult:
        """Delegate."""
        return await self.next.pre_settle(inp)

    async def settle(self, inp: im.SettleInput, /) -> im.SettleResult:
        """Delegate."""
        return await self.next.settle(inp)

    async def query(self, inp: im.QueryInput, /) -> im.QueryResult:
        """Delegate."""
        return await self.next.query(inp)

    async def cancel(self, inp: im.CancelInput, /) -> im.CancelResult:
        """Delegate."""
        return await self.next.cancel(inp)

    async def reconcile(self, inp: im.ReconcileInput, /) -> im.ReconcileResult:
        """Delegate."""
        return await self.next.reconcile(inp)
