"""onestop insurer adapter for a hospital direct-pay (商保直付) HTTP insurer API."""

from onestop_directpay.adapter import DirectPayAdapter, DirectPayConfig

__all__ = ["DirectPayAdapter", "DirectPayConfig"]
