"""The gateway's commands: ``serve``, ``export`` (settled bills for the simulator) and ``queue``.

``onestop queue`` lists the resolver's entries, the manual queue by default.
"""

from __future__ import annotations

from pathlib import Path

import click

from onestop.errors import ConfigError
from onestop.gateway.auth import hash_token
from onestop.gateway.export import export_command as export

__all__ = ["export", "queue", "serve"]


@click.command("serve")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML settings file (ONESTOP_* variables and options override it).",
)
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 50051; 0 = a free port).")
@click.option("--workers", type=int, default=None, help="Processes serving the same port (SO_REUSEPORT).")
@click.option("--database-url", default=None, help="SQLAlchemy URL (default sqlite:///onestop.db).")
@click.option("--metrics-port", type=int, default=None, help="Serve Prometheus metrics on this port.")
@click.option("--log-level", default=None, type=click.Choice(["debug", "info", "warning", "error"]))
@click.option(
    "--example-insurer",
    "example_insurers",
    multiple=True,
    metavar="NAME",
    help="Configure the in-process example insurer under NAME (e.g. huiminbao); repeatable.",
)
@click.option("--dev", is_flag=True, default=None, help="DEVELOPMENT MODE: accept x-onestop-hospital, no auth.")
@click.option("--hash-token", "token", default=None, help="Print the settings hash of a bearer token and exit.")
def serve(
    config_path: Path | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    database_url: str | None,
    metrics_port: int | None,
    log_level: str | None,
    example_insurers: tuple[str, ...],
    dev: bool | None,
    token: str | None,
) -> None:
    """Run the settlement gateway (gRPC) until interrupted."""
    if token is not None:
        print(hash_token(token))
        return
    from onestop.gateway.server import serve as run
    from onestop.gateway.settings import InsurerSpec, load_settings

    try:
        settings = load_settings(
            config_path,
            host=host,
            port=port,
            workers=workers,
            database_url=database_url,
            metrics_port=metrics_port,
            log_level=log_level,
            dev=dev,
        )
        if example_insurers:
            extra = {n: InsurerSpec(adapter="example", config={"pay_ratio": "0.8"}) for n in example_insurers}
            settings = settings.model_copy(update={"insurers": {**settings.insurers, **extra}})
        run(settings)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


@click.command("queue")
@click.option(
    "--state",
    type=click.Choice(["manual", "open", "done", "all"]),
    default="manual",
    show_default=True,
    help="Which entries: manual (past the resolver's attempt budget: a person must close them), open, done, all.",
)
@click.option("--database-url", default=None, help="SQLAlchemy URL (default: ONESTOP_DATABASE_URL, then onestop.db).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
def queue(state: str, database_url: str | None, as_json: bool) -> None:
    """List the resolver's legs: what to cancel or reverse at which payer, by the gateway's reference.

    Exits 1 when listing the manual queue and it is not empty, so a cron job can alert on it.
    """
    from onestop.gateway.config import GatewayConfig
    from onestop.gateway.resolver import queue as entries
    from onestop.gateway.store import Store, connect, migrate

    config = GatewayConfig.from_env(None, **({"database_url": database_url} if database_url else {}))
    engine = connect(config.database_url)
    try:
        migrate(engine)
        found = entries(Store(engine), None if state == "all" else state)
    finally:
        engine.dispose()
    if as_json:
        for e in found:
            click.echo(e.model_dump_json())
    else:
        click.echo(f"{'state':<7} {'action':<8} {'payer':<16} {'kind':<12} {'attempts':>8}  reference / last error")
        for e in found:
            click.echo(
                f"{e.state:<7} {e.action:<8} {e.payer:<16} {e.kind:<12} {e.attempts:>8}  {e.reference}"
                + (f" / {e.last_error}" if e.last_error else "")
            )
        click.echo(f"{len(found)} entr{'y' if len(found) == 1 else 'ies'}", err=True)
    if state == "manual" and found:
        raise SystemExit(1)
