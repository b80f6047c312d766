"""The nhsa-platform channel against the fake platform over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onestop_nhsa_platform import NhsaPlatformChannel
from onestop_nhsa_platform._wire import MsgIds, basic_leg
from onestop_nhsa_platform.testing import fresh_config, inpatient_bill, outpatient_bill, shared_centre
from pydantic import SecretStr

from onestop.catalog import default_catalogs
from onestop.domain.bill import Bill
from onestop.domain.codes import CertType
from onestop.domain.offer import AnswerStatus
from onestop.engine import finalize, settle_funds
from onestop.errors import IntegrityViolation
from onestop.policy import policy_for
from onestop.sdk import (
    AccumulatorsInput,
    ChannelCaller,
    ChannelCancelInput,
    ChannelFlow,
    ChannelPreSettleInput,
    ChannelReconcileInput,
    ChannelSettleInput,
    PersonLookupInput,
    ReasonCode,
    RegisterVisitInput,
    ReversalInput,
    ReversalOutcome,
    UploadFeeDetailInput,
)
from onestop.testing import FakeClock, NhsaFault

T = TypeVar("T")


def ref() -> str:
    return f"ref-{uuid.uuid4().hex[:12]}"


def run(bill: Bill, body: Callable[[NhsaPlatformChannel, ChannelCaller], Awaitable[T]], **cfg: Any) -> T:
    async def main() -> T:
        ch = NhsaPlatformChannel(fresh_config(bill, **cfg))
        try:
            return await body(ch, ChannelCaller(ch, clock=FakeClock()))
        finally:
            await ch.aclose()

    return asyncio.run(main())


def engine(bill: Bill, accumulators: dict[str, int] | None = None) -> Any:
    basic = bill.model_copy(update={"lines": tuple(ln for ln in bill.lines if not ln.work_related)})
    pol = policy_for(basic.patient.insured_region, basic.visit.admission_date)
    return finalize(settle_funds(basic, default_catalogs(), pol, accumulators))


def wait_until(pred: Callable[[], bool]) -> None:
    """Wait (bounded) for the centre thread to finish a request it was told to delay."""
    done = threading.Event()
    for _ in range(200):
        if pred():
            return
        done.wait(0.05)
    raise AssertionError("the fake platform did not finish the delayed request")


def test_settle_answer_lost_after_booking_is_reversed_by_2601_never_resent() -> None:
    """A 2207 that booked but whose answer was lost is sent once, then reversed by 2601 with its msgid."""
    centre = shared_centre()
    bill = outpatient_bill()

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        centre.fault("2207", NhsaFault(drop=True, after=True))
        res = await c.settle(ChannelSettleInput(reference=(r := ref()), bill=bill), reversal_reference=ref())
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, ReasonCode.SETTLE_FAILED)
        assert centre.count("2207") == 1
        assert centre.count("2601") == 1
        entry = await ch.journal.get(r)
        assert entry is not None
        omsgid = next(m for i, m in centre.ledger.messages if i == "2207")
        assert entry.settle_msgid == omsgid
        assert centre.standing() == []
        assert all(v == 0 for v in centre.accumulators(bill.patient.psn_no).values())
        assert centre.balance(bill.patient.psn_no) == int(bill.patient.account_balance_fen)

    run(bill, body)


def test_slow_2207_landing_after_its_reversal_is_refused() -> None:
    """A 2207 still in flight when the 2601 arrives never takes effect when it lands."""
    centre = shared_centre()
    bill = outpatient_bill()

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        centre.fault("2207", NhsaFault(delay_s=1.0))
        res = await c.settle(ChannelSettleInput(reference=ref(), bill=bill), reversal_reference=ref())
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, ReasonCode.SETTLE_FAILED)
        wait_until(lambda: centre.count("2207") == 1)
        assert centre.standing() == []
        assert centre.accumulators(bill.patient.psn_no) == {}

    run(bill, body, timeout_s=0.5)


@pytest.mark.parametrize("after", [False, True])
def test_5xx_on_2207_is_ambiguous_and_reversed_not_resent(after: bool) -> None:
    """A 503 to a 2207, before or after it booked, is resolved by 2601; no second 2207 is sent."""
    centre = shared_centre()
    bill = outpatient_bill()

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        centre.fault("2207", NhsaFault(status=503, after=after))
        res = await c.settle(ChannelSettleInput(reference=ref(), bill=bill), reversal_reference=ref())
        assert res.reason is ReasonCode.SETTLE_FAILED
        assert centre.count("2207") == (1 if after else 0)
        assert centre.count("2601") == 1
        assert centre.standing() == []

    run(bill, body)


def test_rejected_signature_books_nothing() -> None:
    """A request signed with the wrong secret is refused at the gateway: nothing is acted on, the leg is unpaid."""
    centre = shared_centre()
    bill = outpatient_bill()

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        res = await c.settle(ChannelSettleInput(reference=ref(), bill=bill), reversal_reference=ref())
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, ReasonCode.PAYER_UNAVAILABLE)
        assert res.raw_code == "401"
        assert centre.ledger.messages == []

    run(bill, body, secret=SecretStr("not-the-secret"))


def test_msgid_unique_per_message_in_a_full_flow() -> None:
    """Every message of a flow has its own msgid (C30, starting with the institution code)."""
    centre = shared_centre()
    bill = outpatient_bill()

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        r = ref()
        res = await c.settle(ChannelSettleInput(reference=r, bill=bill), reversal_reference=ref())
        await c.call(ChannelFlow.CANCEL, ChannelCancelInput(reference=ref(), original_reference=r, setl_id=res.setl_id))
        ids = [m for _i, m in centre.ledger.messages]
        assert len(ids) == len(set(ids)) >= 7
        assert all(len(m) <= 30 and m.startswith(bill.hospital.code) for m in ids)

    run(bill, body)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 1, 2)), max_size=200))
def test_msgids_never_repeat(times: list[dt.datetime]) -> None:
    """Message ids never repeat, whatever the clock says (even the same second many times)."""
    ids = MsgIds("H22010100001")
    made = [ids.next(t) for t in times] + [ids.next(dt.datetime(2026, 1, 1)) for _ in range(50)]
    assert len(made) == len(set(made))
    assert all(len(m) == 30 for m in made)


@pytest.mark.parametrize("make", [outpatient_bill, inpatient_bill])
def test_fee_detail_split_equals_the_engine_line_results(make: Callable[[], Bill]) -> None:
    """The per-line split returned by 2204/2301 equals the engine's line results, line by line, in fen."""
    bill = make()

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        reg = await c.call(ChannelFlow.REGISTER_VISIT, RegisterVisitInput(reference=ref(), bill=bill))
        up = await c.call(
            ChannelFlow.UPLOAD_FEE_DETAIL, UploadFeeDetailInput(reference=ref(), bill=bill, mdtrt_id=reg.mdtrt_id)
        )
        got = [
            (s.feedetl_sn, s.det_item_fee_sumamt, s.fulamt_ownpay_amt, s.overlmt_amt, s.preselfpay_amt, s.inscp_scp_amt)
            for s in up.lines
        ]
        want = [
            (ln.feedetl_sn, ln.amount_fen, ln.fulamt_ownpay_amt, ln.overlmt_amt, ln.preselfpay_amt, ln.inscp_scp_amt)
            for ln in engine(bill).lines
        ]
        assert got == want
        assert [s.selfpay_prop for s in up.lines] == [ln.selfpay_prop for ln in engine(bill).lines]

    run(bill, body)


