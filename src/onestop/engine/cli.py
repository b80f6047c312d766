"""``onestop settle``: settle one bill JSON in-process and print the Settlement as JSON (fen)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from onestop.errors import InvalidRequest, OnestopError


def _fail(exc: OnestopError) -> None:
    click.echo(f"error: {exc}", err=True)
    if isinstance(exc, InvalidRequest):
        for v in exc.violations:
            click.echo(f"  {v.field}: {v.description}", err=True)
    sys.exit(2)


def _load_accumulators(path: Path | None) -> dict[str, int]:
    if path is None:
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in data.values()):
        raise InvalidRequest(f"{path}: accumulators must be a JSON object of key → integer fen")
    return {str(k): int(v) for k, v in data.items()}


def load_payers(path: Path | None) -> dict[str, Any]:
    """In-process payers from a YAML/JSON file: ``{payer_name: {products: [design.yaml, ...]}}``.

    Each product file is a 惠民保 design (``onestop.products``); the payer answers with the product
    whose code matches the coverage's ``product``. Member-year accumulators start empty.
    """
    if path is None:
        return {}
    import yaml

    from onestop import products

    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(spec, dict):
        raise InvalidRequest(f"{path}: expected a mapping of payer name → {{products: [...]}}")
    payers: dict[str, Any] = {}
    for name, conf in spec.items():
        files = (conf or {}).get("products", [])
        loaded = [products.load_product((path.parent / f) if not Path(f).is_absolute() else Path(f)) for f in files]
        payers[str(name)] = products.in_process_payer(str(name), loaded)
    return payers


@click.command("settle")
@click.argument("bill_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Regional policy YAML.",
)
@click.option("--region", help="Override the insured region (admdvs) whose packaged policy applies.")
@click.option("--accumulators", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="JSON: key → fen.")
@click.option("--payers", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="In-process payers YAML.")
def settle(
    bill_file: Path, policy_file: Path | None, region: str | None, accumulators: Path | None, payers: Path | None
) -> None:
    """Settle BILL_FILE (JSON) and print the Settlement as JSON, amounts in fen."""
    from onestop.catalog import default_catalogs
    from onestop.domain import parse_bill_json
    from onestop.engine import check_settlement
    from onestop.engine import settle as run
    from onestop.policy import load_policy, policy_for, treatment_policy_for

    try:
        bill = parse_bill_json(bill_file.read_bytes())
        if policy_file is not None:
            policy = load_policy(policy_file)
        else:
            policy = policy_for(region or bill.patient.insured_region, bill.visit.discharge_date)
        away = treatment_policy_for(bill.hospital.region, policy.admdvs, bill.visit.discharge_date)
        result = run(
            bill,
            default_catalogs(),
            policy,
            _load_accumulators(accumulators),
            load_payers(payers),
            treatment_policy=away,
        )
        check_settlement(result)
    except OnestopError as exc:
        _fail(exc)
        return
    click.echo(result.model_dump_json(indent=2))


@click.command("demo")
def demo() -> None:
    """Settle the example bills shipped with onestop and print them as a cashier reads them."""
    from onestop.engine._demo import run_demo

    run_demo()
