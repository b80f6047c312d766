"""The platform's refusal texts map to unified reasons; the raw code and message travel with them."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from onestop_nhsa_platform import NhsaPlatformChannel, reason_for
from onestop_nhsa_platform.testing import fresh_config, outpatient_bill, shared_centre

from onestop.domain.offer import AnswerStatus
from onestop.sdk import (
    ChannelCaller,
    ChannelFlow,
    ChannelSettleInput,
    ReasonCode,
    ReversalInput,
    ReversalOutcome,
)
from onestop.testing import FakeClock


@pytest.mark.parametrize(
    ("err_msg", "reason"),
    [
        ("人员信息不存在: PSN-1", ReasonCode.NOT_ELIGIBLE),
        ("未查询到人员信息", ReasonCode.NOT_ELIGIBLE),
        ("参保地医保区划不符: 330100", ReasonCode.NOT_ELIGIBLE),
        ("该人员处于暂停参保状态", ReasonCode.NOT_ELIGIBLE),
        ("人员不享受门诊待遇", ReasonCode.NOT_ELIGIBLE),
        ("本次费用未达起付线", ReasonCode.DEDUCTIBLE_NOT_MET),
        ("统筹基金已达年度最高支付限额", ReasonCode.CAP_REACHED),
        ("本次就诊无基本医疗保险费用", ReasonCode.NOT_COVERED),
        ("项目不属于医保支付范围", ReasonCode.NOT_COVERED),
        ("结算已撤销: SETL1", ReasonCode.CANCELLED),
        ("该就诊已结算: V1", ReasonCode.OTHER),
        ("原交易编号不符: M1 是 2204", ReasonCode.OTHER),
        ("", ReasonCode.OTHER),
    ],
)
def test_refusal_text_maps_to_its_reason(err_msg: str, reason: ReasonCode) -> None:
    """Each known refusal text gives its unified reason; an unknown text stays OTHER (never a guess)."""
    assert reason_for(err_msg) is reason


def test_person_lookup_default_is_not_eligible_only_when_no_rule_knows_better() -> None:
    """A lookup refusal defaults to NOT_ELIGIBLE, but a text a rule knows keeps that rule's reason."""
    assert reason_for("系统繁忙", ReasonCode.NOT_ELIGIBLE) is ReasonCode.NOT_ELIGIBLE
    assert reason_for("结算已撤销", ReasonCode.NOT_ELIGIBLE) is ReasonCode.CANCELLED


def test_settle_for_an_unknown_person_is_declined_not_eligible_with_the_raw_text() -> None:
    """The platform refusing a person it does not know declines the leg as NOT_ELIGIBLE, raw -1 and text kept."""
    centre = shared_centre()
    enrolled = outpatient_bill()
    stranger = outpatient_bill(visit_no="MZ-STRANGER-1", psn_no="NOT-ENROLLED-PSN")
    cfg = fresh_config(enrolled)
    centre.persons.pop(stranger.patient.psn_no, None)

    async def main() -> None:
        ch = NhsaPlatformChannel(cfg)
        try:
            c = ChannelCaller(ch, clock=FakeClock())
            res = await c.settle(
                ChannelSettleInput(reference=f"rf-{uuid.uuid4().hex[:8]}", bill=stranger),
                reversal_reference=f"rf-{uuid.uuid4().hex[:8]}",
            )
            assert (res.status, res.reason, res.raw_code) == (AnswerStatus.DECLINED, ReasonCode.NOT_ELIGIBLE, "-1")
            assert "人员信息不存在" in res.raw_message
        finally:
            await ch.aclose()
        assert centre.count("2207") == 0

    asyncio.run(main())


def test_reversal_refused_by_the_platform_keeps_raw_code_and_message() -> None:
    """A 2601 the platform refuses is REFUSED with its reason from the text and the raw code and message."""
    centre = shared_centre()
    bill = outpatient_bill()
    cfg = fresh_config(bill)

    async def main() -> None:
        ch = NhsaPlatformChannel(cfg)
        try:
            c = ChannelCaller(ch, clock=FakeClock())
            r = f"rf-{uuid.uuid4().hex[:8]}"
            res = await c.settle(ChannelSettleInput(reference=r, bill=bill), reversal_reference=f"rv-{r}")
            assert res.status is AnswerStatus.APPROVED
            centre.persons.pop(bill.patient.psn_no)  # the platform no longer knows the person
            try:
                rev = await c.call(
                    ChannelFlow.REVERSAL,
                    ReversalInput(reference=f"rv2-{r}", original_reference=r, original_flow=ChannelFlow.SETTLE),
                )
            finally:
                centre.enrol(bill.patient)
            assert (rev.outcome, rev.reason, rev.raw_code) == (ReversalOutcome.REFUSED, ReasonCode.NOT_ELIGIBLE, "-1")
            assert "人员信息不存在" in rev.raw_message
        finally:
            await ch.aclose()

    asyncio.run(main())
