"""Export settled bills for the simulator: members, claims and claim lines, pseudonymised.

``onestop export --from DATE --to DATE --out FILE.csv|FILE.parquet`` writes three tables beside
``FILE``: ``<stem>.members.<ext>``, ``<stem>.claims.<ext>`` and ``<stem>.lines.<ext>`` (columns in
``docs/gateway-storage.md``). Members are keyed by a keyed hash of psn_no (the gateway's secret
pseudonym key); no name, certificate or psn_no leaves. A line priced against a confidential payment
standard is exported without quantity or unit price, so no standard can be derived. Files are
written to temporary names and renamed only when all three are complete.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from onestop.domain.bill import Bill
from onestop.domain.settlement import PayerKey, Settlement, SplitCategory
from onestop.errors import ConfigError, FieldViolation, InvalidRequest
from onestop.gateway.config import GatewayConfig, data_sealer
from onestop.gateway.models import SettlementStatus
from onestop.gateway.store import Store, connect, migrate
from onestop.gateway.store import schema as t

__all__ = ["CLAIM_COLUMNS", "LINE_COLUMNS", "MEMBER_COLUMNS", "export", "export_rows", "member_id"]

_REMAINING = tuple(c for c in SplitCategory if c is not SplitCategory.FUND)
MEMBER_COLUMNS = ("member_id", "insured_region", "insutype", "psn_type", "sex", "birth_year")
CLAIM_COLUMNS = (
    "settlement_id",
    "member_id",
    "hospital_code",
    "hospital_tier",
    "region",
    "insured_region",
    "insutype",
    "med_type",
    "settle_date",
    "admission_date",
    "discharge_date",
    "principal_diagnosis",
    "diagnoses",
    "medfee_sumamt_fen",
    "fund_paid_fen",
    "commercial_paid_fen",
    "account_paid_fen",
    "patient_cash_fen",
    *(f"remaining_{c.value}_fen" for c in _REMAINING),
    "line_detail",
)
LINE_COLUMNS = (
    "settlement_id",
    "feedetl_sn",
    "national_code",
    "name",
    "charge_category",
    "item_kind",
    "chrgitm_lv",
    "in_catalog",
    "cidl",
    "cidl_no",
    "standard_confidential",
    "quantity",
    "unit_price_fen",
    "amount_fen",
    "fund_fen",
    *(f"remaining_{c.value}_fen" for c in _REMAINING),
)


def member_id(key: bytes, psn_no: str) -> str:
    """The exported pseudonymous member id: HMAC-SHA256 of psn_no under the secret key."""
    return hmac.new(key, psn_no.encode(), hashlib.sha256).hexdigest()[:24]


def _rows(
    key: bytes, bill: Bill, s: Settlement, sid: str, day: dt.date
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    mid = member_id(key, bill.patient.psn_no)
    p = bill.patient
    member = {
        "member_id": mid,
        "insured_region": p.insured_region,
        "insutype": p.insutype.value,
        "psn_type": p.psn_type,
        "sex": p.sex.value,
        "birth_year": bill.visit.admission_date.year - p.age,
    }
    by_payer = {"fund": 0, "commercial": 0, "account": 0, "patient": 0}
    remaining = dict.fromkeys(_REMAINING, 0)
    bill_lines = {ln.feedetl_sn: ln for ln in bill.lines}
    lines = []
    for ln in s.lines:
        fund = 0
        left = dict.fromkeys(_REMAINING, 0)
        for a in ln.allocations:
            if PayerKey.is_fund(a.payer) or a.payer == PayerKey.EMPLOYER:
                fund += a.amount_fen
                by_payer["fund"] += a.amount_fen
                continue
            group = "commercial" if a.payer.startswith("commercial:") else a.payer
            by_payer[group if group in by_payer else "patient"] += a.amount_fen
            if a.category in remaining:
                remaining[a.category] += a.amount_fen
                left[a.category] += a.amount_fen
        src = bill_lines.get(ln.feedetl_sn)
        conf = ln.standard_confidential
        lines.append(
            {
                "settlement_id": sid,
                "feedetl_sn": ln.feedetl_sn,
                "national_code": ln.national_code,
                "name": ln.name,
                "charge_category": ln.charge_category.value,
                "item_kind": ln.item_kind.value,
                "chrgitm_lv": ln.chrgitm_lv.value,
                "in_catalog": ln.in_catalog,
                "cidl": ln.cidl_no is not None,
                "cidl_no": ln.cidl_no,
                "standard_confidential": conf,
                # Quantity and unit price would let a reader derive a confidential standard.
                "quantity": None if conf or src is None else format(src.quantity, "f"),
                "unit_price_fen": None if conf or src is None else _unit_price(src),
                "amount_fen": int(ln.amount_fen),
                "fund_fen": fund,
                # What the line left after the funds, by category: what a product is offered on it.
                **{f"remaining_{c.value}_fen": left[c] for c in _REMAINING},
            }
        )
    v = bill.visit
    claim = {
        "settlement_id": sid,
        "member_id": mid,
        "hospital_code": bill.hospital.code,
        "hospital_tier": bill.hospital.tier,
        "region": bill.hospital.region,
        "insured_region": p.insured_region,
        "insutype": p.insutype.value,
        "med_type": v.med_type.value,
        "settle_date": day.isoformat(),
        "admission_date": v.admission_date.isoformat(),
        "discharge_date": v.discharge_date.isoformat(),
        "principal_diagnosis": v.diagnoses[0].code if v.diagnoses else "",
        # Every diagnosis, principal first: a product's pre-existing exclusion looks at all of them.
        "diagnoses": ";".join(d.code for d in v.diagnoses),
        "medfee_sumamt_fen": int(s.totals.medfee_sumamt),
        "fund_paid_fen": by_payer["fund"],
        "commercial_paid_fen": by_payer["commercial"],
        "account_paid_fen": by_payer["account"],
        "patient_cash_fen": by_payer["patient"],
        **{f"remaining_{c.value}_fen": remaining[c] for c in _REMAINING},
        # A product sees lines only with the patient's consent; a bill without coverage had nobody to
        # refuse, so a design replayed over it is offered the lines.
        "line_detail": all(c.consent_line_detail for c in bill.coverages) if bill.coverages else True,
    }
    return member, claim, lines


def _unit_price(line: Any) -> int | None:
    price = getattr(line, "unit_price_fen", None)
    if price is not None:
        return int(price)
    up = getattr(line, "unit_price", None)
    return None if up is None else int((up * 100).to_integral_value())


def export_rows(
    store: Store, key: bytes, date_from: dt.date, date_to: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Members, claims and lines of the SETTLED settlements whose settle date is in the range."""
    s = t.settlements.c
    q = (
        select(s.settlement_id, s.settle_date, s.bill_json, s.settlement_json)
        .where(s.status == SettlementStatus.SETTLED.value, s.settle_date >= date_from, s.settle_date <= date_to)
        .order_by(s.settle_date, s.settlement_id)
    )
    members: dict[str, dict[str, Any]] = {}
    claims: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    with store.read() as conn:
        for row in conn.execute(q):
            bill = Bill.model_validate_json(store.open_bill(row.settlement_id, row.bill_json))
            settlement = Settlement.model_validate_json(row.settlement_json)
            m, c, ls = _rows(key, bill, settlement, row.settlement_id, row.settle_date)
            members.setdefault(m["member_id"], m)
            claims.append(c)
            lines.extend(ls)
    return [members[k] for k in sorted(members)], claims, lines


