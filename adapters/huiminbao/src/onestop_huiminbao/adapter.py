"""The 惠民保 adapter: adjudicates offers with a product design, accumulators in the host's state store.

The insurer's rules run inside the gateway (the "商保规则请进来" mode): the adapter computes the
claim with :func:`onestop.products.adjudicate`, keeps member-year accumulators and the member
register in the host's :class:`~onestop.sdk.StateStore`, and books each leg in its claim book —
records in the same store, written with the leg's deltas, so the book survives a restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from onestop.domain.offer import PAYABLE, AnswerStatus, Offer
from onestop.errors import ConfigError, FieldViolation
from onestop.money import Fen
from onestop.products import (
    Adjudication,
    Design,
    MemberFacts,
    accumulator_keys,
    adjudicate,
    load_product,
    paid_key,
    shipped_designs,
)
from onestop.sdk import (
    AdapterConfig,
    CancelInput,
    CancelOutcome,
    CancelResult,
    Capabilities,
    Clock,
    EligibilityInput,
    EligibilityResult,
    InsurerAdapter,
    InsurerFlow,
    OfferDetail,
    PreSettleInput,
    PreSettleResult,
    QueryInput,
    QueryResult,
    ReasonCode,
    ReconcileInput,
    ReconcileResult,
    SettleInput,
    SettleResult,
    StateDelta,
    StateKey,
    StateStore,
    negate,
)
from onestop_huiminbao._claims import ClaimBook, ClaimRecord
from onestop_huiminbao._register import MemberRegister

__all__ = ["HuiminbaoAdapter", "HuiminbaoConfig"]

_PAYING = (AnswerStatus.APPROVED, AnswerStatus.PARTIAL)


def _unpaid(
    reference: str, payer: str, status: AnswerStatus, reason: ReasonCode, raw_code: str, message: str
) -> SettleResult:
    """An answer that pays nothing, with the adapter's own code and words for why."""
    return SettleResult(
        reference=reference, payer=payer, status=status, reason=reason, raw_code=raw_code, raw_message=message
    )


class HuiminbaoConfig(AdapterConfig):
    """Which products the adapter sells and how it treats members missing from its register."""

    products: tuple[str, ...] = ()
    """Codes of shipped designs to sell (empty: every shipped design)."""
    design_files: tuple[str, ...] = ()
    """Further design files (YAML) to sell, e.g. a city's own edition."""
    register_required: bool = True
    """True: a member missing from the register is declined NOT_ELIGIBLE. False: such a member is taken
    as enrolled on the first day of the policy period with no pre-existing condition (for hosts whose
    offers only reach members the insurer already verified by policy number)."""
    claim_prefix: str = Field(default="HMB", pattern=r"^[A-Z0-9]{1,8}$")
    """Prefix of the claim ids the adapter issues."""


