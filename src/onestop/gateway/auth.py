"""Who is calling: a hospital proved by its mTLS client certificate or by its bearer token.

* **mTLS**: the server requires a client certificate signed by the configured hospitals' CA; the
  certificate's common name is the hospital's fixmedins_code.
* **Token**: ``authorization: Bearer <token>``; the settings hold only the token's SHA-256, mapped
  to the hospital it stands for.
* **Development mode** (``onestop serve --dev``, which ``make run`` uses): a call without either
  names its hospital in ``x-onestop-hospital``. The server logs a loud warning at start.

Anything else is UNAUTHENTICATED. Tokens are never logged; a failed attempt logs only its kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from onestop.errors import Unauthenticated
from onestop.gateway.service import Caller

__all__ = ["DEV_HOSPITAL_HEADER", "Authenticator", "hash_token"]

#: Metadata key naming the hospital in development mode.
DEV_HOSPITAL_HEADER = "x-onestop-hospital"
_MAX_CODE = 50


def hash_token(token: str) -> str:
    """The SHA-256 hex of a bearer token, as the settings store it."""
    return hashlib.sha256(token.encode()).hexdigest()


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class Authenticator:
    """Turns a call's metadata and TLS peer into a :class:`Caller`, or refuses it.

    Args:
        tokens: SHA-256 hex of each token → hospital code.
        mtls: Client certificates identify hospitals (the server requires them).
        dev: Accept :data:`DEV_HOSPITAL_HEADER` from callers with no other proof.
    """

    def __init__(self, tokens: Mapping[str, str], *, mtls: bool = False, dev: bool = False) -> None:
        self._tokens = {bytes.fromhex(h): code for h, code in tokens.items()}
        self.mtls = mtls
        self.dev = dev

    def authenticate(
        self, metadata: Sequence[tuple[str, str | bytes]] | None, auth_context: Mapping[str, Any] | None
    ) -> Caller:
        """The calling hospital.

        Raises:
            Unauthenticated: No valid certificate, token or (in development mode) header.
        """
        md = {k.lower(): _text(v) for k, v in (metadata or ())}
        if self.mtls and auth_context:
            names = auth_context.get("x509_common_name") or ()
            if names:
                return self._caller(_text(names[0]), "certificate")
        header = md.get("authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("the authorization header is not 'Bearer <token>'", metadata={"auth": "token"})
            digest = hashlib.sha256(token.strip().encode()).digest()
            # A lookup by the token's hash: timing reveals nothing about a stored token.
            code = self._tokens.get(digest)
            if code is not None:
                return self._caller(code, "token")
            raise Unauthenticated("unknown token", metadata={"auth": "token"})
        if self.dev and md.get(DEV_HOSPITAL_HEADER):
            return self._caller(md[DEV_HOSPITAL_HEADER], "dev header")
        raise Unauthenticated(
            "no credentials: present a client certificate or 'authorization: Bearer <token>'",
            metadata={"auth": "none"},
        )

    @staticmethod
    def _caller(code: str, how: str) -> Caller:
        code = code.strip()
        if not code or len(code) > _MAX_CODE or not code.isprintable():
            raise Unauthenticated(f"the {how} does not name a hospital code", metadata={"auth": how})
        return Caller(hospital_code=code)
