"""Contests may allow guests (open events): contests.allow_guests

Revision ID: 0009_contest_guests
Revises: 0008_assignments
Create Date: 2026-12-06 20:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_contest_guests"
down_revision = "0008_assignments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contests", sa.Column("allow_guests", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # Not in batch mode: rebuilding `contests` on SQLite would drop a table other tables' keys point at.
    op.drop_column("contests", "allow_guests")
