"""Queries of the gateway's tables, each on a connection the caller's transaction owns.

The service decides the transaction boundaries (see ``docs/gateway-storage.md``); the functions here
only read and write rows. Upserts use each dialect's ``ON CONFLICT`` so an accumulator increment is
one statement and never a read-modify-write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from onestop.gateway.store import schema as t
from onestop.gateway.store.sealing import Sealer
from onestop.gateway.store.writer import WriterQueue

__all__ = ["KeyRow", "Store", "utcnow"]


def utcnow() -> dt.datetime:
    """Now, UTC, without tzinfo (how timestamps are stored on both backends)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# The hot statements are built once: a reused statement object keeps its cache key, so each execution
# finds its compiled form in the engine's cache instead of building and hashing a new clause tree.
# Bound names start with ``b_`` where a column of the same name is written by the statement.
_k, _s, _l, _a, _p, _j = (
    t.idempotency_keys.c,
    t.settlements.c,
    t.legs.c,
    t.accumulators.c,
    t.person_locks.c,
    t.accumulator_journal.c,
)
_SEL_KEY = select(_k.operation, _k.fingerprint, _k.settlement_id, _k.state, _k.response_json, _k.created_at).where(
    _k.hospital_code == bindparam("b_hospital"), _k.request_id == bindparam("b_request")
)
_INS_KEY = t.idempotency_keys.insert()
_DONE_KEY = update(t.idempotency_keys).where(
    _k.hospital_code == bindparam("b_hospital"), _k.request_id == bindparam("b_request")
)
_INS_SETTLEMENT = t.settlements.insert()
_UPD_SETTLEMENT = update(t.settlements).where(_s.settlement_id == bindparam("b_sid"))
_SEL_SETTLEMENT = select(t.settlements).where(_s.settlement_id == bindparam("b_sid"))
_INS_LEGS = t.legs.insert()
_UPD_LEG = update(t.legs).where(_l.reference == bindparam("b_reference"))
_SEL_LEGS = select(t.legs).where(_l.settlement_id == bindparam("b_sid")).order_by(_l.seq)
_INS_LINES = t.lines.insert()
_INS_CALL = t.adapter_calls.insert()
_SEL_ACC = select(_a.acc_key, _a.value_fen).where(_a.person_ref == bindparam("b_person"))
_SEL_JOURNAL = select(_j.operation).where(_j.operation == bindparam("b_operation")).limit(1)
_INS_JOURNAL = t.accumulator_journal.insert()
_SEL_HOLDERS = (
    select(_p.holder)
    .where(_p.person_ref == bindparam("b_person"), _p.year.in_(bindparam("b_years", expanding=True)))
    .order_by(_p.year)
    .with_for_update()
)
_SEL_PENDING_OF = (
    select(_s.settlement_id)
    .where(_s.settlement_id.in_(bindparam("b_sids", expanding=True)), _s.status == "pending")
    .limit(1)
)
_CLAIM_PERSON = update(t.person_locks).where(
    _p.person_ref == bindparam("b_person"), _p.year.in_(bindparam("b_years", expanding=True))
)


@dataclass(frozen=True, slots=True)
class KeyRow:
    """An idempotency key as stored."""

    operation: str
    fingerprint: bytes
    settlement_id: str
    state: str
    response_json: str | None
    created_at: dt.datetime