@pytest.mark.parametrize("make", [outpatient_bill, inpatient_bill])
def test_settle_maps_to_the_engine_basic_leg_with_nhsa_names(make: Callable[[], Bill]) -> None:
    """The 2207/2304 output, yuan text on the wire, maps to the engine's BasicLeg exactly in fen."""
    bill = make()

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        res = await c.settle(ChannelSettleInput(reference=ref(), bill=bill), reversal_reference=ref())
        assert res.leg is not None
        assert res.leg.kind == "basic"
        want = engine(bill).basic
        assert res.leg.source == "nhsa-platform"
        skip = {"source", "accumulator_deltas"}
        assert res.leg.model_dump(exclude=skip) == want.model_dump(exclude=skip)

    run(bill, body)


def test_basic_leg_parses_yuan_text_exactly_and_refuses_anything_else() -> None:
    """Wire amounts are exact yuan text: "12.30" is 1230 fen; a float, three decimals or broken identities are refused."""
    info = {
        "insutype": "310",
        "psn_type": "11",
        "med_type": "11",
        "setl_time": "2026-03-02 10:00:00",
        "medfee_sumamt": "100.10",
        "inscp_scp_amt": "100.10",
        "hifp_pay": "70.07",
        "fund_pay_sumamt": "70.07",
        "psn_part_amt": "30.03",
        "psn_cash_pay": "30.03",
        "pool_prop_selfpay": "0.70",
    }
    leg = basic_leg(info, [{"fund_pay_type": "310100", "fund_payamt": "70.07"}])
    assert (leg.medfee_sumamt, leg.hifp_pay, leg.psn_cash_pay, leg.benefit_year) == (10010, 7007, 3003, 2026)
    for bad in ({"hifp_pay": 70.07}, {"hifp_pay": "70.070"}, {"psn_cash_pay": "30.02"}, {"pool_prop_selfpay": "1.5"}):
        with pytest.raises(IntegrityViolation):
            basic_leg(info | bad, [])


