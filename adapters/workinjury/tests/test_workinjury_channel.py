"""The work-injury channel against its fake centre over real HTTP on 127.0.0.1 (modelled interface)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from onestop_workinjury import RecognitionInput, WorkInjuryChannel
from onestop_workinjury.testing import fresh_config, shared_centre, work_injury_bill
from pydantic import SecretStr

from onestop.catalog import default_catalogs
from onestop.domain.codes import CertType
from onestop.domain.offer import AnswerStatus
from onestop.engine import finalize, settle_funds
from onestop.policy import policy_for
from onestop.sdk import ChannelCaller, ChannelFlow, ChannelSettleInput, PersonLookupInput, ReasonCode
from onestop.testing import FakeClock, WorkInjuryFault

T = TypeVar("T")
BILL = work_injury_bill()


def ref() -> str:
    return f"wi-{uuid.uuid4().hex[:12]}"


def run(
    body: Callable[[WorkInjuryChannel, ChannelCaller], Awaitable[T]], *, status: str = "recognised", **cfg: Any
) -> T:
    async def main() -> T:
        ch = WorkInjuryChannel(fresh_config(BILL, status=status, **cfg))
        try:
            return await body(ch, ChannelCaller(ch, clock=FakeClock()))
        finally:
            await ch.aclose()

    return asyncio.run(main())


def wait_until(pred: Callable[[], bool]) -> None:
    """Wait (bounded) for the centre thread to finish a request it was told to delay."""
    done = threading.Event()
    for _ in range(200):
        if pred():
            return
        done.wait(0.05)
    raise AssertionError("the fake centre did not finish the delayed request")


def test_settle_is_the_engine_work_injury_leg() -> None:
    """The centre's settlement equals the engine's work-injury leg of the same bill, figure by figure."""
    pol = policy_for(BILL.patient.insured_region, BILL.visit.admission_date)
    want = finalize(settle_funds(BILL, default_catalogs(), pol)).work_injury

    async def body(ch: WorkInjuryChannel, c: ChannelCaller) -> None:
        res = await c.settle(ChannelSettleInput(reference=ref(), bill=BILL), reversal_reference=ref())
        assert res.status is AnswerStatus.APPROVED
        assert res.leg == want
        assert res.leg.fund_pay_fen > 0

    run(body)


def test_recognition_lookup_gives_status_dates_and_diagnoses() -> None:
    """Recognition lookup answers the decision's status, dates and work-related diagnosis codes; unknown → not found."""

    async def body(ch: WorkInjuryChannel, c: ChannelCaller) -> None:
        wi = BILL.work_injury
        assert wi is not None
        got = await ch.recognition(RecognitionInput(reference=ref(), decision_id=wi.decision_id))
        assert (got.found, got.status, got.decision_date, got.diagnosis_codes) == (
            True,
            "recognised",
            wi.decision_date,
            ("S62.600",),
        )
        assert got.psn_no.get_secret_value() == BILL.patient.psn_no
        none = await ch.recognition(RecognitionInput(reference=ref(), decision_id="no-such-decision"))
        assert (none.found, none.reason) == (False, ReasonCode.NOT_ELIGIBLE)
        who = await c.call(
            ChannelFlow.PERSON_LOOKUP,
            PersonLookupInput(
                reference=ref(),
                cert_type=CertType.ID_CARD,
                cert_no=SecretStr(BILL.patient.cert_no),
                on_date=dt.date(2026, 3, 10),
            ),
        )
        assert (who.found, who.eligible, who.work_injury_decision_id) == (True, True, wi.decision_id)

    run(body)


@pytest.mark.parametrize(
    ("status", "reason"), [("pending", ReasonCode.PENDING_REVIEW), ("refused", ReasonCode.NOT_ELIGIBLE)]
)
def test_unrecognised_injury_is_declined_with_reason(status: str, reason: ReasonCode) -> None:
    """A pending or refused recognition pays nothing: DECLINED with the unified reason and the raw code."""
    centre = shared_centre()

    async def body(ch: WorkInjuryChannel, c: ChannelCaller) -> None:
        res = await c.settle(ChannelSettleInput(reference=ref(), bill=BILL), reversal_reference=ref())
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, reason)
        assert res.raw_code == f"RECOGNITION_{status.upper()}"
        assert centre.settled() == []

    run(body, status=status)


def test_lost_settle_answer_is_cancelled_not_resent() -> None:
    """A settle whose answer is lost after booking is sent once and undone by cancel with its reference."""
    centre = shared_centre()

    async def body(ch: WorkInjuryChannel, c: ChannelCaller) -> None:
        centre.fault("/settle", WorkInjuryFault(drop=True, after=True))
        res = await c.settle(ChannelSettleInput(reference=ref(), bill=BILL), reversal_reference=ref())
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, ReasonCode.SETTLE_FAILED)
        assert centre.count("/settle") == 1
        assert centre.settled() == []

    run(body)


def test_slow_settle_landing_after_its_cancel_is_refused() -> None:
    """A settle still in flight when its cancel arrives never takes effect when it lands."""
    centre = shared_centre()

    async def body(ch: WorkInjuryChannel, c: ChannelCaller) -> None:
        centre.fault("/settle", WorkInjuryFault(delay_s=1.0))
        res = await c.settle(ChannelSettleInput(reference=ref(), bill=BILL), reversal_reference=ref())
        assert res.reason is ReasonCode.SETTLE_FAILED
        wait_until(lambda: centre.count("/settle") == 1)
        assert centre.settled() == []

    run(body)


def test_bad_key_is_unavailable_and_books_nothing() -> None:
    """A request with the wrong key is refused at the door: the leg is unpaid, nothing is booked."""
    centre = shared_centre()

    async def body(ch: WorkInjuryChannel, c: ChannelCaller) -> None:
        res = await c.settle(ChannelSettleInput(reference=ref(), bill=BILL), reversal_reference=ref())
        assert (res.reason, res.raw_code) == (ReasonCode.PAYER_UNAVAILABLE, "401")
        assert centre.count("/settle") == 0

    run(body, api_key=SecretStr("wrong-key"))
