"""The 惠民保 insurer adapter: product designs (``onestop.products``) behind the SDK's insurer flows."""

from onestop_huiminbao._claims import ClaimBook, ClaimRecord
from onestop_huiminbao._register import MemberRegister
from onestop_huiminbao.adapter import HuiminbaoAdapter, HuiminbaoConfig

__all__ = ["ClaimBook", "ClaimRecord", "HuiminbaoAdapter", "HuiminbaoConfig", "MemberRegister"]
