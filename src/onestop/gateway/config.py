"""How a gateway is put together: database, catalogs, policies, payers and fund routes.

Fund legs go to the local engine unless ``fund_routes`` names a channel for the leg kind, e.g.
``{"basic": "nhsa-platform", "work_injury": "work-injury"}``; the channel instance is then taken
from ``channels``, or built at open by ``channel_factories[name](state_store)`` for channels that
keep a journal in the gateway's database (``nhsa-platform``). Commercial legs go to ``insurers`` by
the coverage's payer name; a coverage whose payer is not configured is declined with
``PAYER_NOT_CONFIGURED`` (the patient pays that part).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onestop.errors import ConfigError, FieldViolation
from onestop.gateway.store.sealing import Sealer, dev_key, new_key, parse_keys
from onestop.sdk import SYSTEM_CLOCK, CallPolicy, Channel, Clock, Insurer, StateStore

__all__ = [
    "DATABASE_URL_ENV",
    "DATA_DIR_ENV",
    "DATA_KEY_ENV",
    "FUND_LEG_KINDS",
    "PSEUDONYM_KEY_ENV",
    "GatewayConfig",
    "data_sealer",
    "sqlite_url",
]

#: Environment variable with the database URL (``postgresql+psycopg://…`` or ``sqlite:///…``).
DATABASE_URL_ENV = "ONESTOP_DATABASE_URL"
#: Environment variable with the secret key that pseudonymises member ids (export, accumulators).
PSEUDONYM_KEY_ENV = "ONESTOP_PSEUDONYM_KEY"
#: Environment variable with the data key(s) that seal personal data at rest (base64 of 32 bytes; comma-separated
#: older keys after the current one still open what they sealed).
DATA_KEY_ENV = "ONESTOP_DATA_KEY"
#: Environment variable with the development data directory (where a generated data key is kept).
DATA_DIR_ENV = "ONESTOP_DATA_DIR"
#: Fund leg kinds that can be routed to a channel.
FUND_LEG_KINDS = frozenset({"basic", "work_injury", "maternity"})

PolicyLookup = Callable[[str, dt.date], Any]


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of an embedded SQLite database file."""
    return f"sqlite:///{Path(path)}"


def _default_policies(region: str, on: dt.date) -> Any:
    from onestop.policy import policy_for

    return policy_for(region, on)


