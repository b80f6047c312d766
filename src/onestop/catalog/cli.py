"""``onestop catalog import|lookup|editions``: load CSV files into the catalog store and look entries up."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from onestop.catalog.csvformat import KINDS
from onestop.catalog.views import EntryView, LookupResult
from onestop.errors import InvalidRequest, NoEditionInForce, OnestopError

_KIND_CHOICES = sorted([*KINDS, "confidential"])


def _fail(exc: OnestopError, code: int = 1) -> None:
    click.echo(f"error: {exc.message}", err=True)
    if isinstance(exc, InvalidRequest):
        for v in exc.violations:
            click.echo(f"  {v.field}: {v.description}", err=True)
    sys.exit(code)


@click.group("catalog")
def catalog() -> None:
    """Effective-dated catalogs: import CSV files, look entries up, list editions."""


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", required=True, type=click.Choice(_KIND_CHOICES), help="What the file holds.")
@click.option("--url", help="Catalog store (SQLAlchemy URL); default sqlite under $ONESTOP_DATA_DIR or ./var.")
def import_(file: Path, kind: str, url: str | None) -> None:
    """Load FILE (CSV) into the catalog store: all rows, or none if any row is bad.

    Rows whose key is already stored are replaced. For --kind confidential the file is validated
    and its path recorded; the numbers are never copied into the store.
    """
    from onestop.catalog import CatalogSet
    from onestop.catalog.csvformat import read_csv
    from onestop.catalog.packaged import load_packaged
    from onestop.catalog.store import CatalogStore

    store = CatalogStore(url)
    try:
        if not store.seeded:
            store.seed(load_packaged())
        if kind == "confidential":
            rows = read_csv(file, kind)
            store.register_confidential(file)
            click.echo(f"{file}: {len(rows)} confidential rows valid; path registered (numbers not stored)")
            return
        rows = read_csv(file, kind, store.edition_kinds())
        replaced = store.replace_rows(kind, rows, check=CatalogSet)
    except OnestopError as exc:
        _fail(exc)
        return
    finally:
        store.close()
    click.echo(f"{file}: loaded {len(rows)} {kind} rows ({replaced} replaced) into {store.url}")


def _echo_entry(e: EntryView) -> None:
    tag = " [FIXTURE]" if e.fixture else ""
    code = e.national_code or "(no national code)"
    click.echo(f"{e.kind} {code} {e.name}{tag}")
    facts = [f"edition {e.edition}", e.section, f"{e.chrgitm_lv}类"]
    if e.dosage_form:
        facts.insert(1, e.dosage_form)
    if e.negotiated:
        facts.append("negotiated")
    if e.selfpay_ratio is not None:
        facts.append(f"先行自付 {e.selfpay_ratio}")
    click.echo("  " + " · ".join(f for f in facts if f))
    if e.remark:
        click.echo(f"  备注: {e.remark}")
    if e.restrictions:
        click.echo(f"  restrictions: {', '.join(e.restrictions)}")
    for s in e.standards:
        until = s.valid_to.isoformat() if s.valid_to else ""
        unit = f"/{s.unit}" if s.unit else ""
        spec = f" ({s.spec})" if s.spec else ""
        fixture = " [FIXTURE]" if s.fixture else ""
        click.echo(f"  standard {s.source}: {s.amount}{unit}{spec} region {s.region} {s.valid_from}..{until}{fixture}")
    if e.transition_until:
        click.echo(f"  transition: paid at the original standard until {e.transition_until}")
    flags = [n for n, on in (("双通道", e.dual_channel), ("两病", e.two_diseases)) if on]
    if flags:
        click.echo(f"  provincial lists: {', '.join(flags)}")
    if e.preparation:
        p = e.preparation
        groups = f", group use in {', '.join(p.groups)}" if p.group_approved else ""
        click.echo(f"  医疗机构制剂: producers {', '.join(p.producer_codes)}{groups}")
    if e.cidl:
        click.echo(f"  CIDL no. {e.cidl.no} ({e.cidl.matched_by}): not payable by the basic funds")
    for n in e.notes:
        click.echo(f"  note: {n}")


def _echo(result: LookupResult) -> None:
    click.echo(f"at {result.at} in region {result.region}")
    for ed in result.editions:
        until = ed.valid_to.isoformat() if ed.valid_to else ""
        tag = " [FIXTURE]" if ed.fixture else ""
        click.echo(f"  edition {ed.id}: {ed.title} ({ed.valid_from}..{until}){tag}")
    if not result.entries and not result.cidl:
        click.echo("not in catalog")
    for e in result.entries:
        _echo_entry(e)
    for c in result.cidl:
        car_t = ", CAR-T" if c.car_t else ""
        click.echo(
            f"CIDL no. {c.no} {c.name} ({c.brand}{car_t}) matched by {c.matched_by}: not payable by the basic funds"
        )


@catalog.command("lookup")
@click.option("--code", help="National code (drug, service, consumable, preparation).")
@click.option("--name", help="Generic or product name.")
@click.option("--form", help="Dosage form (with --name).")
@click.option("--at", "at", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="Date, YYYY-MM-DD.")
@click.option("--region", default="000000", show_default=True, help="admdvs whose provincial layer applies.")
@click.option("--url", help="Catalog store (SQLAlchemy URL); default sqlite under $ONESTOP_DATA_DIR or ./var.")
@click.option("--packaged", is_flag=True, help="Use the packaged data instead of a store.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def lookup(
    code: str | None,
    name: str | None,
    form: str | None,
    at: dt.datetime,
    region: str,
    url: str | None,
    packaged: bool,
    as_json: bool,
) -> None:
    """Print the entry and the standards in force on a date (confidential standards show "*")."""
    from onestop.catalog import default_catalogs, open_catalogs

    if (code is None) == (name is None):
        raise click.UsageError("give exactly one of --code or --name")
    if form is not None and name is None:
        raise click.UsageError("--form goes with --name")
    if len(region) != 6 or not region.isdigit():
        raise click.UsageError("--region must be a 6-digit admdvs code")
    try:
        cats = default_catalogs() if packaged else open_catalogs(url)
        result = cats.lookup(code=code, name=name, form=form, at=at.date(), region=region)
    except NoEditionInForce as exc:
        click.echo(f"no edition in force: {exc.message}")
        sys.exit(3)
    except OnestopError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(result.model_dump_json(indent=2))
    else:
        _echo(result)


@catalog.command("editions")
@click.option("--url", help="Catalog store (SQLAlchemy URL).")
@click.option("--packaged", is_flag=True, help="Use the packaged data instead of a store.")
def editions(url: str | None, packaged: bool) -> None:
    """List the loaded editions with their titles and periods in force."""
    from onestop.catalog import default_catalogs, open_catalogs

    cats = default_catalogs() if packaged else open_catalogs(url)
    for ed in cats.editions():
        until = ed.valid_to.isoformat() if ed.valid_to else ""
        tag = " [FIXTURE]" if ed.fixture else ""
        click.echo(f"{ed.kind:<12} {ed.id:<14} {ed.valid_from}..{until:<10} {ed.region} {ed.title}{tag}")