class Store:
    """Transactions and queries over one database engine.

    Args:
        engine: From :func:`onestop.gateway.store.db.connect`, already migrated.
        sealer: Seals the stored bill (personal data at rest); None stores it as it is.
    """

    def __init__(self, engine: Engine, sealer: Sealer | None = None) -> None:
        """Keep the engine."""
        self.engine = engine
        self.dialect = engine.dialect.name
        self.sealer = sealer
        # SQLite has one writer at a time: writers queue and are woken as soon as the one before them
        # commits, rather than sleeping in SQLite's busy handler (see WriterQueue).
        self._writer: AbstractContextManager[Any] = (
            WriterQueue(engine.url.database) if self.dialect == "sqlite" else nullcontext()
        )
        # The dialect's upserts, built once (see the module-level statements).
        acc = self._insert(t.accumulators)
        self._add_acc = acc.on_conflict_do_update(
            index_elements=["person_ref", "acc_key"],
            set_={"value_fen": t.accumulators.c.value_fen + acc.excluded.value_fen},
        )
        self._ins_person = self._insert(t.person_locks).on_conflict_do_nothing(index_elements=["person_ref", "year"])
        self._ins_queue = self._insert(t.resolver_queue).on_conflict_do_nothing(index_elements=["reference", "action"])

    @property
    def writer_queue(self) -> AbstractContextManager[Any]:
        """What every write transaction holds (SQLite: the writer queue; PostgreSQL: nothing)."""
        return self._writer

    def seal_bill(self, sid: str, bill_json: str) -> str:
        """The ``settlements.bill_json`` value of settlement ``sid``'s bill (sealed when a sealer is set)."""
        return bill_json if self.sealer is None else self.sealer.seal(bill_json, context=f"settlement {sid}")

    def open_bill(self, sid: str, stored: str) -> str:
        """The bill JSON of settlement ``sid`` from its stored value."""
        if self.sealer is None:
            if stored.startswith("osk1:"):
                raise ValueError(f"settlement {sid}: the bill is sealed and this store has no data key")
            return stored
        return self.sealer.open(stored, context=f"settlement {sid}")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (SQLite: ``BEGIN IMMEDIATE``); commits on exit, rolls back on error."""
        with self._writer, self.engine.connect().execution_options(write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # -- idempotency keys -------------------------------------------------------------------------

    def key(self, conn: Connection, hospital: str, request_id: str) -> KeyRow | None:
        """The stored key, or None."""
        row = conn.execute(_SEL_KEY, {"b_hospital": hospital, "b_request": request_id}).first()
        if row is None:
            return None
        return KeyRow(row[0], bytes(row[1]), row[2], row[3], row[4], row[5])

    def insert_key(
        self,
        conn: Connection,
        hospital: str,
        request_id: str,
        operation: str,
        fingerprint: bytes,
        sid: str,
        *,
        response_json: str | None = None,
    ) -> None:
        """Claim a key (raises IntegrityError when it exists: the primary key is the lock).

        With ``response_json`` the key is stored already answered, for a request whose outcome commits
        in the same transaction as its claim.
        """
        now = utcnow()
        conn.execute(
            _INS_KEY,
            {
                "hospital_code": hospital,
                "request_id": request_id,
                "operation": operation,
                "fingerprint": fingerprint,
                "settlement_id": sid,
                "state": "running" if response_json is None else "done",
                "response_json": response_json,
                "created_at": now,
                "completed_at": None if response_json is None else now,
            },
        )

    def complete_key(self, conn: Connection, hospital: str, request_id: str, response_json: str) -> None:
        """Store the answer of a key."""
        conn.execute(
            _DONE_KEY,
            {
                "b_hospital": hospital,
                "b_request": request_id,
                "state": "done",
                "response_json": response_json,
                "completed_at": utcnow(),
            },
        )

    def forget_key(self, conn: Connection, hospital: str, request_id: str) -> None:
        """Drop a key whose request stored nothing (rejected before any effect)."""
        k = t.idempotency_keys.c
        conn.execute(t.idempotency_keys.delete().where(k.hospital_code == hospital, k.request_id == request_id))

    def reap_keys(self, conn: Connection, older_than: dt.datetime) -> int:
        """Delete finished keys older than the retention; running keys are never reaped."""
        k = t.idempotency_keys.c
        res = conn.execute(t.idempotency_keys.delete().where(k.state == "done", k.created_at < older_than))
        return int(res.rowcount or 0)

    # -- settlements, legs, lines -----------------------------------------------------------------

    def insert_settlement(self, conn: Connection, **values: Any) -> None:
        """Record a settlement: an intent (status PENDING), or one whose outcome is known already."""
        now = utcnow()
        conn.execute(_INS_SETTLEMENT, {"created_at": now, "updated_at": now, **values})

    def update_settlement(self, conn: Connection, sid: str, **values: Any) -> None:
        """Change a settlement row."""
        conn.execute(_UPD_SETTLEMENT, {"b_sid": sid, "updated_at": utcnow(), **values})

    def settlement(self, conn: Connection, sid: str) -> Row[Any] | None:
        """One settlement row."""
        return conn.execute(_SEL_SETTLEMENT, {"b_sid": sid}).first()

    def pending_settlements(self, conn: Connection, *, untouched_since: dt.datetime | None = None) -> list[str]:
        """Ids of intents without an outcome, oldest first (only those not touched since a time, if given)."""
        s = t.settlements.c
        q = select(s.settlement_id).where(s.status == "pending").order_by(s.created_at)
        if untouched_since is not None:
            q = q.where(s.updated_at < untouched_since)
        return list(conn.execute(q).scalars())

    def claim_intent(self, conn: Connection, sid: str, *, untouched_since: dt.datetime | None) -> bool:
        """Take a pending intent for recovery: True when this caller's stamp won (compare-and-set on updated_at).

        Another process claiming the same intent after this one finds it touched and gets False, so an
        interrupted settlement is driven by one recoverer at a time.
        """
        s = t.settlements.c
        q = update(t.settlements).where(s.settlement_id == sid, s.status == "pending")
        if untouched_since is not None:
            q = q.where(s.updated_at < untouched_since)
        return bool(conn.execute(q.values(updated_at=utcnow())).rowcount == 1)

    def insert_legs(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Record the legs of an intent with their references, before anything is sent."""
        if rows:
            now = utcnow()
            conn.execute(_INS_LEGS, [{"updated_at": now, **r} for r in rows])

    def update_leg(self, conn: Connection, reference: str, **values: Any) -> None:
        """Change one leg."""
        conn.execute(_UPD_LEG, {"b_reference": reference, "updated_at": utcnow(), **values})

    def legs(self, conn: Connection, sid: str) -> list[Row[Any]]:
        """A settlement's legs in order."""
        return list(conn.execute(_SEL_LEGS, {"b_sid": sid}))

    def insert_lines(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Record a settlement's lines."""
        if rows:
            conn.execute(_INS_LINES, list(rows))

    # -- adapter calls ----------------------------------------------------------------------------

    def record_call(self, conn: Connection, sid: str, leg_ref: str, payer: str, flow: str, call_ref: str) -> None:
        """Record a payer call before it is sent."""
        conn.execute(
            _INS_CALL,
            {
                "settlement_id": sid,
                "leg_reference": leg_ref,
                "payer": payer,
                "flow": flow,
                "call_reference": call_ref,
                "state": "sent",
                "outcome": "",
                "created_at": utcnow(),
            },
        )

    def finish_calls(self, conn: Connection, call_ref: str, flow: str, state: str, outcome: str) -> None:
        """Record the outcome of the sent call(s) of ``flow`` under ``call_ref``."""
        c = t.adapter_calls.c
        conn.execute(
            update(t.adapter_calls)
            .where(c.call_reference == call_ref, c.flow == flow, c.state == "sent")
            .values(state=state, outcome=outcome[:32], finished_at=utcnow())
        )

    # -- accumulators -----------------------------------------------------------------------------

    def accumulators(self, conn: Connection, person_ref: str) -> dict[str, int]:
        """A person's fund accumulators (flat ``insutype:year:field`` keys)."""
        return {k: int(v) for k, v in conn.execute(_SEL_ACC, {"b_person": person_ref})}

    def apply_accumulators(
        self, conn: Connection, operation: str, person_ref: str, deltas: Mapping[str, int], *, fresh: bool = False
    ) -> bool:
        """Add ``deltas`` under ``operation`` once: False (nothing changed) when it was already applied.

        ``fresh`` skips looking for an earlier application: the operation belongs to a settlement first
        written in this transaction, so none can exist (and the journal's primary key would refuse one).
        """
        if not fresh and conn.execute(_SEL_JOURNAL, {"b_operation": operation}).first() is not None:
            return False
        now = utcnow()
        moved = [(key, delta) for key, delta in sorted(deltas.items()) if delta]
        if moved:
            # One executemany per table, in key order (a stable lock order between concurrent writers).
            conn.execute(
                _INS_JOURNAL,
                [
                    {"operation": operation, "person_ref": person_ref, "acc_key": k, "delta_fen": d, "created_at": now}
                    for k, d in moved
                ],
            )
            conn.execute(self._add_acc, [{"person_ref": person_ref, "acc_key": k, "value_fen": d} for k, d in moved])
        return True

    def hold_person(
        self, conn: Connection, person_ref: str, years: Sequence[int], sid: str, *, claim: bool = True
    ) -> str | None:
        """Lock a person's year rows for this transaction and claim them for settlement ``sid``.

        The rows are inserted when missing and locked ``FOR UPDATE`` in year order (SQLite: the
        ``BEGIN IMMEDIATE`` write lock already serialises), so the caller can read the accumulators
        and price inside the same transaction. A year held by another settlement that is still
        PENDING (its deltas not yet applied) is not claimed.

        ``claim=False`` is for a settlement whose outcome commits in this same transaction: it is never
        seen pending, so it only needs the lock and the check. On SQLite the write lock is the lock, so
        nothing is written at all.

        Returns:
            None when claimed (or free); else the id of the pending settlement that holds the person.
        """
        ordered = sorted(set(years))
        now = utcnow()
        if claim or self.dialect != "sqlite":
            conn.execute(
                self._ins_person,
                [{"person_ref": person_ref, "year": y, "holder": "", "updated_at": now} for y in ordered],
            )
        held = conn.execute(_SEL_HOLDERS, {"b_person": person_ref, "b_years": ordered}).scalars()
        others = {h for h in held if h and h != sid}
        if others:
            busy = conn.execute(_SEL_PENDING_OF, {"b_sids": sorted(others)}).scalar()
            if busy is not None:
                return str(busy)
        if claim:
            conn.execute(_CLAIM_PERSON, {"b_person": person_ref, "b_years": ordered, "holder": sid, "updated_at": now})
        return None

    # -- adapter state (StateStore) ---------------------------------------------------------------

    def state_value(self, conn: Connection, key: tuple[str, str, str, int, str]) -> int:
        """One adapter counter (0 when never touched)."""
        s = t.adapter_state.c
        v = conn.execute(
            select(s.value).where(
                s.adapter == key[0], s.product == key[1], s.member == key[2], s.year == key[3], s.state_key == key[4]
            )
        ).scalar()
        return int(v or 0)

    def apply_state(
        self,
        conn: Connection,
        reference: str,
        deltas: Sequence[tuple[tuple[str, str, str, int, str], int]],
        records: Sequence[tuple[str, str, dt.date, str]] = (),
    ) -> bool:
        """Apply adapter deltas and write its records ``(adapter, key, day, body)`` once under ``reference``.

        Returns:
            False (nothing written) when ``reference`` was already applied.
        """
        now = utcnow()
        ins_op = self._insert(t.adapter_state_ops).values(reference=reference, created_at=now)
        claimed = conn.execute(
            ins_op.on_conflict_do_nothing(index_elements=["reference"]).returning(t.adapter_state_ops.c.reference)
        ).first()
        if claimed is None:
            return False
        for adapter, key, day, body in records:
            ins_rec = self._insert(t.adapter_records).values(
                adapter=adapter, record_key=key, day=day, body=body, created_at=now, updated_at=now
            )
            conn.execute(
                ins_rec.on_conflict_do_update(
                    index_elements=["adapter", "record_key"],
                    set_={"day": ins_rec.excluded.day, "body": ins_rec.excluded.body, "updated_at": now},
                )
            )
        for (adapter, product, member, year, key), delta in deltas:
            ins = self._insert(t.adapter_state).values(
                adapter=adapter, product=product, member=member, year=year, state_key=key, value=delta
            )
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=["adapter", "product", "member", "year", "state_key"],
                    set_={"value": t.adapter_state.c.value + ins.excluded.value},
                )
            )
        return True

    def state_record(self, conn: Connection, adapter: str, key: str) -> tuple[dt.date, str] | None:
        """An adapter record's ``(day, body)``, or None."""
        r = t.adapter_records.c
        row = conn.execute(select(r.day, r.body).where(r.adapter == adapter, r.record_key == key)).first()
        return None if row is None else (row[0], row[1])

    def state_records_on(self, conn: Connection, adapter: str, day: dt.date) -> list[tuple[str, str]]:
        """An adapter's records of ``day`` as ``(key, body)``, ordered by key."""
        r = t.adapter_records.c
        q = select(r.record_key, r.body).where(r.adapter == adapter, r.day == day).order_by(r.record_key)
        return [(row[0], row[1]) for row in conn.execute(q)]

    # -- resolver queue ---------------------------------------------------------------------------

    def enqueue(
        self,
        conn: Connection,
        *,
        reference: str,
        action: str,
        sid: str,
        payer: str,
        kind: str,
        offered_fen: int,
        reason: str,
    ) -> None:
        """Hand a leg to the resolver (idempotent per reference and action)."""
        now = utcnow()
        conn.execute(
            self._ins_queue,
            {
                "reference": reference,
                "action": action,
                "settlement_id": sid,
                "payer": payer,
                "kind": kind,
                "offered_fen": offered_fen,
                "reason": reason[:64],
                "state": "open",
                "attempts": 0,
                "last_error": "",
                "created_at": now,
                "updated_at": now,
            },
        )

    def open_queue(self, conn: Connection) -> list[Row[Any]]:
        """Open resolver entries, oldest first."""
        q = t.resolver_queue.c
        return list(conn.execute(select(t.resolver_queue).where(q.state == "open").order_by(q.created_at, q.reference)))

    def queue_by_state(self, conn: Connection, state: str | None) -> list[Row[Any]]:
        """Resolver entries in ``state`` (all when None), oldest first."""
        q = t.resolver_queue.c
        query = select(t.resolver_queue).order_by(q.created_at, q.reference)
        if state is not None:
            query = query.where(q.state == state)
        return list(conn.execute(query))

    def queue_entries(self, conn: Connection, sid: str) -> list[Row[Any]]:
        """Every resolver entry of a settlement."""
        q = t.resolver_queue.c
        return list(conn.execute(select(t.resolver_queue).where(q.settlement_id == sid)))

    def update_queue(self, conn: Connection, reference: str, action: str, **values: Any) -> None:
        """Change one resolver entry."""
        q = t.resolver_queue.c
        conn.execute(
            update(t.resolver_queue)
            .where(q.reference == reference, q.action == action)
            .values(updated_at=utcnow(), **values)
        )

    # -- reversals --------------------------------------------------------------------------------

    def reversal(self, conn: Connection, sid: str) -> Row[Any] | None:
        """The reversal of a settlement, if any."""
        return conn.execute(select(t.reversals).where(t.reversals.c.settlement_id == sid)).first()

    def insert_reversal(self, conn: Connection, sid: str, hospital: str, request_id: str, day: dt.date) -> None:
        """Record a reversal intent (raises IntegrityError when one exists)."""
        conn.execute(
            t.reversals.insert().values(
                settlement_id=sid,
                hospital_code=hospital,
                request_id=request_id,
                status="running",
                reversed_fen=0,
                reverse_date=day,
                created_at=utcnow(),
            )
        )

    def complete_reversal(self, conn: Connection, sid: str, reversed_fen: int, response_json: str) -> None:
        """Store a reversal's answer."""
        conn.execute(
            update(t.reversals)
            .where(t.reversals.c.settlement_id == sid)
            .values(status="done", reversed_fen=reversed_fen, response_json=response_json, completed_at=utcnow())
        )

    def running_reversals(self, conn: Connection) -> list[str]:
        """Settlement ids whose reversal has no answer yet."""
        r = t.reversals.c
        return list(conn.execute(select(r.settlement_id).where(r.status == "running")).scalars())
