"""验收标准 period totals: `member_activity` (each member's `member_days` of a day summed by kind),
`member_months` (those days of a month summed) and standard_results.studied with a covering index, all backfilled

Revision ID: 0012_period_totals
Revises: 0011_bank_owner
Create Date: 2026-12-07 05:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_period_totals"
down_revision = "0011_bank_owner"
branch_labels = None
depends_on = None

# Table stubs, no import of the app's models, so later model changes cannot break the backfill; it is the same
# statements as services.period_totals.rebuild (a test checks both agree).
member_days = sa.table(
    "member_days",
    sa.column("user_id", sa.Integer),
    sa.column("day", sa.Date),
    sa.column("exam_id", sa.Integer),
    sa.column("answered", sa.Integer),
    sa.column("sessions", sa.Integer),
)
results = sa.table("standard_results", sa.column("detail", sa.JSON), sa.column("studied", sa.Boolean))


def _sum_when(condition: sa.ColumnElement[bool], column: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, column), else_=0)), 0)


def upgrade() -> None:
    activity = op.create_table(
        "member_activity",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("practice_answered", sa.Integer(), nullable=False),
        sa.Column("practice_sessions", sa.Integer(), nullable=False),
        sa.Column("exam_sessions", sa.Integer(), nullable=False),
        sa.Column("exam_answered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id", "day"),
    )
    op.create_index("ix_member_activity_day", "member_activity", ["day"])
    practice = member_days.c.exam_id == 0
    op.execute(
        activity.insert().from_select(
            ["user_id", "day", "practice_answered", "practice_sessions", "exam_sessions", "exam_answered"],
            sa.select(
                member_days.c.user_id,
                member_days.c.day,
                _sum_when(practice, member_days.c.answered),
                _sum_when(practice, member_days.c.sessions),
                _sum_when(~practice, member_days.c.sessions),
                _sum_when(~practice, member_days.c.answered),
            ).group_by(member_days.c.user_id, member_days.c.day),
        )
    )
    months = op.create_table(
        "member_months",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("active_days", sa.Integer(), nullable=False),
        sa.Column("practice_sessions", sa.Integer(), nullable=False),
        sa.Column("practice_answered", sa.Integer(), nullable=False),
        sa.Column("exam_only_days", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id", "month"),
    )
    day = activity.c.day
    if op.get_bind().dialect.name == "postgresql":
        month = sa.cast(sa.func.date_trunc("month", day), sa.Date)
    else:
        month = sa.func.date(day, "start of month", type_=sa.Date)
    always = sa.or_(activity.c.practice_answered > 0, activity.c.practice_sessions > 0, activity.c.exam_sessions > 0)
    op.execute(
        months.insert().from_select(
            ["user_id", "month", "active_days", "practice_sessions", "practice_answered", "exam_only_days", "last_day"],
            sa.select(
                activity.c.user_id,
                month,
                _sum_when(always, sa.literal(1)),
                sa.func.sum(activity.c.practice_sessions),
                sa.func.sum(activity.c.practice_answered),
                _sum_when(sa.and_(~always, activity.c.exam_answered > 0), sa.literal(1)),
                sa.func.max(day),
            ).group_by(activity.c.user_id, month),
        )
    )

    # Plain ADD COLUMN (a batch copy would rebuild the table): the committee's counts read it, not the JSON.
    op.add_column("standard_results", sa.Column("studied", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(results.update().values(studied=sa.func.coalesce(results.c.detail["studied"].as_boolean(), sa.false())))
    op.create_index("ix_standard_results_tally", "standard_results", ["period", "user_id", "status", "studied"])


def downgrade() -> None:
    op.drop_index("ix_standard_results_tally", table_name="standard_results")
    op.drop_column("standard_results", "studied")
    op.drop_table("member_months")
    op.drop_index("ix_member_activity_day", table_name="member_activity")
    op.drop_table("member_activity")
