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


# Plain ALTER TABLE ADD/DROP COLUMN (SQLite >= 3.35 has both): a batch "move and copy" would drop and
# recreate `contests`, which the tables referencing it refuse.


def upgrade() -> None:
    op.add_column("contest_players", sa.Column("points", sa.Double(), nullable=False, server_default="0"))
    op.add_column("contests", sa.Column("archived_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("contests", "archived_at")
    op.drop_column("contest_players", "points")