def _targets(out: Path) -> tuple[str, list[Path]]:
    ext = out.suffix.lower().lstrip(".")
    if ext not in ("csv", "parquet"):
        raise InvalidRequest(
            "unsupported export format", violations=(FieldViolation("out", "must end in .csv or .parquet"),)
        )
    stem = out.with_suffix("")
    return ext, [Path(f"{stem}.{part}.{ext}") for part in ("members", "claims", "lines")]


def _write(path: Path, ext: str, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    if ext == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(columns))
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if r[k] is None else r[k]) for k in columns})
        return
    try:
        import polars as pl
    except ModuleNotFoundError:
        raise ConfigError("Parquet export needs polars: pip install 'onestop[sim]'") from None
    pl.DataFrame(rows or None, schema=None if rows else list(columns)).select(list(columns)).write_parquet(path)


def export(config: GatewayConfig, date_from: dt.date, date_to: dt.date, out: Path) -> list[Path]:
    """Write the three export tables; all or nothing.

    Returns:
        The files written (members, claims, lines).

    Raises:
        InvalidRequest: An unsupported file extension, a reversed date range, or no pseudonym key.
    """
    if date_from > date_to:
        raise InvalidRequest("invalid range", violations=(FieldViolation("from", "is after --to"),))
    if not config.pseudonym_key:
        raise ConfigError(
            "no pseudonym key", violations=(FieldViolation("ONESTOP_PSEUDONYM_KEY", "must be set to export"),)
        )
    ext, paths = _targets(out)
    sealer = data_sealer(config)
    engine = connect(config.database_url)
    try:
        migrate(engine)
        members, claims, lines = export_rows(Store(engine, sealer), config.pseudonym_key, date_from, date_to)
    finally:
        engine.dispose()
    tmp = [p.with_name(f".{p.name}.{os.getpid()}.tmp") for p in paths]
    try:
        for path, cols, rows in zip(
            tmp, (MEMBER_COLUMNS, CLAIM_COLUMNS, LINE_COLUMNS), (members, claims, lines), strict=True
        ):
            _write(path, ext, cols, rows)
        for a, b in zip(tmp, paths, strict=True):
            a.replace(b)
    finally:
        for p in tmp:
            p.unlink(missing_ok=True)
    return paths


def _iter_paths(paths: Sequence[Path]) -> Iterator[str]:
    yield from (str(p) for p in paths)


@click.command("export")
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First settle date.")
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last settle date.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.csv or FILE.parquet")
@click.option("--database-url", default=None, help="SQLAlchemy URL (default: ONESTOP_DATABASE_URL, then onestop.db).")
def export_command(date_from: dt.datetime, date_to: dt.datetime, out: Path, database_url: str | None) -> None:
    """Export settled bills and lines (pseudonymised) for the simulator."""
    try:
        config = GatewayConfig.from_env(None, **({"database_url": database_url} if database_url else {}))
        paths = export(config, date_from.date(), date_to.date(), out)
    except InvalidRequest as exc:
        raise click.UsageError(str(exc)) from None
    for p in _iter_paths(paths):
        click.echo(p)
