"""timed exams: exams, audiences, overrides, voided questions, exam attempts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:57:19.427838
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("opens_at", sa.DateTime(), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("blueprint", sa.JSON(), nullable=False),
        sa.Column("shuffle_questions", sa.Boolean(), nullable=False),
        sa.Column("shuffle_options", sa.Boolean(), nullable=False),
        sa.Column("pass_mark", sa.Double(), nullable=False),
        sa.Column("attempts_allowed", sa.Integer(), nullable=False),
        sa.Column("review_policy", sa.String(length=16), nullable=False),
        sa.Column("results_released", sa.Boolean(), nullable=False),
        sa.Column("multiple_policy", sa.String(length=16), nullable=False),
        sa.Column("grace_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "exam_branches",
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
        ),
        sa.ForeignKeyConstraint(
            ["exam_id"],
            ["exams.id"],
        ),
        sa.PrimaryKeyConstraint("exam_id", "branch_id"),
    )
    op.create_table(
        "exam_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.DateTime(), nullable=True),
        sa.Column("closes_at", sa.DateTime(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("extra_attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exam_id"],
            ["exams.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exam_id", "user_id"),
    )
    with op.batch_alter_table("exam_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exam_overrides_exam_id"), ["exam_id"], unique=False)

    op.create_table(
        "voided_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exam_id"],
            ["exams.id"],
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exam_id", "question_id"),
    )
    with op.batch_alter_table("attempt_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("graded_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("graded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))
        batch_op.create_foreign_key("fk_attempt_items_graded_by_users", "users", ["graded_by"], ["id"])

    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exam_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("pending_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("tab_switches", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_attempts_exam_id"), ["exam_id"], unique=False)
        batch_op.create_unique_constraint("uq_attempts_exam_user_number", ["exam_id", "user_id", "number"])
        batch_op.create_foreign_key("fk_attempts_exam_id_exams", "exams", ["exam_id"], ["id"])


def downgrade() -> None:

    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_attempts_exam_id_exams", type_="foreignkey")
        batch_op.drop_constraint("uq_attempts_exam_user_number", type_="unique")
        batch_op.drop_index(batch_op.f("ix_attempts_exam_id"))
        batch_op.drop_column("tab_switches")
        batch_op.drop_column("pending_count")
        batch_op.drop_column("number")
        batch_op.drop_column("exam_id")

    with op.batch_alter_table("attempt_items", schema=None) as batch_op:
        batch_op.drop_constraint("fk_attempt_items_graded_by_users", type_="foreignkey")
        batch_op.drop_column("comment")
        batch_op.drop_column("graded_at")
        batch_op.drop_column("graded_by")

    op.drop_table("voided_questions")
    with op.batch_alter_table("exam_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exam_overrides_exam_id"))

    op.drop_table("exam_overrides")
    op.drop_table("exam_branches")
    op.drop_table("exams")
