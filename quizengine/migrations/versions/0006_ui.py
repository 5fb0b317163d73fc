"""users: the 大字模式 (larger text) preference

Revision ID: 0006_ui
Revises: 0006_exams
Create Date: 2026-12-06 04:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_ui"
down_revision = "0006_exams"
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite >= 3.35 has both): a batch "move and copy" would rebuild the users table,
# which every other table references, and SQLite's foreign keys refuse dropping it.


def upgrade() -> None:
    op.add_column("users", sa.Column("large_text", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("users", "large_text")
