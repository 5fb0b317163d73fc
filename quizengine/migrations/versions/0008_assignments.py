"""支部布置的练习: practice assignments of a branch and the members they are for

Revision ID: 0008_assignments
Revises: 0007_oversight
Create Date: 2026-12-06 19:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_assignments"
down_revision = "0007_oversight"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "practice_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("chapters", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"]),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_practice_assignments_branch_id", "practice_assignments", ["branch_id"])
    op.create_table(
        "practice_assignees",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["assignment_id"], ["practice_assignments.id"]),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("assignment_id", "user_id"),
    )
    op.create_index("ix_practice_assignees_user_id", "practice_assignees", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_practice_assignees_user_id", table_name="practice_assignees")
    op.drop_table("practice_assignees")
    op.drop_index("ix_practice_assignments_branch_id", table_name="practice_assignments")
    op.drop_table("practice_assignments")
