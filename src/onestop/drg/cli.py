"""``onestop drg group CASES.csv > RESULT.csv [--trace TRACE.jsonl]``."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import itertools
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import click

from onestop.drg.batch import group_csv
from onestop.drg.csvio import OUTPUT_COLUMNS, result_row
from onestop.errors import InvalidRequest

__all__ = ["drg"]


@click.group()
def drg() -> None:
    """DRG grouping and payment (CHS-DRG)."""


@contextlib.contextmanager
def _atomic(path: Path | None) -> Iterator[TextIO | None]:
    # The trace appears whole or not at all: written beside the target, renamed at the end.
    if path is None:
        yield None
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yield out
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@drg.command("group")
@click.argument("cases", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False, path_type=Path), help="Write JSON lines.")
@click.option("--region", default=None, help="Region (admdvs) for rows without one.")
@click.option("--date", "on", default=None, help="Discharge date (YYYY-MM-DD) for rows without one.")
def group_command(cases: Path, trace_path: Path | None, region: str | None, on: str | None) -> None:
    """Group and pay every case of CASES.csv; write the results as CSV to standard output.

    A malformed row is reported with its line number (status ``invalid``) and the other rows go on.
    """
    day = None
    if on:
        try:
            day = dt.date.fromisoformat(on)
        except ValueError:
            raise click.BadParameter(f"{on!r} is not a date (YYYY-MM-DD)", param_hint="--date") from None
    counts: Counter[str] = Counter()
    with cases.open(encoding="utf-8-sig", newline="") as stream, _atomic(trace_path) as trace:
        writer = csv.DictWriter(sys.stdout, fieldnames=OUTPUT_COLUMNS, lineterminator="\n")
        try:
            rows = group_csv(stream, source=str(cases), region=region, on=day)
            first = next(rows, None)
        except InvalidRequest as exc:
            raise click.ClickException(str(exc)) from None
        writer.writeheader()
        for item in itertools.chain([first] if first is not None else [], rows):
            counts[item.result.status.value] += 1
            writer.writerow(result_row(item.result, item.payment))
            if trace is not None:
                doc = {
                    "line": item.line,
                    "case_id": item.result.case_id,
                    "status": item.result.status.value,
                    "trace": [*item.result.trace, *(item.payment.trace if item.payment else ())],
                }
                trace.write(json.dumps(doc, ensure_ascii=False) + "\n")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    click.echo(f"{sum(counts.values())} cases: {summary or 'none'}", err=True)
