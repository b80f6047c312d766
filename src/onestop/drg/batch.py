"""Group and pay a file of case rows, one result per row, each row on its own."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TextIO

from onestop.drg.api import group_with
from onestop.drg.case import Case
from onestop.drg.csvio import RowError, missing_columns, parse_case_row
from onestop.drg.payment import Payment, pay
from onestop.drg.registry import settings_for
from onestop.drg.result import GroupResult, GroupStatus
from onestop.drg.settings import DrgSettings
from onestop.errors import InvalidRequest, NoGrouper

__all__ = ["BatchRow", "group_csv"]


@dataclass(frozen=True, slots=True)
class BatchRow:
    """The answer for one input row."""

    line: int
    result: GroupResult
    payment: Payment | None


_ROW_FAULTS = (GroupStatus.INVALID, GroupStatus.MISSING_DATA, GroupStatus.SEX_CONFLICT)


def _bare(case_id: str, status: GroupStatus, reason: str) -> GroupResult:
    return GroupResult(case_id, "", status, "", "", "", "", None, "", reason, (reason,))


def group_csv(
    stream: TextIO,
    *,
    source: str = "<input>",
    region: str | None = None,
    on: dt.date | None = None,
) -> Iterator[BatchRow]:
    """Group and pay every row of a case CSV.

    The grouper of each row is chosen by its ``region`` and ``discharge_date`` (else ``region`` / ``on``).
    A malformed row answers ``invalid`` and one with no grouper configured answers ``no_grouper``; the
    other rows go on.

    Raises:
        InvalidRequest: The header lacks required columns (nothing is grouped).
    """
    reader = csv.DictReader(stream)
    absent = missing_columns(list(reader.fieldnames or ()))
    if absent:
        raise InvalidRequest(f"{source}: header lacks required columns {', '.join(absent)}")
    cache: dict[tuple[str, dt.date], DrgSettings | NoGrouper] = {}
    width = len(reader.fieldnames or ())
    for row in reader:
        line = reader.line_num
        # DictReader files surplus fields under None and fills missing ones with None: a row of the wrong
        # width is malformed (a comma inside a code, a cut line), not a case with empty fields.
        fields = width + len(row.get(None) or ()) - sum(1 for k, v in row.items() if k is not None and v is None)
        if fields != width:
            case_id = str(row.get("case_id") or "")
            why = f"invalid: line {line}: {fields} fields, the header has {width}"
            yield BatchRow(line, _bare(case_id, GroupStatus.INVALID, why), None)
            continue
        try:
            case = parse_case_row(row, line)
        except RowError as exc:
            yield BatchRow(line, _bare(exc.case_id, GroupStatus.INVALID, f"invalid: {exc.message}"), None)
            continue
        yield _one(case, line, region, on, cache)


def _one(
    case: Case,
    line: int,
    region: str | None,
    on: dt.date | None,
    cache: dict[tuple[str, dt.date], DrgSettings | NoGrouper],
) -> BatchRow:
    where = case.region or region
    when = case.discharge_date or on
    if where is None or when is None:
        missing = [n for n, v in (("region", where), ("discharge_date", when)) if v is None]
        why = f"missing data: line {line}: {', '.join(missing)} needed to choose the grouper"
        return BatchRow(line, _bare(case.case_id, GroupStatus.MISSING_DATA, why), None)
    key = (where, when)
    if key not in cache:
        try:
            cache[key] = settings_for(where, when)
        except NoGrouper as exc:
            cache[key] = exc
    settings = cache[key]
    if isinstance(settings, NoGrouper):
        return BatchRow(line, _bare(case.case_id, GroupStatus.NO_GROUPER, settings.message), None)
    result = group_with(case, settings)
    if result.status in _ROW_FAULTS and f"line {line}" not in result.reason:
        # The grouper knows codes, not files: the batch says on which line the refused case stands.
        head, sep, rest = result.reason.partition(": ")
        detail = rest if sep and head == result.status.value else result.reason
        result = replace(result, reason=f"{result.status.value}: line {line}: {detail}")
    return BatchRow(line, result, pay(result, case, settings))
