"""Settings of ``onestop serve``: a YAML file, then ``ONESTOP_*`` environment variables, then options.

Example file::

    host: 0.0.0.0
    port: 50051
    workers: 2
    database_url: postgresql+psycopg://gateway@db/onestop
    tokens:                    # sha256 hex of each hospital's bearer token → its fixmedins_code
      9f86d081884c7d65...: H22010100001
    tls_cert: /etc/onestop/server.pem
    tls_key: /etc/onestop/server.key
    client_ca: /etc/onestop/hospitals-ca.pem   # mTLS: the client certificate's CN is the hospital code
    insurers:
      huiminbao: {adapter: example, config: {pay_ratio: "0.8"}}
      directpay: {adapter: directpay, config: {base_url: "https://insurer.example/api", ...}}
    channels:                  # fund channels (installed entry points of group onestop.channels)
      nhsa-platform: {adapter: nhsa-platform, config: {base_url: "https://fsi.example:8080", ...}}
    fund_routes:               # leg kind → channel; a kind not routed is settled by the local engine
      basic: nhsa-platform
    maintenance_interval_s: 300

Tokens are stored hashed (``onestop serve --hash-token``); a plaintext token never sits in a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from onestop.domain import violations_from
from onestop.errors import ConfigError, FieldViolation

__all__ = ["ENV_PREFIX", "EXAMPLE_ADAPTER", "ChannelSpec", "InsurerSpec", "ServeSettings", "load_settings"]

ENV_PREFIX = "ONESTOP_"
#: The adapter name of the in-process example insurer (pays a share of what it is offered).
EXAMPLE_ADAPTER = "example"

_SHA256_HEX = r"^[0-9a-f]{64}$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class InsurerSpec(_Model):
    """One commercial payer the gateway calls."""

    adapter: Annotated[str, Field(min_length=1)]
    """An installed adapter's entry-point name, or ``example`` for the in-process example insurer."""
    config: dict[str, Any] = Field(default_factory=dict)
    """The adapter's configuration (validated by the adapter's own ``Config`` model)."""


class ChannelSpec(_Model):
    """One fund channel the gateway settles fund legs through."""

    adapter: Annotated[str, Field(min_length=1)]
    """An installed channel's entry-point name (group ``onestop.channels``), e.g. ``nhsa-platform``."""
    config: dict[str, Any] = Field(default_factory=dict)
    """The channel's configuration (validated by the channel's own ``Config`` model)."""


class ServeSettings(_Model):
    """Everything one ``onestop serve`` needs."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 50051
    """0 picks a free port (one worker only)."""
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    """Processes serving the same port (SO_REUSEPORT)."""
    threads: Annotated[int, Field(ge=1, le=256)] = 16
    """Request threads per worker."""
    dev: bool = False
    """Development mode: unauthenticated calls name their hospital in ``x-onestop-hospital``."""
    database_url: str = "sqlite:///onestop.db"
    pseudonym_key: SecretStr = SecretStr("")
    data_key: SecretStr = SecretStr("")
    """Key(s) sealing personal data at rest (``ONESTOP_DATA_KEY``); required on PostgreSQL."""
    data_dir: Path | None = None
    """Development only: where a generated data key is kept when ``data_key`` is unset."""
    tokens: dict[Annotated[str, Field(pattern=_SHA256_HEX)], Annotated[str, Field(min_length=1, max_length=50)]] = (
        Field(default_factory=dict)
    )
    """sha256 hex of a bearer token → the hospital it authenticates."""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    """CA of the hospitals' client certificates: when set, every connection must present one (mTLS)."""
    max_message_bytes: Annotated[int, Field(ge=1024)] = 4 * 1024 * 1024
    """Largest request accepted; larger ones get RESOURCE_EXHAUSTED."""
    max_lines: Annotated[int, Field(ge=1, le=5000)] = 5000
    """Most lines a bill may have; more get RESOURCE_EXHAUSTED."""
    metrics_port: Annotated[int, Field(ge=0, le=65535)] | None = None
    """Prometheus metrics on this port (worker i uses port + i); none when unset."""
    insurers: dict[str, InsurerSpec] = Field(default_factory=dict)
    channels: dict[str, ChannelSpec] = Field(default_factory=dict)
    fund_routes: dict[str, str] = Field(default_factory=dict)
    """Fund leg kind (``basic``/``work_injury``/``maternity``) → a channel above; unrouted kinds use the local engine."""
    recover_on_open: bool = True
    """Finish interrupted settlements at start. Turn off when several instances share one database: then
    housekeeping takes intents untouched for five minutes, claimed so that one instance drives each."""
    maintenance_interval_s: Annotated[int, Field(ge=0)] = 300
    """Seconds between housekeeping passes (resolver, expired idempotency keys) in worker 0; 0 turns them off."""
    catalog_url: str | None = None
    """The catalog store the engine prices with (SQLAlchemy URL; what ``onestop catalog import`` loads);
    unset: the packaged catalogs."""
    log_level: str = "info"

    @property
    def tls(self) -> bool:
        """True when the server listens with TLS."""
        return self.tls_cert is not None and self.tls_key is not None


_ENV_FIELDS = {
    "HOST": "host",
    "PORT": "port",
    "WORKERS": "workers",
    "THREADS": "threads",
    "DATABASE_URL": "database_url",
    "PSEUDONYM_KEY": "pseudonym_key",
    "DATA_KEY": "data_key",
    "DATA_DIR": "data_dir",
    "TLS_CERT": "tls_cert",
    "TLS_KEY": "tls_key",
    "CLIENT_CA": "client_ca",
    "MAX_MESSAGE_BYTES": "max_message_bytes",
    "MAX_LINES": "max_lines",
    "METRICS_PORT": "metrics_port",
    "LOG_LEVEL": "log_level",
    "CATALOG_URL": "catalog_url",
}


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        field: env[ENV_PREFIX + key] for key, field in _ENV_FIELDS.items() if env.get(ENV_PREFIX + key)
    }
    tokens = env.get(ENV_PREFIX + "TOKENS", "")
    if tokens:
        # "hash:hospital,hash:hospital"
        out["tokens"] = dict(pair.split(":", 1) for pair in tokens.split(",") if ":" in pair)
    return out


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> ServeSettings:
    """Settings from a YAML file, then ``ONESTOP_*`` variables, then explicit overrides (None ignored).

    Raises:
        ConfigError: The file cannot be read or a value is invalid; names the file and the field.
    """
    where = str(path) if path is not None else "environment"
    doc: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(
                f"cannot read settings file {path}", violations=(FieldViolation(str(path), str(exc)),)
            ) from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(
                f"settings file {path} is not a mapping", violations=(FieldViolation(str(path), "expected a mapping"),)
            )
        doc.update(loaded or {})
    doc.update(_from_env(os.environ if env is None else env))
    doc.update({k: v for k, v in overrides.items() if v is not None})
    try:
        # JSON mode: numbers and paths given as text (environment, YAML) are read as such.
        return ServeSettings.model_validate_json(json.dumps(doc, default=str))
    except ValidationError as exc:
        bad = tuple(FieldViolation(f"{where}: {v.field}", v.description) for v in violations_from(exc))
        raise ConfigError(f"invalid settings ({where})", violations=bad) from None