def test_accumulators_balance_and_reconciliation_follow_settle_and_cancel() -> None:
    """5206 shows the settlement's accumulators and 1101 the account balance; cancel undoes both; 3201 agrees."""
    centre = shared_centre()
    bill = outpatient_bill()
    psn = bill.patient.psn_no

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        r = ref()
        res = await c.settle(ChannelSettleInput(reference=r, bill=bill), reversal_reference=ref())
        assert res.leg is not None
        assert res.leg.kind == "basic"
        acc = await c.call(
            ChannelFlow.ACCUMULATORS, AccumulatorsInput(reference=ref(), psn_no=SecretStr(psn), year=2026)
        )
        deltas = {d.key: int(d.delta_fen) for d in engine(bill).basic.accumulator_deltas}
        assert acc.values == deltas
        assert deltas
        who = await c.call(
            ChannelFlow.PERSON_LOOKUP,
            PersonLookupInput(
                reference=ref(),
                cert_type=CertType.ID_CARD,
                cert_no=SecretStr(bill.patient.cert_no),
                on_date=dt.date(2026, 3, 2),
            ),
        )
        assert who.found
        assert who.eligible
        assert who.psn_no.get_secret_value() == psn
        assert who.account_balance_fen == bill.patient.account_balance_fen - res.leg.acct_pay == res.leg.balc
        today = dt.date.today()
        rec = await c.call(ChannelFlow.RECONCILE, ChannelReconcileInput(reference=ref(), day=today))
        assert (rec.count, rec.medfee_sumamt, rec.agreed) == (1, res.leg.medfee_sumamt, True)
        can = await c.call(ChannelFlow.CANCEL, ChannelCancelInput(reference=ref(), original_reference=r))
        assert can.outcome == "cancelled"
        after = await c.call(
            ChannelFlow.ACCUMULATORS, AccumulatorsInput(reference=ref(), psn_no=SecretStr(psn), year=2026)
        )
        assert set(after.values.values()) == {0}
        assert centre.balance(psn) == bill.patient.account_balance_fen
        rec2 = await c.call(ChannelFlow.RECONCILE, ChannelReconcileInput(reference=ref(), day=today))
        assert (rec2.count, rec2.agreed) == (0, True)

    run(bill, body)


def test_pre_settle_books_nothing() -> None:
    """2206 answers the same shape as a settle but books no settlement, accumulator or account payment."""
    centre = shared_centre()
    bill = outpatient_bill()

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        res = await c.call(ChannelFlow.PRE_SETTLE, ChannelPreSettleInput(reference=ref(), bill=bill))
        assert res.status is AnswerStatus.APPROVED
        assert res.setl_id == ""
        assert centre.standing() == []
        assert centre.accumulators(bill.patient.psn_no) == {}
        assert centre.balance(bill.patient.psn_no) == bill.patient.account_balance_fen

    run(bill, body)


def test_replay_after_restart_cannot_pay_twice() -> None:
    """A channel that lost its journal and settles the same visit again is refused by the platform (已结算)."""
    centre = shared_centre()
    bill = outpatient_bill()

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        r = ref()
        first = await c.settle(ChannelSettleInput(reference=r, bill=bill), reversal_reference=ref())
        assert first.status is AnswerStatus.APPROVED
        fresh = NhsaPlatformChannel(ch.cfg)
        try:
            again = await ChannelCaller(fresh, clock=FakeClock()).settle(
                ChannelSettleInput(reference=r, bill=bill), reversal_reference=ref()
            )
        finally:
            await fresh.aclose()
        assert again.status is AnswerStatus.DECLINED
        assert "已结算" in again.raw_message
        assert centre.standing() == [first.setl_id]

    run(bill, body)


def test_unknown_reference_is_refused_not_guessed() -> None:
    """Without a journal entry the channel refuses to reverse or cancel rather than guess a msgid."""
    bill = outpatient_bill()

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        rev = await c.call(
            ChannelFlow.REVERSAL,
            ReversalInput(reference=ref(), original_reference="never-sent", original_flow=ChannelFlow.SETTLE),
        )
        assert rev.outcome is ReversalOutcome.REFUSED
        can = await c.call(ChannelFlow.CANCEL, ChannelCancelInput(reference=ref(), original_reference="never-sent"))
        assert can.outcome == "refused"

    run(bill, body)


def test_work_related_lines_never_reach_the_platform() -> None:
    """Only basic-insurance lines are uploaded: a work-related line is for the work-injury channel."""
    centre = shared_centre()
    base = outpatient_bill()
    doc = base.model_dump(mode="json")
    doc["work_injury"] = {"status": "recognised", "decision_id": "FIXTURE-WI-9", "decision_date": "2026-02-20"}
    doc["lines"][3]["work_related"] = True
    bill = Bill.model_validate_json(json.dumps(doc))

    async def body(ch: NhsaPlatformChannel, c: ChannelCaller) -> None:
        res = await c.settle(ChannelSettleInput(reference=ref(), bill=bill), reversal_reference=ref())
        assert res.leg is not None
        assert res.leg.medfee_sumamt == bill.total_fen - bill.lines[3].amount_fen
        (visit,) = centre.ledger.visits.values()
        assert sorted(visit.lines) == ["1", "2", "3"]

    run(bill, body)
