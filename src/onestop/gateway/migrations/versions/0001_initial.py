"""Initial gateway schema.

Settlements, legs, lines, idempotency keys, accumulators, reversals, adapter calls, adapter state
and the resolver queue.

Revision ID: 0001
Revises:
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of the first schema."""
    op.create_table(
        "settlements",
        sa.Column("settlement_id", sa.String(40), primary_key=True),
        sa.Column("hospital_code", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("mdtrt_id", sa.String(64), nullable=False),
        sa.Column("member_ref", sa.String(64), nullable=False),
        sa.Column("insured_region", sa.String(12), nullable=False),
        sa.Column("insutype", sa.String(8), nullable=False),
        sa.Column("med_type", sa.String(8), nullable=False),
        sa.Column("settle_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("medfee_sumamt", sa.BigInteger, nullable=False),
        sa.Column("fund_paid_fen", sa.BigInteger, nullable=False),
        sa.Column("bill_json", sa.Text, nullable=False),
        sa.Column("settlement_json", sa.Text),
        sa.Column("accumulators_json", sa.Text),
        sa.Column("error_reason", sa.String(64), nullable=False),
        sa.Column("error_json", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_settlements_hospital_date", "settlements", ["hospital_code", "settle_date", "settlement_id"])
    op.create_index("ix_settlements_status", "settlements", ["status"])
    op.create_table(
        "legs",
        sa.Column("reference", sa.String(200), primary_key=True),
        sa.Column("settlement_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payer", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("offered_fen", sa.BigInteger, nullable=False),
        sa.Column("paid_fen", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("payer_claim_id", sa.String(128), nullable=False),
        sa.Column("setl_id", sa.String(128), nullable=False),
        sa.Column("result_json", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_legs_settlement_id", "legs", ["settlement_id"])
    op.create_table(
        "lines",
        sa.Column("settlement_id", sa.String(40), primary_key=True),
        sa.Column("feedetl_sn", sa.String(64), primary_key=True),
        sa.Column("national_code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("charge_category", sa.String(8), nullable=False),
        sa.Column("leg", sa.String(16), nullable=False),
        sa.Column("chrgitm_lv", sa.String(8), nullable=False),
        sa.Column("in_catalog", sa.Boolean, nullable=False),
        sa.Column("cidl_no", sa.Integer),
        sa.Column("confidential", sa.Boolean, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("fund_fen", sa.BigInteger, nullable=False),
        sa.Column("commercial_fen", sa.BigInteger, nullable=False),
        sa.Column("account_fen", sa.BigInteger, nullable=False),
        sa.Column("patient_fen", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("hospital_code", sa.String(32), primary_key=True),
        sa.Column("request_id", sa.String(255), primary_key=True),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(32), nullable=False),
        sa.Column("settlement_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("response_json", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("completed_at", sa.DateTime),
    )
    op.create_table(
        "accumulators",
        sa.Column("person_ref", sa.String(64), primary_key=True),
        sa.Column("acc_key", sa.String(80), primary_key=True),
        sa.Column("value_fen", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "accumulator_journal",
        sa.Column("operation", sa.String(200), primary_key=True),
        sa.Column("person_ref", sa.String(64), primary_key=True),
        sa.Column("acc_key", sa.String(80), primary_key=True),
        sa.Column("delta_fen", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "adapter_state",
        sa.Column("adapter", sa.String(64), primary_key=True),
        sa.Column("product", sa.String(64), primary_key=True),
        sa.Column("member", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("state_key", sa.String(80), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "adapter_state_ops",
        sa.Column("reference", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "reversals",
        sa.Column("settlement_id", sa.String(40), primary_key=True),
        sa.Column("hospital_code", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reversed_fen", sa.BigInteger, nullable=False),
        sa.Column("reverse_date", sa.Date, nullable=False),
        sa.Column("response_json", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("completed_at", sa.DateTime),
    )
    op.create_table(
        "adapter_calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("settlement_id", sa.String(40), nullable=False),
        sa.Column("leg_reference", sa.String(200), nullable=False),
        sa.Column("payer", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(32), nullable=False),
        sa.Column("call_reference", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
    )
    op.create_index("ix_adapter_calls_settlement_id", "adapter_calls", ["settlement_id"])
    op.create_table(
        "resolver_queue",
        sa.Column("reference", sa.String(200), primary_key=True),
        sa.Column("action", sa.String(16), primary_key=True),
        sa.Column("settlement_id", sa.String(40), nullable=False),
        sa.Column("payer", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("offered_fen", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_resolver_queue_state", "resolver_queue", ["state"])


def downgrade() -> None:
    """Drop every table of the first schema."""
    for name in (
        "resolver_queue",
        "adapter_calls",
        "reversals",
        "adapter_state_ops",
        "adapter_state",
        "accumulator_journal",
        "accumulators",
        "idempotency_keys",
        "lines",
        "legs",
        "settlements",
    ):
        op.drop_table(name)
