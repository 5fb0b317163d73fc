"""live contests: contests, teams, event log, answers, results

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 23:17:27.886959
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "contests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("pin", sa.String(length=12), nullable=False),
        sa.Column("projector_token", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("revisions", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
        ),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pin"),
        sa.UniqueConstraint("projector_token"),
    )
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contests_deadline_at"), ["deadline_at"], unique=False)

    op.create_table(
        "contest_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("question_seq", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=100), nullable=False),
        sa.Column("participant", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "question_seq", "participant"),
    )
    with op.batch_alter_table("contest_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contest_answers_contest_id"), ["contest_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contest_answers_user_id"), ["user_id"], unique=False)

    op.create_table(
        "contest_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("command", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "version"),
    )
    with op.batch_alter_table("contest_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contest_events_contest_id"), ["contest_id"], unique=False)

    op.create_table(
        "contest_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_name", sa.String(length=100), nullable=False),
        sa.Column("team_place", sa.Integer(), nullable=False),
        sa.Column("team_score", sa.Double(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "user_id"),
    )
    with op.batch_alter_table("contest_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contest_results_user_id"), ["user_id"], unique=False)

    op.create_table(
        "contest_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("join_code", sa.String(length=12), nullable=False),
        sa.Column("device_token", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "key"),
        sa.UniqueConstraint("device_token"),
    )


def downgrade() -> None:

    op.drop_table("contest_teams")
    with op.batch_alter_table("contest_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_results_user_id"))

    op.drop_table("contest_results")
    with op.batch_alter_table("contest_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_events_contest_id"))

    op.drop_table("contest_events")
    with op.batch_alter_table("contest_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_answers_user_id"))
        batch_op.drop_index(batch_op.f("ix_contest_answers_contest_id"))

    op.drop_table("contest_answers")
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contests_deadline_at"))

    op.drop_table("contests")
