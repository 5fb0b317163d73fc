"""live contests: team secrets for QR links, several devices per team, owned plan files

Revision ID: 0006_contest_trust
Revises: 0005
Create Date: 2026-12-06 04:20:00.000000
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006_contest_trust"
down_revision = "0005"
branch_labels = None
depends_on = None

_teams = sa.table(
    "contest_teams",
    sa.column("id", sa.Integer()),
    sa.column("device_token", sa.String()),
    sa.column("join_secret", sa.String()),
)
_devices = sa.table(
    "contest_devices",
    sa.column("team_id", sa.Integer()),
    sa.column("token", sa.String()),
    sa.column("created_at", sa.DateTime()),
)


def upgrade() -> None:
    op.create_table(
        "contest_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["contest_teams.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("contest_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contest_devices_team_id"), ["team_id"], unique=False)
    op.create_table(
        "contest_plan_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("contest_teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("join_secret", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    for team_id, token in connection.execute(sa.select(_teams.c.id, _teams.c.device_token)).all():
        connection.execute(
            sa.update(_teams).where(_teams.c.id == team_id).values(join_secret=secrets.token_urlsafe(16))
        )
        if token:  # the device already joined keeps working
            connection.execute(sa.insert(_devices).values(team_id=team_id, token=token, created_at=now))
    with op.batch_alter_table("contest_teams", schema=None) as batch_op:
        batch_op.alter_column("join_secret", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_contest_teams_join_secret", ["join_secret"])
        batch_op.drop_column("device_token")


def downgrade() -> None:
    with op.batch_alter_table("contest_teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_token", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    for team_id, token in connection.execute(sa.select(_devices.c.team_id, _devices.c.token)).all():
        connection.execute(sa.update(_teams).where(_teams.c.id == team_id).values(device_token=token))
    with op.batch_alter_table("contest_teams", schema=None) as batch_op:
        batch_op.create_unique_constraint("contest_teams_device_token_key", ["device_token"])
        batch_op.drop_constraint("uq_contest_teams_join_secret", type_="unique")
        batch_op.drop_column("join_secret")
    op.drop_table("contest_plan_files")
    with op.batch_alter_table("contest_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_devices_team_id"))
    op.drop_table("contest_devices")
