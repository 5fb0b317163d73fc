"""题库管理: the branch that owns a bank uploaded by its organizer (banks.owner_branch_id; NULL = shared)

Revision ID: 0011_bank_owner
Revises: 0010_study_days
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_bank_owner"
down_revision = "0010_study_days"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain indexed column, no foreign-key constraint: SQLite can drop it again (a foreign-key column could only
    # be dropped by copying the banks table, which the questions and chapters that reference it refuse).
    # Branches are never deleted, so the reference cannot dangle.
    op.add_column("banks", sa.Column("owner_branch_id", sa.Integer(), nullable=True))
    op.create_index("ix_banks_owner_branch_id", "banks", ["owner_branch_id"])


def downgrade() -> None:
    op.drop_index("ix_banks_owner_branch_id", table_name="banks")
    op.drop_column("banks", "owner_branch_id")
