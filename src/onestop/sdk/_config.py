"""Adapter configuration: a declared pydantic model whose secrets are ``SecretStr``, never logged."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

__all__ = ["AdapterConfig", "redact_secrets"]

_MASK = "**********"


class AdapterConfig(BaseModel):
    """Base of every adapter's and channel's configuration.

    Subclass it and declare the settings; anything secret (API keys, signing keys, SM2 private keys)
    is a ``SecretStr`` so it prints as ``**********`` in reprs, errors and logs::

        class Config(AdapterConfig):
            base_url: str
            app_id: str
            app_secret: SecretStr
            timeout_s: float = 5.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


def _mask(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return _MASK
    if isinstance(value, BaseModel):
        return {k: _mask(v) for k, v in value if not isinstance(v, SecretStr)} | {
            k: _MASK for k, v in value if isinstance(v, SecretStr)
        }
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_mask(v) for v in value)
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor that masks every ``SecretStr`` (also inside configs and containers).

    The SDK never logs configs or payloads; this processor is the second belt, for hosts that add
    their own fields. Put it first in the processor chain.
    """
    for key, value in list(event_dict.items()):
        event_dict[key] = _mask(value)
    return event_dict
