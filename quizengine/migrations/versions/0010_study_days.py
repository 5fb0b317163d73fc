"""学习日: a branch's study day per plan topic (study_days), the members recorded present (study_attendance),
and the plan topic a self-test session practises (attempts.study_topic)

Revision ID: 0010_study_days
Revises: 0009_contest_guests
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_study_days"
down_revision = "0009_contest_guests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "study_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("plan_slug", sa.String(length=100), nullable=False),
        sa.Column("topic_key", sa.String(length=20), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"]),
        sa.ForeignKeyConstraint(["contest_id"], ["contests.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("branch_id", "plan_slug", "topic_key"),
    )
    op.create_index("ix_study_days_branch_id", "study_days", ["branch_id"])
    op.create_table(
        "study_attendance",
        sa.Column("day_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["added_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["day_id"], ["study_days.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("day_id", "user_id"),
    )
    op.create_index("ix_study_attendance_user_id", "study_attendance", ["user_id"])
    op.add_column("attempts", sa.Column("study_topic", sa.String(length=120), nullable=True))
    op.create_index("ix_attempts_study_topic", "attempts", ["study_topic"])


def downgrade() -> None:
    op.drop_index("ix_attempts_study_topic", table_name="attempts")
    op.drop_column("attempts", "study_topic")
    op.drop_index("ix_study_attendance_user_id", table_name="study_attendance")
    op.drop_table("study_attendance")
    op.drop_index("ix_study_days_branch_id", table_name="study_days")
    op.drop_table("study_days")
