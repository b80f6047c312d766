"""Request and response signing: sorted keys, a timestamp window and a single-use nonce.

The modelled API (after the hospital-side 惠医保 direct-pay API) signs with SM2 and keys sorted in
ASCII order; a timestamp must be within one minute and a signature is single-use. SM2 needs a
national-crypto library outside the project's dependency set, so this module signs the same
canonical string with HMAC-SHA256 under a shared secret; swapping the algorithm touches only
:func:`sign` and :func:`verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

__all__ = ["TIMESTAMP_WINDOW_S", "canonical", "envelope", "sign", "verify"]

#: A request or response older or newer than this (seconds) is refused.
TIMESTAMP_WINDOW_S = 60


def canonical(fields: dict[str, Any]) -> str:
    """``k=v`` pairs sorted by key (ASCII), joined by ``&``; ``sign`` excluded; objects as compact sorted JSON."""
    parts = []
    for key in sorted(fields):
        if key == "sign":
            continue
        value = fields[key]
        if isinstance(value, (dict, list)):
            value = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        parts.append(f"{key}={value}")
    return "&".join(parts)


def sign(fields: dict[str, Any], secret: str) -> str:
    """The signature of ``fields`` under ``secret`` (hex)."""
    return hmac.new(secret.encode(), canonical(fields).encode(), hashlib.sha256).hexdigest()


def verify(fields: dict[str, Any], secret: str) -> bool:
    """True when ``fields["sign"]`` is the signature of the other fields."""
    given = fields.get("sign")
    return isinstance(given, str) and hmac.compare_digest(given, sign(fields, secret))


def envelope(app_id: str, biz: dict[str, Any], secret: str, *, now: float) -> dict[str, Any]:
    """A signed request envelope with a fresh nonce and the current timestamp (seconds)."""
    fields: dict[str, Any] = {
        "appId": app_id,
        "timestamp": int(now),
        "nonce": secrets.token_hex(16),
        "bizContent": biz,
    }
    fields["sign"] = sign(fields, secret)
    return fields
