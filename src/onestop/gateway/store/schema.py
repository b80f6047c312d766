"""The gateway's tables (SQLAlchemy Core). Alembic migrations create them; this module queries them.

Money columns are BIGINT fen. Personal data: the bill (needed to re-drive and to reverse through a
channel) is kept whole in ``settlements.bill_json``, encrypted (AES-GCM, see
:mod:`onestop.gateway.sealing`); every other table keys people by a keyed hash
(``member_ref``/``person_ref``), so exports and accumulators carry no psn_no, name or certificate.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "accumulator_journal",
    "accumulators",
    "adapter_calls",
    "adapter_records",
    "adapter_state",
    "adapter_state_ops",
    "idempotency_keys",
    "legs",
    "lines",
    "metadata",
    "person_locks",
    "resolver_queue",
    "reversals",
    "settlements",
]

metadata = MetaData()

settlements = Table(
    "settlements",
    metadata,
    Column("settlement_id", String(40), primary_key=True),
    Column("hospital_code", String(32), nullable=False),
    Column("request_id", String(255), nullable=False),
    Column("mdtrt_id", String(64), nullable=False),
    Column("member_ref", String(64), nullable=False),
    Column("insured_region", String(12), nullable=False),
    Column("insutype", String(8), nullable=False),
    Column("med_type", String(8), nullable=False),
    Column("settle_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("medfee_sumamt", BigInteger, nullable=False),
    Column("fund_paid_fen", BigInteger, nullable=False, default=0),
    Column("bill_json", Text, nullable=False),
    Column("settlement_json", Text),
    Column("accumulators_json", Text),
    Column("error_reason", String(64), nullable=False, default=""),
    Column("error_json", Text),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_settlements_hospital_date", "hospital_code", "settle_date", "settlement_id"),
    Index("ix_settlements_status", "status"),
)

legs = Table(
    "legs",
    metadata,
    Column("reference", String(200), primary_key=True),
    Column("settlement_id", String(40), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("payer", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("offered_fen", BigInteger, nullable=False, default=0),
    Column("paid_fen", BigInteger, nullable=False, default=0),
    Column("reason", String(64), nullable=False, default=""),
    Column("payer_claim_id", String(128), nullable=False, default=""),
    Column("setl_id", String(128), nullable=False, default=""),
    Column("result_json", Text),
    Column("updated_at", DateTime, nullable=False),
)

lines = Table(
    "lines",
    metadata,
    Column("settlement_id", String(40), primary_key=True),
    Column("feedetl_sn", String(64), primary_key=True),
    Column("national_code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("item_kind", String(16), nullable=False),
    Column("charge_category", String(8), nullable=False),
    Column("leg", String(16), nullable=False),
    Column("chrgitm_lv", String(8), nullable=False),
    Column("in_catalog", Boolean, nullable=False),
    Column("cidl_no", Integer),
    Column("confidential", Boolean, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("fund_fen", BigInteger, nullable=False),
    Column("commercial_fen", BigInteger, nullable=False),
    Column("account_fen", BigInteger, nullable=False),
    Column("patient_fen", BigInteger, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("hospital_code", String(32), primary_key=True),
    Column("request_id", String(255), primary_key=True),
    Column("operation", String(16), nullable=False),
    Column("fingerprint", LargeBinary(32), nullable=False),
    Column("settlement_id", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("response_json", Text),
    Column("created_at", DateTime, nullable=False),
    Column("completed_at", DateTime),
)

accumulators = Table(
    "accumulators",
    metadata,
    Column("person_ref", String(64), primary_key=True),
    Column("acc_key", String(80), primary_key=True),
    Column("value_fen", BigInteger, nullable=False),
)

# One row per person and benefit year: the row lock that serialises the pricing of one person's
# settlements across gateway processes; ``holder`` is the settlement whose intent holds the year.
person_locks = Table(
    "person_locks",
    metadata,
    Column("person_ref", String(64), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("holder", String(40), nullable=False, default=""),
    Column("updated_at", DateTime, nullable=False),
)

accumulator_journal = Table(
    "accumulator_journal",
    metadata,
    Column("operation", String(200), primary_key=True),
    Column("person_ref", String(64), primary_key=True),
    Column("acc_key", String(80), primary_key=True),
    Column("delta_fen", BigInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

adapter_state = Table(
    "adapter_state",
    metadata,
    Column("adapter", String(64), primary_key=True),
    Column("product", String(64), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("state_key", String(80), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

adapter_state_ops = Table(
    "adapter_state_ops",
    metadata,
    Column("reference", String(200), primary_key=True),
    Column("created_at", DateTime, nullable=False),
)

adapter_records = Table(
    "adapter_records",
    metadata,
    Column("adapter", String(64), primary_key=True),
    Column("record_key", String(200), primary_key=True),
    Column("day", Date, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_adapter_records_day", "adapter", "day", "created_at"),
)

reversals = Table(
    "reversals",
    metadata,
    Column("settlement_id", String(40), primary_key=True),
    Column("hospital_code", String(32), nullable=False),
    Column("request_id", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reversed_fen", BigInteger, nullable=False, default=0),
    Column("reverse_date", Date, nullable=False),
    Column("response_json", Text),
    Column("created_at", DateTime, nullable=False),
    Column("completed_at", DateTime),
)

adapter_calls = Table(
    "adapter_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("settlement_id", String(40), nullable=False, index=True),
    Column("leg_reference", String(200), nullable=False),
    Column("payer", String(64), nullable=False),
    Column("flow", String(32), nullable=False),
    Column("call_reference", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("outcome", String(32), nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
)

resolver_queue = Table(
    "resolver_queue",
    metadata,
    Column("reference", String(200), primary_key=True),
    Column("action", String(16), primary_key=True),
    Column("settlement_id", String(40), nullable=False),
    Column("payer", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("offered_fen", BigInteger, nullable=False, default=0),
    Column("reason", String(64), nullable=False, default=""),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(200), nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_resolver_queue_state", "state"),
)
