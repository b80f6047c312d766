"""``onestop demo``: settle the example bills with the packaged catalogs and print cashier receipts."""

from __future__ import annotations

from pathlib import Path

import click

from onestop.errors import OnestopError


def run_demo(directory: Path = Path("examples/bills")) -> None:
    """Settle every ``*.json`` bill in ``directory`` in-process and print what the cashier reads."""
    from onestop.catalog import default_catalogs
    from onestop.domain import parse_bill_json
    from onestop.engine import check_settlement, receipt, settle
    from onestop.policy import policy_for
    from onestop.products import in_process_payer, shipped_designs

    bills = sorted(directory.glob("*.json"))
    if not bills:
        raise click.ClickException(f"no example bills in {directory} (run from the repository root)")
    catalogs = default_catalogs()
    # The shipped 惠民保 designs answer as payer ``huiminbao`` (the CAR-T example names the Heilongjiang upgraded plan).
    payers = {"huiminbao": in_process_payer("huiminbao", shipped_designs().values())}
    for path in bills:
        click.echo(f"\n=== {path.name}")
        try:
            bill = parse_bill_json(path.read_bytes())
            result = settle(
                bill, catalogs, policy_for(bill.patient.insured_region, bill.visit.discharge_date), payers=payers
            )
            check_settlement(result)
        except OnestopError as exc:
            click.echo(f"refused: {exc}")
            continue
        click.echo(receipt(result))
