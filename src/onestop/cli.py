"""The ``onestop`` command. Each subpackage contributes one click group, registered here."""

from __future__ import annotations

import importlib

import click

# (module, attribute) of each subcommand; a subpackage that is not importable is skipped so a
# partial install still runs the rest.
_SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("onestop.catalog.cli", "catalog"),
    ("onestop.engine.cli", "settle"),
    ("onestop.engine.cli", "demo"),
    ("onestop.drg.cli", "drg"),
    ("onestop.sdk.cli", "adapter"),
    ("onestop.gateway.cli", "serve"),
    ("onestop.gateway.cli", "export"),
    ("onestop.gateway.cli", "queue"),
    ("onestop.simulator.cli", "simulate"),
)


@click.group()
@click.version_option(package_name="onestop")
def main() -> None:
    """onestop: one-stop medical settlement (basic, work injury, maternity, commercial)."""


for _mod, _attr in _SUBCOMMANDS:
    try:
        _cmd = getattr(importlib.import_module(_mod), _attr)
    except ModuleNotFoundError as _exc:
        if _exc.name is None or not _mod.startswith(_exc.name):
            raise
        continue
    main.add_command(_cmd)
