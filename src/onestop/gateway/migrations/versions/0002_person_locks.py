"""Person-year lock rows.

One row per (person, benefit year), locked ``FOR UPDATE`` while a settlement of that person is
priced, so two gateway processes never price two settlements on the same year-to-date figures.

Revision ID: 0002
Revises: 0001
Create Date: 2026-04-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``person_locks``."""
    op.create_table(
        "person_locks",
        sa.Column("person_ref", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("holder", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop ``person_locks``."""
    op.drop_table("person_locks")
