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
    # Plain ADD COLUMN: a batch copy would rebuild the banks table that questions and chapters reference.
    # SQLite takes the foreign key inline, which Alembic's add_column does not emit there.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE banks ADD COLUMN owner_branch_id INTEGER REFERENCES branches (id)")
    else:
        op.add_column("banks", sa.Column("owner_branch_id", sa.Integer(), sa.ForeignKey("branches.id"), nullable=True))
    op.create_index("ix_banks_owner_branch_id", "banks", ["owner_branch_id"])


def downgrade() -> None:
    op.drop_index("ix_banks_owner_branch_id", table_name="banks")
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("owner_branch_id")
