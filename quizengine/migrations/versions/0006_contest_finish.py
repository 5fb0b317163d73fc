"""live contests that end well: each player's running points (leaderboard), archived contests

Revision ID: 0006_contest_finish
Revises: 0006_contest_trust
Create Date: 2026-12-06 04:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_contest_finish"
down_revision = "0006_contest_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest_players", schema=None) as batch_op:
        batch_op.add_column(sa.Column("points", sa.Double(), nullable=False, server_default="0"))
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
    with op.batch_alter_table("contest_players", schema=None) as batch_op:
        batch_op.drop_column("points")
