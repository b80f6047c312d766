"""``onestop adapter``: scaffold a new insurer adapter, list the installed ones."""

from __future__ import annotations

from pathlib import Path

import click

from onestop.errors import AdapterValidationError, InvalidRequest
from onestop.sdk._registry import load_adapters, load_channels
from onestop.sdk._scaffold import scaffold_adapter

__all__ = ["adapter"]


@click.group()
def adapter() -> None:
    """Insurer adapters and fund channels: scaffold, list."""


@adapter.command("new")
@click.argument("name")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True)
def new(name: str, parent: Path) -> None:
    """Create an installable adapter package NAME whose tests run the conformance kit."""
    try:
        target = scaffold_adapter(name, parent)
    except InvalidRequest as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"created {target}")
    click.echo(f"next: pip install -e {target} && pytest {target / 'tests'}")


@adapter.command("list")
@click.option("--block", multiple=True, help="Entry-point names not to load (repeatable).")
def list_(block: tuple[str, ...]) -> None:
    """List installed adapters and channels with their capabilities (each validated at load)."""
    try:
        adapters = load_adapters(blocked=block)
        channels = load_channels(blocked=block)
    except AdapterValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    for name, cls in adapters.items():
        caps = cls.capabilities
        flows = ",".join(sorted(f.value for f in caps.flows))
        cats = ",".join(sorted(c.value for c in caps.categories))
        click.echo(
            f"adapter {name}: flows={flows} categories={cats} detail={caps.detail.value} unit={caps.amount_unit.value}"
        )
    for name, ch in channels.items():
        flows = ",".join(sorted(f.value for f in ch.capabilities.flows))
        click.echo(f"channel {name}: flows={flows} legs={','.join(sorted(ch.capabilities.legs))}")
    if not adapters and not channels:
        click.echo("no adapters or channels installed")
