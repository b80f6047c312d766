"""The direct-pay wire: amount fields per offer category, order statuses, response codes.

Modelled on the hospital-side 商保直付 API of 惠医保 (trial order 4.1 → trial result 4.2 → confirm
4.3 → query 4.4 → cancel 4.5 → refund 4.6, amounts in integer fen, order status 0 待理赔 /
1 已理赔 / 2 已退款 / 3 已取消 / 4 失败). Fields marked *extension* are not in that API: it sends
the 医保 split as 乙类自付 and 丙类自费 only, while onestop offers finer categories; an insurer
that takes only the original fields declares fewer categories.
"""

from __future__ import annotations

from types import MappingProxyType

from onestop.domain.offer import AnswerStatus, Category
from onestop.sdk import StatusMapping

__all__ = ["CANCELLED_STATUSES", "CODE", "FIELD_OF", "ORDER_STATUS"]

#: Offer category → wire amount field (fen).
FIELD_OF: MappingProxyType[Category, str] = MappingProxyType(
    {
        Category.FULAMT_OWNPAY: "selfCAmount",  # 丙类自费 (API field)
        Category.PRESELFPAY: "selfBAmount",  # 乙类自付 (API field)
        Category.CIDL: "cidlAmount",  # extension: 商保创新药目录 drugs
        Category.OVERLMT: "overLimitAmount",  # extension: 超限价
        Category.DEDUCTIBLE: "deductibleAmount",  # extension: 起付线
        Category.COPAY: "copayAmount",  # extension: 政策范围内个人负担
    }
)

#: Order status (API) → unified status; an unlisted status is PENDING, never paid.
ORDER_STATUS = StatusMapping(
    {
        "0": AnswerStatus.PENDING,  # 待理赔: a trial (pre-order) not confirmed
        "1": AnswerStatus.APPROVED,  # 已理赔 (PARTIAL when less than requested)
        "2": AnswerStatus.DECLINED,  # 已退款
        "3": AnswerStatus.DECLINED,  # 已取消
        "4": AnswerStatus.DECLINED,  # 失败
    }
)

#: Order statuses after which nothing is owed.
CANCELLED_STATUSES = frozenset({"2", "3"})


class CODE:
    """Response codes of the modelled API."""

    OK = "0000"
    BAD_SIGNATURE = "1001"
    ALREADY_CONFIRMED = "1002"
    NONCE_REUSED = "1003"
    NOT_FOUND = "1004"
    TIMESTAMP_OUT_OF_WINDOW = "1005"
    WRONG_STATE = "1006"
    #: Codes that mean the request was refused before anything happened.
    REFUSED_UNSEEN = frozenset({BAD_SIGNATURE, NONCE_REUSED, TIMESTAMP_OUT_OF_WINDOW})