@dataclass(frozen=True)
class GatewayConfig:
    """Everything :meth:`onestop.gateway.Gateway.open` needs.

    Attributes:
        database_url: SQLAlchemy URL; default an embedded SQLite file ``onestop.db`` in the working directory.
        pseudonym_key: Secret key of the member pseudonyms (keyed hash of psn_no). Never logged.
        insurers: Commercial adapters by payer name (instances, already configured).
        insurer_factories: Adapters that keep state: payer name → ``factory(state_store)``, called at open
            with the gateway's database-backed :class:`~onestop.sdk.StateStore`.
        channels: Fund channels by name (instances).
        channel_factories: Channels that keep state: channel name → ``factory(state_store)``, called at
            open with the gateway's database-backed :class:`~onestop.sdk.StateStore`.
        fund_routes: Leg kind (``basic``/``work_injury``/``maternity``) → channel name; absent = local engine.
        catalogs: The catalog view the engine prices with (default: the packaged catalogs).
        policies: ``(region, date) → RegionalPolicy`` (default: the packaged policies).
        call_policy: Timeouts per payer call.
        clock: Time source of the payer callers (tests pass a FakeClock).
        idempotency_retention: How long a stored answer is replayed for a repeated request id.
        recover_on_open: Re-drive intents left without an outcome when the gateway opens (right for one
            instance per database; with several, turn it off: maintenance takes intents past the lease).
        intent_lease: How long an intent may stay untouched before maintenance takes it as abandoned; far
            longer than any live settlement (its payer calls are bounded by ``call_policy``).
        today: The settle date of a settlement made now (default: today in China Standard Time).
        data_key: Key(s) sealing personal data at rest (``ONESTOP_DATA_KEY``: base64 of 32 random bytes;
            older keys after a comma). Never logged. Required with PostgreSQL unless ``data_dir`` is set.
        data_dir: Development only: without ``data_key``, a key is generated into a file here (default for
            SQLite: the database file's directory) and a warning is logged on every open.
    """

    database_url: str = "sqlite:///onestop.db"
    pseudonym_key: bytes = b""
    insurers: Mapping[str, Insurer] = field(default_factory=dict)
    insurer_factories: Mapping[str, Callable[[StateStore], Insurer]] = field(default_factory=dict)
    channels: Mapping[str, Channel] = field(default_factory=dict)
    channel_factories: Mapping[str, Callable[[StateStore], Channel]] = field(default_factory=dict)
    fund_routes: Mapping[str, str] = field(default_factory=dict)
    catalogs: Any = None
    policies: PolicyLookup = _default_policies
    call_policy: CallPolicy = field(default_factory=CallPolicy)
    clock: Clock = SYSTEM_CLOCK
    idempotency_retention: dt.timedelta = dt.timedelta(days=31)
    recover_on_open: bool = True
    intent_lease: dt.timedelta = dt.timedelta(minutes=5)
    today: Callable[[], dt.date] | None = None
    data_key: str = field(default="", repr=False)
    data_dir: Path | None = None

    def __post_init__(self) -> None:
        bad: list[FieldViolation] = []
        for kind, name in self.fund_routes.items():
            if kind not in FUND_LEG_KINDS:
                bad.append(FieldViolation(f"fund_routes.{kind}", f"not a fund leg kind ({sorted(FUND_LEG_KINDS)})"))
            elif name not in self.channels and name not in self.channel_factories:
                bad.append(FieldViolation(f"fund_routes.{kind}", f"channel {name!r} is not configured"))
        if self.intent_lease < dt.timedelta(seconds=30):
            bad.append(FieldViolation("intent_lease", "must be at least 30 seconds"))
        if self.idempotency_retention < dt.timedelta(hours=24):
            bad.append(FieldViolation("idempotency_retention", "must be at least 24 hours"))
        if not self.database_url:
            bad.append(FieldViolation("database_url", "is empty"))
        if self.data_key:
            try:
                parse_keys(self.data_key, field="data_key")
            except ConfigError as exc:
                bad.extend(exc.violations)
        if bad:
            raise ConfigError("invalid gateway configuration", violations=tuple(bad))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> GatewayConfig:
        """A configuration from ``ONESTOP_DATABASE_URL``, ``_PSEUDONYM_KEY``, ``_DATA_KEY``, ``_DATA_DIR`` plus overrides.

        Args:
            env: The environment to read (default ``os.environ``).
            **overrides: Any other field of :class:`GatewayConfig`.
        """
        e = os.environ if env is None else env
        values: dict[str, Any] = {}
        if e.get(DATABASE_URL_ENV):
            values["database_url"] = e[DATABASE_URL_ENV]
        if e.get(PSEUDONYM_KEY_ENV):
            values["pseudonym_key"] = e[PSEUDONYM_KEY_ENV].encode()
        if e.get(DATA_KEY_ENV):
            values["data_key"] = e[DATA_KEY_ENV]
        if e.get(DATA_DIR_ENV):
            values["data_dir"] = Path(e[DATA_DIR_ENV])
        values.update(overrides)
        return cls(**values)


def _sqlite_dir(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path == ":memory:":
        return None
    return Path(path).resolve().parent


def data_sealer(config: GatewayConfig) -> Sealer:
    """The sealer of personal data at rest for ``config``.

    ``data_key`` (else ``ONESTOP_DATA_KEY``) when set; else the development key file in ``data_dir``
    (else ``ONESTOP_DATA_DIR``, else beside an SQLite file),
    generated on first use and announced by a warning; an in-memory SQLite database gets a key that
    lives as long as the process (its data does too).

    Raises:
        ConfigError: PostgreSQL (or another server database) without ``data_key`` or ``data_dir``.
    """
    if config.data_key:
        return Sealer(parse_keys(config.data_key, field="data_key"))
    # A configuration built field by field (not by from_env) still honours the environment.
    if os.environ.get(DATA_KEY_ENV):
        return Sealer(parse_keys(os.environ[DATA_KEY_ENV]))
    env_dir = os.environ.get(DATA_DIR_ENV)
    where = config.data_dir or (Path(env_dir) if env_dir else None) or _sqlite_dir(config.database_url)
    if where is not None:
        return Sealer(parse_keys(dev_key(where), field=str(where)))
    if config.database_url.startswith("sqlite"):
        return Sealer(parse_keys(new_key()))
    raise ConfigError(
        "no data key to seal personal data with",
        violations=(FieldViolation(DATA_KEY_ENV, "must be set (or data_dir, for development only)"),),
    )
