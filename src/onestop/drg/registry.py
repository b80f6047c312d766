"""Choosing a grouper by (region, scheme version, date), through one interface.

The regional policy in force for the region and date says which scheme and tables apply (its ``drg``
section). A pair with no such section — or a section not in force on that date, or for another scheme —
gets an explicit :class:`~onestop.errors.NoGrouper`, never a silent default. New schemes (CHS-DRG 2.0, city
variants, DIP) plug in as a :data:`SCHEMES` entry plus their tables.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Protocol

from onestop.drg.case import Case
from onestop.drg.grouper import SCHEME_CHS_DRG_11, ChsDrg11Grouper
from onestop.drg.result import GroupResult
from onestop.drg.settings import DrgSettings
from onestop.drg.tables import load_tables
from onestop.errors import NoGrouper, PolicyNotFound

__all__ = ["SCHEMES", "Grouper", "grouper_for", "grouper_for_settings", "settings_for"]


class Grouper(Protocol):
    """What every grouper offers: a scheme name, a label of its parameters, and a pure ``group``."""

    scheme: str
    label: str

    def group(self, case: Case) -> GroupResult:
        """Group one case."""
        ...


SCHEMES: dict[str, Callable[[str], Grouper]] = {
    SCHEME_CHS_DRG_11: lambda tables: ChsDrg11Grouper(load_tables(tables)),
}
"""Scheme name → factory taking the table-set name."""


@functools.cache
def _build(scheme: str, tables: str) -> Grouper:
    return SCHEMES[scheme](tables)


def grouper_for_settings(settings: DrgSettings) -> Grouper:
    """The grouper a region's DRG settings configure (built once per scheme and table set)."""
    return _build(settings.scheme, settings.tables)


def settings_for(region: str, on: dt.date, scheme: str | None = None) -> DrgSettings:
    """The DRG settings in force for a region on a discharge date.

    Args:
        region: Pooling region (admdvs, 6 digits).
        on: Discharge date.
        scheme: Only accept this scheme version (e.g. ``chs-drg-1.1``); None = whatever is configured.

    Raises:
        NoGrouper: No grouper is configured for this region/date (or not of ``scheme``).
    """
    from onestop.policy import policy_for  # the policy model imports this package's settings

    meta = {"region": region, "date": on.isoformat()}
    try:
        policy = policy_for(region, on)
    except PolicyNotFound as exc:
        raise NoGrouper(f"no grouper for region {region} on {on.isoformat()}: {exc}", metadata=meta) from exc
    settings = policy.drg
    if settings is None:
        raise NoGrouper(
            f"no grouper for region {region} on {on.isoformat()}: policy {policy.id} configures no DRG", metadata=meta
        )
    if not settings.in_force(on):
        raise NoGrouper(
            f"no grouper for region {region} on {on.isoformat()}: the DRG settings of policy {policy.id} are in force "
            f"from {settings.valid_from.isoformat()}"
            + (f" to {settings.valid_to.isoformat()}" if settings.valid_to else ""),
            metadata=meta,
        )
    if scheme is not None and scheme != settings.scheme:
        raise NoGrouper(
            f"no grouper {scheme} for region {region} on {on.isoformat()} (configured: {settings.scheme})",
            metadata=meta,
        )
    return settings


def grouper_for(region: str, on: dt.date, scheme: str | None = None) -> tuple[Grouper, DrgSettings]:
    """The grouper and DRG settings for a region, discharge date and (optionally) scheme version.

    Raises:
        NoGrouper: No grouper is configured for this region/date (or not of ``scheme``).
    """
    settings = settings_for(region, on, scheme)
    return grouper_for_settings(settings), settings
