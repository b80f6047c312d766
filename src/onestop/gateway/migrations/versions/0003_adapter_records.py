"""Adapter records: the documents stateful adapters keep through the host (e.g. a 惠民保 claim book).

Written in the same transaction as the adapter's deltas, so a booked leg and the accumulators it
moved are one fact, readable after a restart and from every worker.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``adapter_records``."""
    op.create_table(
        "adapter_records",
        sa.Column("adapter", sa.String(64), primary_key=True),
        sa.Column("record_key", sa.String(200), primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_adapter_records_day", "adapter_records", ["adapter", "day", "created_at"])


def downgrade() -> None:
    """Drop ``adapter_records``."""
    op.drop_index("ix_adapter_records_day", table_name="adapter_records")
    op.drop_table("adapter_records")
