"""Fault-injecting interceptors the kit wraps around any adapter (no adapter cooperation needed)."""

from __future__ import annotations

from onestop.domain.offer import AnswerStatus, Category, LinePayment
from onestop.errors import PayerTimeout, PayerUnavailable
from onestop.money import Fen
from onestop.sdk import (
    Insurer,
    InsurerInterceptor,
    QueryInput,
    QueryResult,
    SettleInput,
    SettleResult,
)

__all__ = ["Inflate", "LoseAnswer", "LoseRequest", "Misreference", "Record", "UnreachableQuery"]


class LoseAnswer(InsurerInterceptor):
    """The settle reaches the insurer and takes effect; its answer is lost (a timeout)."""

    async def settle(self, inp: SettleInput, /) -> SettleResult:
        """Settle for real, then time out."""
        await self.next.settle(inp)
        raise PayerTimeout("answer lost after the settle took effect", payer=self.name, flow="settle")


class LoseRequest(InsurerInterceptor):
    """The settle never reaches the insurer, but the caller only sees a timeout."""

    async def settle(self, inp: SettleInput, /) -> SettleResult:
        """Time out without sending."""
        raise PayerTimeout("request lost before reaching the insurer", payer=self.name, flow="settle")


class UnreachableQuery(InsurerInterceptor):
    """Every query fails as unreachable (the unknown stays unknown)."""

    async def query(self, inp: QueryInput, /) -> QueryResult:
        """Fail."""
        raise PayerUnavailable("query endpoint down", payer=self.name, flow="query")


class Inflate(InsurerInterceptor):
    """Raises the first payment of every settle result to one fen above what was offered."""

    async def settle(self, inp: SettleInput, /) -> SettleResult:
        """Settle, then over-pay by one fen."""
        res = await self.next.settle(inp)
        offered = {lo.feedetl_sn: lo for lo in inp.offer.lines}
        if res.lines:
            first = res.lines[0]
            cat = next(iter(first.amounts))
            over = Fen(offered[first.feedetl_sn].amounts.get(cat, 0) + 1) if first.feedetl_sn in offered else Fen(1)
            bumped = LinePayment(feedetl_sn=first.feedetl_sn, amounts={**first.amounts, cat: over}, reason=first.reason)
            return res.model_copy(update={"lines": (bumped, *res.lines[1:])})
        cat = next(iter(res.totals), Category.FULAMT_OWNPAY)
        return res.model_copy(
            update={
                "status": AnswerStatus.APPROVED,
                "totals": {**res.totals, cat: Fen(inp.offer.totals.get(cat, 0) + 1)},
            }
        )


class Misreference(InsurerInterceptor):
    """Answers settle under another reference."""

    async def settle(self, inp: SettleInput, /) -> SettleResult:
        """Settle, then echo a wrong reference."""
        res = await self.next.settle(inp)
        return res.model_copy(update={"reference": inp.offer.reference + "-other"})


class Record(InsurerInterceptor):
    """Records what the adapter received and counts settles."""

    def __init__(self, next: Insurer) -> None:
        """Wrap ``next`` with empty records."""
        super().__init__(next)
        self.settles: list[SettleInput] = []

    async def settle(self, inp: SettleInput, /) -> SettleResult:
        """Record, then delegate."""
        self.settles.append(inp)
        return await self.next.settle(inp)
