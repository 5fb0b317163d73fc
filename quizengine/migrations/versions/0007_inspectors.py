"""inspectors (督导) with their assigned branches; an organizer's post (支部书记 / 组织委员)

Revision ID: 0007_inspectors
Revises: 0007_corrections
Create Date: 2026-12-06 13:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_inspectors"
down_revision = "0007_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspector_branches",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("branch_id", sa.Integer(), sa.ForeignKey("branches.id"), primary_key=True),
    )
    op.create_index("ix_inspector_branches_branch_id", "inspector_branches", ["branch_id"])
    # Plain ADD/DROP COLUMN: a batch copy would rebuild the users table that every other table references.
    op.add_column("users", sa.Column("title", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "title")
    op.drop_index("ix_inspector_branches_branch_id", table_name="inspector_branches")
    op.drop_table("inspector_branches")
