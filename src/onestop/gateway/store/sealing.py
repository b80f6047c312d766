"""Personal data at rest: the stored bill is sealed with AES-256-GCM under the gateway's data key.

``settlements.bill_json`` holds the whole bill (name, certificate number, psn_no) because recovery
re-drives from it and a channel reversal needs it. It is stored as ``osk1:<key id>:<base64url(nonce
‖ ciphertext ‖ tag)>``, with the settlement id as associated data, so a sealed bill cannot be
moved to another row unnoticed. The key comes from ``ONESTOP_DATA_KEY`` (base64 of 32 random
bytes; several, comma-separated, for rotation: the first seals, every one opens). Without one, a
development key is generated once into a file in the data directory and a warning says so on
every open. Rows written before sealing (plain JSON) still open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from onestop.errors import ConfigError, FieldViolation, OnestopError

__all__ = ["DEV_KEY_FILE", "PREFIX", "Sealer", "dev_key", "new_key", "parse_keys"]

#: Marks a sealed value (version 1: AES-256-GCM, 96-bit random nonce).
PREFIX = "osk1"
#: Name of the generated development key file in the data directory.
DEV_KEY_FILE = "onestop-data.key"
_KEY_BYTES = 32
_NONCE_BYTES = 12

_log = structlog.get_logger("onestop.gateway")


def new_key() -> str:
    """A fresh data key in the form ``ONESTOP_DATA_KEY`` takes (base64 of 32 random bytes)."""
    return base64.b64encode(os.urandom(_KEY_BYTES)).decode()


def parse_keys(text: str, *, field: str = "ONESTOP_DATA_KEY") -> tuple[bytes, ...]:
    """Decode ``key[,older key…]``.

    Raises:
        ConfigError: A part is not base64 of exactly 32 bytes (names ``field`` and the part's position).
    """
    keys: list[bytes] = []
    for pos, part in enumerate(p.strip() for p in text.split(",")):
        raw = b""
        for decode in (base64.standard_b64decode, base64.urlsafe_b64decode):
            try:
                raw = decode(part.encode())
                break
            except (binascii.Error, ValueError):
                continue
        if len(raw) != _KEY_BYTES:
            raise ConfigError(
                "invalid data key",
                violations=(FieldViolation(field, f"key {pos + 1}: must be base64 of {_KEY_BYTES} random bytes"),),
            )
        keys.append(raw)
    return tuple(keys)


def dev_key(data_dir: Path) -> str:
    """The development data key kept in ``data_dir`` (generated on first use, readable by the owner only)."""
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(new_key() + "\n")
        try:
            # link, not rename: a second process generating at the same moment keeps the first key
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    _log.warning(
        "gateway.dev_data_key",
        path=str(path),
        message="personal data is sealed with a generated development key kept beside the data; "
        "set ONESTOP_DATA_KEY in production",
    )
    return path.read_text(encoding="ascii").strip()


class Sealer:
    """Seals and opens stored personal data.

    Args:
        keys: Raw 32-byte keys; the first seals, each opens what it sealed.
    """

    def __init__(self, keys: Sequence[bytes]) -> None:
        """Keep the keys by their id."""
        if not keys:
            raise ConfigError("no data key", violations=(FieldViolation("ONESTOP_DATA_KEY", "is empty"),))
        self._by_id = {self.key_id(k): AESGCM(k) for k in keys}
        self._current = self.key_id(keys[0])

    @staticmethod
    def key_id(key: bytes) -> str:
        """A short public id of a key (names the key a value was sealed with, reveals nothing of it)."""
        return hashlib.sha256(b"onestop-data-key\x00" + key).hexdigest()[:8]

    def seal(self, plaintext: str, *, context: str) -> str:
        """Encrypt ``plaintext`` bound to ``context`` (e.g. the settlement id)."""
        nonce = os.urandom(_NONCE_BYTES)
        ct = self._by_id[self._current].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}:{self._current}:{base64.urlsafe_b64encode(nonce + ct).decode()}"

    def open(self, stored: str, *, context: str) -> str:
        """Decrypt a sealed value (a plain value written before sealing is returned as it is).

        Raises:
            OnestopError: Sealed with a key that is not configured, altered, or moved from another ``context``.
        """
        if not stored.startswith(PREFIX + ":"):
            return stored
        _, kid, body = stored.split(":", 2)
        aead = self._by_id.get(kid)
        if aead is None:
            raise OnestopError(
                f"{context}: sealed with data key {kid}, which is not configured (add it to ONESTOP_DATA_KEY "
                "after a comma)",
                metadata={"key_id": kid},
            )
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
        except InvalidTag:
            raise OnestopError(f"{context}: the sealed value does not open (altered or moved)") from None
