"""oversight: per-member-per-day summaries (backfilled from the attempts), stored 验收标准 and closed-period results

Revision ID: 0007_oversight
Revises: 0007_inspectors
Create Date: 2026-12-06 13:20:00.000000
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0007_oversight"
down_revision = "0007_inspectors"
branch_labels = None
depends_on = None

# The backfill is self-contained (table stubs, no import of the app's models) so later model changes cannot
# break it; it is the same computation as services.summaries.rebuild (a test checks both agree).
ZONE = ZoneInfo("Asia/Shanghai")
attempts = sa.table(
    "attempts",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("exam_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("finished_at", sa.DateTime),
    sa.column("answered_count", sa.Integer),
)
items = sa.table(
    "attempt_items",
    sa.column("attempt_id", sa.Integer),
    sa.column("question_id", sa.Integer),
    sa.column("answered_at", sa.DateTime),
    sa.column("verdict", sa.String),
)
questions = sa.table(
    "questions", sa.column("id", sa.Integer), sa.column("bank_id", sa.Integer), sa.column("category", sa.String)
)


def _day(moment):  # type: ignore[no-untyped-def]
    return moment.replace(tzinfo=UTC).astimezone(ZONE).date()


def upgrade() -> None:
    member_days = op.create_table(
        "member_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "day", "bank_id", "category", "attempt_id"),
    )
    op.create_index("ix_member_days_day", "member_days", ["day"])
    op.create_table(
        "acceptance_standards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"]),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope"),
    )
    op.create_table(
        "standard_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "period"),
    )
    connection = op.get_bind()
    rows: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    answers = connection.execute(
        sa.select(
            attempts.c.user_id,
            attempts.c.id,
            attempts.c.exam_id,
            items.c.answered_at,
            items.c.verdict,
            questions.c.bank_id,
            questions.c.category,
        )
        .join(items, items.c.attempt_id == attempts.c.id)
        .join(questions, questions.c.id == items.c.question_id)
        .where(items.c.answered_at.is_not(None), items.c.verdict.is_not(None), items.c.verdict != "pending")
    )
    for user_id, attempt_id, exam_id, answered_at, verdict, bank_id, category in answers:
        row = rows[(user_id, _day(answered_at), bank_id, category or "", attempt_id if exam_id else 0)]
        row[0], row[1], row[2] = exam_id or 0, row[1] + 1, row[2] + (verdict == "correct")
    sessions = connection.execute(
        sa.select(attempts.c.user_id, attempts.c.id, attempts.c.exam_id, attempts.c.finished_at).where(
            attempts.c.status == "finished", attempts.c.answered_count > 0, attempts.c.finished_at.is_not(None)
        )
    )
    for user_id, attempt_id, exam_id, finished_at in sessions:
        row = rows[(user_id, _day(finished_at), 0, "", attempt_id if exam_id else 0)]
        row[0], row[3] = exam_id or 0, row[3] + 1
    names = ("user_id", "day", "bank_id", "category", "attempt_id")
    values = [
        dict(zip(names, key, strict=True)) | {"exam_id": e, "answered": a, "correct": c, "sessions": s}
        for key, (e, a, c, s) in rows.items()
    ]
    for start in range(0, len(values), 5_000):
        op.bulk_insert(member_days, values[start : start + 5_000])


def downgrade() -> None:
    op.drop_table("standard_results")
    op.drop_table("acceptance_standards")
    op.drop_index("ix_member_days_day", table_name="member_days")
    op.drop_table("member_days")
