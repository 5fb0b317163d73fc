"""纠错: members' reports of problems with questions, and their resolution

Revision ID: 0007_corrections
Revises: 0006_ui
Create Date: 2026-12-06 13:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_corrections"
down_revision = "0006_ui"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_question_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("fixed_revision", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"]),
        sa.ForeignKeyConstraint(["resolved_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["revision_id"], ["question_revisions.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "open_question_id"),
    )
    with op.batch_alter_table("question_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_reports_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_question_reports_question_id"), ["question_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_question_reports_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_question_reports_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("question_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_reports_user_id"))
        batch_op.drop_index(batch_op.f("ix_question_reports_status"))
        batch_op.drop_index(batch_op.f("ix_question_reports_question_id"))
        batch_op.drop_index(batch_op.f("ix_question_reports_branch_id"))
    op.drop_table("question_reports")
