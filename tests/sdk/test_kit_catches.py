"""The kit's cases can fail: non-conforming adapters are caught by the case that names their fault."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from onestop.domain.offer import AnswerStatus
from onestop.money import Fen
from onestop.sdk import (
    CancelInput,
    CancelOutcome,
    CancelResult,
    PreSettleInput,
    PreSettleResult,
    QueryInput,
    QueryResult,
    SettleInput,
    SettleResult,
)
from onestop.sdk.testing import get_adapter_test_class
from onestop.testing import FakeInsurer


def _case(cls: type, name: str) -> Any:
    kit = get_adapter_test_class(cls)()
    return getattr(kit, name)


class _NotIdempotent(FakeInsurer):
    name: ClassVar[str] = "fake"

    async def settle(self, inp: SettleInput) -> SettleResult:
        self.orders.pop(inp.offer.reference, None)
        return await super().settle(inp)


class _QueryBlind(FakeInsurer):
    name: ClassVar[str] = "fake"

    async def query(self, inp: QueryInput) -> QueryResult:
        return QueryResult(reference=inp.reference, payer=inp.payer, status=AnswerStatus.DECLINED, found=False)


class _TrialDiffers(FakeInsurer):
    name: ClassVar[str] = "fake"

    async def pre_settle(self, inp: PreSettleInput) -> PreSettleResult:
        res = await super().pre_settle(inp)
        return res.model_copy(update={"lines": res.lines[1:]})


class _CancelForgets(FakeInsurer):
    name: ClassVar[str] = "fake"

    async def cancel(self, inp: CancelInput) -> CancelResult:
        return CancelResult(reference=inp.reference, outcome=CancelOutcome.REFUNDED, refunded_fen=Fen(0))


@pytest.mark.parametrize(
    ("cls", "case"),
    [
        (_NotIdempotent, "test_replay_same_reference_pays_once"),
        (_QueryBlind, "test_lost_answer_is_resolved_by_query"),
        (_TrialDiffers, "test_pre_settle_equals_settle"),
        (_CancelForgets, "test_cancel_refunds_and_is_idempotent"),
    ],
    ids=["replay-pays-twice", "query-cannot-find", "trial-differs", "cancel-forgets"],
)
def test_kit_case_fails_on_fault(cls: type, case: str) -> None:
    """Each fault makes its kit case fail (the kit is not a tautology)."""
    with pytest.raises(AssertionError):
        _case(cls, case)()


def test_kit_case_passes_on_reference_fake() -> None:
    """The same cases pass on the conforming FakeInsurer (the faults above are what fails)."""
    for case in (
        "test_replay_same_reference_pays_once",
        "test_lost_answer_is_resolved_by_query",
        "test_pre_settle_equals_settle",
        "test_cancel_refunds_and_is_idempotent",
    ):
        _case(FakeInsurer, case)()