class HuiminbaoAdapter(InsurerAdapter):
    """A city 惠民保 product family as an insurer adapter.

    Flows: eligibility (registered member, remaining sum insured per liability), pre-settle (the
    same adjudication, nothing written), settle (adjudicate, apply the accumulator deltas under the
    leg's reference, book the leg), query, cancel (negated deltas under ``<reference>:cancel``) and
    reconcile (legs booked on a day and not cancelled). Works per line when the offer has lines,
    else with category totals.

    A query answers a booked leg as it was answered; a reference the claim book does not hold is
    definitively not found: the book is kept in the host's state store with the deltas, so it is
    the same after a restart and in every worker.
    """

    name: ClassVar[str] = "huiminbao"
    Config: ClassVar[type[AdapterConfig]] = HuiminbaoConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        flows=frozenset(InsurerFlow),
        categories=PAYABLE,
        detail=OfferDetail.LINES,
        stateful=True,
    )

    def __init__(
        self,
        config: AdapterConfig,
        *,
        state: StateStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Build the adapter and load its designs.

        Raises:
            InvalidRequest: wrong config type or no state store.
            ConfigError: an unknown product code or a bad design file.
        """
        super().__init__(config, state=state, clock=clock)
        # Both are checked by the base class; the asserts narrow the types.
        assert isinstance(config, HuiminbaoConfig)
        assert state is not None
        self.cfg = config
        self.store: StateStore = state
        shipped = shipped_designs()
        unknown = [c for c in config.products if c not in shipped]
        if unknown:
            raise ConfigError(
                "huiminbao: unknown products",
                violations=tuple(FieldViolation("products", f"no shipped design {c!r}") for c in unknown),
            )
        designs = [shipped[c] for c in (config.products or tuple(shipped))]
        designs += [load_product(Path(f)) for f in config.design_files]
        self.designs: dict[str, Design] = {}
        for d in designs:
            self.designs[d.code] = d
        self.register = MemberRegister(self.name, state)
        self.claims = ClaimBook(self.name, state)
        self._lock = asyncio.Lock()

    # -- helpers ---------------------------------------------------------------------------------

    def _key(self, design: Design, member_ref: str, key: str) -> StateKey:
        return StateKey(self.name, design.code, member_ref, design.product_year, key)

    async def _member(self, design: Design, member_ref: str) -> MemberFacts | None:
        facts = await self.register.facts(design, member_ref)
        if facts is None and not self.cfg.register_required:
            return MemberFacts(enrolled_on=design.policy_period.start)
        return facts

    async def _adjudicate(self, offer: Offer) -> tuple[Adjudication | None, Design | None]:
        design = self.designs.get(offer.product)
        if design is None:
            return None, None
        member = await self._member(design, offer.member_ref)
        acc = {k: await self.store.get(self._key(design, offer.member_ref, k)) for k in accumulator_keys(design)}
        return adjudicate(design, offer, member, acc), design

    def _claim_id(self, reference: str) -> str:
        return f"{self.cfg.claim_prefix}-{hashlib.sha256(reference.encode()).hexdigest()[:16].upper()}"

    def _result(self, offer: Offer, adj: Adjudication | None) -> SettleResult:
        if adj is None:
            return _unpaid(
                offer.reference,
                offer.payer,
                AnswerStatus.DECLINED,
                ReasonCode.NOT_COVERED,
                "NO_PRODUCT",
                f"product {offer.product!r} is not sold by this adapter",
            )
        paying = adj.status in _PAYING
        return SettleResult(
            reference=offer.reference,
            payer=offer.payer,
            status=adj.status,
            lines=adj.paid_lines if paying else (),
            totals={c: Fen(v) for c, v in adj.totals.items()} if paying and not offer.lines else {},
            reason=adj.reason,
            raw_code=adj.reason.value,
            raw_message="; ".join(f"{o.liability}:{o.reason.value}:{o.paid_fen}" for o in adj.outcomes),
            payer_claim_id=self._claim_id(offer.reference),
        )

    def _today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.clock.time(), dt.UTC).date()

    # -- flows -----------------------------------------------------------------------------------

    async def pre_settle(self, inp: PreSettleInput) -> PreSettleResult:
        """What settle would pay now for the offer; nothing is written."""
        booked = await self.claims.get(inp.offer.reference)
        if booked is not None:
            return PreSettleResult(**booked.result.model_dump(round_trip=True))
        adj, _design = await self._adjudicate(inp.offer)
        return PreSettleResult(**self._result(inp.offer, adj).model_dump(round_trip=True))

    async def settle(self, inp: SettleInput) -> SettleResult:
        """Adjudicate, apply the deltas under the offer's reference and book the leg; a replay answers the first."""
        offer = inp.offer
        async with self._lock:
            booked = await self.claims.get(offer.reference)
            if booked is not None:
                return booked.result
            adj, design = await self._adjudicate(offer)
            result = self._result(offer, adj)
            deltas: tuple[StateDelta, ...] = ()
            if adj is not None and design is not None:
                deltas = tuple(StateDelta(self._key(design, offer.member_ref, k), v) for k, v in adj.deltas.items())
            claim = ClaimRecord(result, deltas, self._today())
            if not await self.store.apply(offer.reference, deltas, [self.claims.record(offer.reference, claim)]):
                # Another process applied this reference between our read and our apply: its booking stands.
                again = await self.claims.get(offer.reference)
                if again is not None:
                    return again.result
                return _unpaid(
                    offer.reference,
                    offer.payer,
                    AnswerStatus.PENDING,
                    ReasonCode.PENDING_REVIEW,
                    "BOOKED_ELSEWHERE",
                    "the reference was applied to the accumulators outside this claim book",
                )
            return result

    async def query(self, inp: QueryInput) -> QueryResult:
        """The booked leg, or a definitive not-found."""
        booked = await self.claims.get(inp.reference)
        if booked is None:
            return QueryResult(reference=inp.reference, payer=inp.payer, status=AnswerStatus.DECLINED, found=False)
        return QueryResult(**booked.result.model_dump(round_trip=True), found=True, cancelled=booked.cancelled)

    async def cancel(self, inp: CancelInput) -> CancelResult:
        """Undo the leg: apply its negated deltas under ``<reference>:cancel``; idempotent."""
        async with self._lock:
            booked = await self.claims.get(inp.reference)
            if booked is None:
                # Nothing booked yet — but a settle whose caller stopped waiting may still be on its way.
                # The reference is claimed with a cancelled tombstone, so that settle can no longer book.
                tombstone = ClaimRecord(
                    _unpaid(
                        inp.reference,
                        inp.payer,
                        AnswerStatus.DECLINED,
                        ReasonCode.CANCELLED,
                        "CANCELLED_BEFORE_BOOKING",
                        "the leg was cancelled before it was booked",
                    ),
                    (),
                    self._today(),
                    cancelled=True,
                )
                if await self.store.apply(inp.reference, (), [self.claims.record(inp.reference, tombstone)]):
                    return CancelResult(reference=inp.reference, outcome=CancelOutcome.NOTHING_TO_CANCEL)
                booked = await self.claims.get(inp.reference)  # the settle won the race: undo what it booked
            if booked is None or booked.cancelled:
                return CancelResult(reference=inp.reference, outcome=CancelOutcome.NOTHING_TO_CANCEL)
            undone = ClaimRecord(booked.result, booked.deltas, booked.day, cancelled=True)
            if not await self.store.apply(
                f"{inp.reference}:cancel", negate(booked.deltas), [self.claims.record(inp.reference, undone)]
            ):
                # Another process cancelled it between our read and our apply.
                return CancelResult(reference=inp.reference, outcome=CancelOutcome.NOTHING_TO_CANCEL)
            paid = booked.result.paid_fen
            if booked.result.status in _PAYING and paid:
                return CancelResult(reference=inp.reference, outcome=CancelOutcome.REFUNDED, refunded_fen=Fen(paid))
            return CancelResult(reference=inp.reference, outcome=CancelOutcome.CANCELLED)

    async def eligibility(self, inp: EligibilityInput) -> EligibilityResult:
        """Whether the member is covered on the date, and the sum insured left per liability."""
        design = self.designs.get(inp.product)
        if design is None:
            return EligibilityResult(reference=inp.reference, eligible=False, reason=ReasonCode.NOT_COVERED)
        member = await self._member(design, inp.member_ref)
        if member is None or not design.policy_period.contains(inp.on_date) or member.enrolled_on > inp.on_date:
            return EligibilityResult(reference=inp.reference, eligible=False, reason=ReasonCode.NOT_ELIGIBLE)
        remaining: dict[str, Fen] = {}
        for lia in design.liabilities:
            spent = await self.store.get(self._key(design, inp.member_ref, paid_key(lia.limit)))
            remaining[lia.id] = Fen(max(0, int(design.limits[lia.limit]) - spent))
        return EligibilityResult(
            reference=inp.reference, eligible=True, reason=ReasonCode.COVERED, remaining_fen=remaining
        )

    async def reconcile(self, inp: ReconcileInput) -> ReconcileResult:
        """Legs booked on the day that paid something and stand (not cancelled)."""
        standing = [
            (ref, rec)
            for ref, rec in await self.claims.on_day(inp.day)
            if not rec.cancelled and rec.result.status in _PAYING and rec.result.paid_fen
        ]
        return ReconcileResult(
            payer=inp.payer,
            day=inp.day,
            count=len(standing),
            paid_fen=Fen(sum(rec.result.paid_fen for _ref, rec in standing)),
            references=tuple(sorted(ref for ref, _rec in standing)),
        )
