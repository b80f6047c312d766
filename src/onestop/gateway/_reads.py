"""Reads: one settlement, a page of them, and the day's reconciliation totals."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, select

from onestop import errors
from onestop.domain.settlement import PayerKey, Settlement
from onestop.errors import (
    InvalidRequest,
)
from onestop.gateway._base import _MAX_PAGE, Caller, GatewayBase, _Leg
from onestop.gateway.models import (
    ReconcileDetail,
    ReconcileLine,
    ReconcileReport,
    SettlementPage,
    SettlementRecord,
    SettlementStatus,
)
from onestop.gateway.store import schema as t
from onestop.money import Fen

__all__ = ["Reading"]


def _detail(row: Any, settlement: Settlement, kind: str) -> ReconcileDetail:
    """One settlement of the day as the hospital's ledger should hold it."""
    t_ = settlement.totals
    return ReconcileDetail(
        settlement_id=row.settlement_id,
        mdtrt_id=row.mdtrt_id,
        insutype=row.insutype,
        kind=kind,
        medfee_sumamt=Fen(int(row.medfee_sumamt)),
        fund_fen=Fen(t_.basic_fund_fen + t_.work_injury_fund_fen + t_.maternity_fund_fen + t_.employer_fen),
        account_fen=t_.account_fen,
        commercial_fen=t_.commercial_fen,
        patient_cash_fen=t_.final_patient_cash_fen,
    )


class Reading(GatewayBase):
    """Get, list and reconcile (see :class:`onestop.gateway.Gateway`)."""

    # -- reads ------------------------------------------------------------------------------------

    def _record(self, conn: Connection, row: Row[Any]) -> SettlementRecord:
        m = row._mapping
        legs = [_Leg.from_row(r) for r in self.store.legs(conn, m["settlement_id"])]
        sj = m["settlement_json"]
        return SettlementRecord(
            settlement_id=m["settlement_id"],
            hospital_code=m["hospital_code"],
            request_id=m["request_id"],
            status=SettlementStatus(m["status"]),
            created_at=m["created_at"],
            settle_date=m["settle_date"],
            mdtrt_id=m["mdtrt_id"],
            medfee_sumamt=Fen(int(m["medfee_sumamt"])),
            settlement=Settlement.model_validate_json(sj) if sj else None,
            legs=tuple(leg.outcome() for leg in legs),
            error_reason=m["error_reason"],
        )

    def get(self, caller: Caller, settlement_id: str) -> SettlementRecord:
        """One settlement of the caller's hospital.

        Raises:
            NotFound: No such settlement for this hospital (another hospital's looks the same).
        """
        self._own_row(caller, settlement_id)
        with self.store.read() as conn:
            row = self.store.settlement(conn, settlement_id)
            assert row is not None
            return self._record(conn, row)

    def list(
        self, caller: Caller, date_from: dt.date, date_to: dt.date, page_size: int, page_token: str
    ) -> SettlementPage:
        """The caller's settlements whose settle date falls in ``[date_from, date_to]``, oldest first.

        Raises:
            InvalidRequest: A page size out of 0–500, a malformed page token, or ``date_from > date_to``.
        """
        bad = []
        if not 0 <= page_size <= _MAX_PAGE:
            bad.append(errors.FieldViolation("page_size", f"must be 0 to {_MAX_PAGE}"))
        if date_from > date_to:
            bad.append(errors.FieldViolation("date_from", "is after date_to"))
        after: tuple[dt.date, str] | None = None
        if page_token:
            try:
                d, _, sid = base64.urlsafe_b64decode(page_token.encode()).decode().partition("|")
                after = (dt.date.fromisoformat(d), sid)
            except (ValueError, UnicodeDecodeError):
                bad.append(errors.FieldViolation("page_token", "is not a token this service issued"))
        if bad:
            raise InvalidRequest("invalid list request", violations=tuple(bad))
        size = page_size or 50
        s = t.settlements.c
        q = select(t.settlements).where(
            s.hospital_code == caller.hospital_code, s.settle_date >= date_from, s.settle_date <= date_to
        )
        if after is not None:
            q = q.where((s.settle_date > after[0]) | ((s.settle_date == after[0]) & (s.settlement_id > after[1])))
        q = q.order_by(s.settle_date, s.settlement_id).limit(size + 1)
        with self.store.read() as conn:
            rows = list(conn.execute(q))
            items = tuple(self._record(conn, r) for r in rows[:size])
        token = ""
        if len(rows) > size:
            last = items[-1]
            token = base64.urlsafe_b64encode(f"{last.settle_date.isoformat()}|{last.settlement_id}".encode()).decode()
        return SettlementPage(items=items, next_page_token=token)

    def reconcile(self, caller: Caller, day: dt.date) -> ReconcileReport:
        """Totals per payer and insutype of the caller's settlements made on ``day``, less reversals that day."""
        s = t.settlements.c
        r = t.reversals.c
        with self.store.read() as conn:
            settled = list(
                conn.execute(
                    select(s.settlement_id, s.mdtrt_id, s.insutype, s.medfee_sumamt, s.settlement_json).where(
                        s.hospital_code == caller.hospital_code,
                        s.settle_date == day,
                        s.status.in_((SettlementStatus.SETTLED.value, SettlementStatus.REVERSED.value)),
                    )
                )
            )
            reversed_rows = list(
                conn.execute(
                    select(s.settlement_id, s.mdtrt_id, s.insutype, s.medfee_sumamt, s.settlement_json)
                    .join(t.reversals, r.settlement_id == s.settlement_id)
                    .where(
                        s.hospital_code == caller.hospital_code,
                        r.status == "done",
                        r.reverse_date == day,
                    )
                )
            )
        acc: dict[tuple[str, str], list[int]] = {}
        details: list[ReconcileDetail] = []

        def add(rows: Sequence[Any], col: int) -> None:
            for row in rows:
                settlement = Settlement.model_validate_json(row.settlement_json)
                details.append(_detail(row, settlement, "settled" if col == 0 else "reversed"))
                per: dict[str, int] = {}
                for ln in settlement.lines:
                    for a in ln.allocations:
                        if a.payer != PayerKey.PATIENT and a.amount_fen:
                            per[a.payer] = per.get(a.payer, 0) + a.amount_fen
                for payer, fen in per.items():
                    cell = acc.setdefault((payer, row.insutype), [0, 0, 0, 0])
                    cell[col] += 1
                    cell[col + 1] += fen

        add(settled, 0)
        add(reversed_rows, 2)
        lines = tuple(
            ReconcileLine(
                payer=payer,
                insutype=ins,
                settled_count=v[0],
                settled_fen=Fen(v[1]),
                reversed_count=v[2],
                reversed_fen=Fen(v[3]),
                net_fen=Fen(v[1] - v[3]),
            )
            for (payer, ins), v in sorted(acc.items())
        )
        return ReconcileReport(
            hospital_code=caller.hospital_code,
            day=day,
            count=len(settled),
            medfee_sumamt=Fen(sum(int(x.medfee_sumamt) for x in settled)),
            lines=lines,
            settlement_ids=tuple(sorted(x.settlement_id for x in settled)),
            details=tuple(sorted(details, key=lambda d: (d.kind != "settled", d.settlement_id))),
        )
