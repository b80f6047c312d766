"""The platform's refusal texts mapped to unified reason codes; the raw code and message are always kept.

A refusal is ``infcode = -1`` with a free-text ``err_msg``: the platform publishes no code per cause,
so the cause is read from the text by the platform's own terms (参保/待遇 for eligibility, 起付线,
封顶线 / 最高支付限额, 政策范围 / 医保目录). The table is ordered: the first rule whose words occur
wins. Text that no rule knows stays ``OTHER`` — a guess is never made.
"""

from __future__ import annotations

from onestop.sdk import ReasonCode

__all__ = ["REFUSAL_RULES", "reason_for"]

#: (words, reason): the first rule with any of its words in the message gives the reason.
REFUSAL_RULES: tuple[tuple[tuple[str, ...], ReasonCode], ...] = (
    # Undo of an undone settlement before anything about the person: the text also names 结算.
    (("结算已撤销", "已冲正", "已退费"), ReasonCode.CANCELLED),
    (
        (
            "人员信息不存在",
            "未查询到人员信息",
            "未参保",
            "参保状态",
            "暂停参保",
            "停保",
            "中断缴费",
            "欠费",
            "待遇",
            "参保地医保区划不符",
        ),
        ReasonCode.NOT_ELIGIBLE,
    ),
    (("未达起付线", "起付线"), ReasonCode.DEDUCTIBLE_NOT_MET),
    (("封顶", "最高支付限额", "年度支付限额", "支付限额已满"), ReasonCode.CAP_REACHED),
    (
        ("无基本医疗保险费用", "不属于医保支付范围", "不在医保目录", "非医保目录", "政策范围外", "不予支付"),
        ReasonCode.NOT_COVERED,
    ),
)


def reason_for(err_msg: str, default: ReasonCode = ReasonCode.OTHER) -> ReasonCode:
    """The unified reason of a refusal text.

    Args:
        err_msg: The platform's ``err_msg``.
        default: The reason when no rule matches (``OTHER``; ``NOT_ELIGIBLE`` for a person lookup).

    Returns:
        The reason of the first matching rule of :data:`REFUSAL_RULES`, else ``default``.
    """
    for words, reason in REFUSAL_RULES:
        if any(w in err_msg for w in words):
            return reason
    return default
