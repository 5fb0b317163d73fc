"""exam paper modes: 统一试卷 (one paper drawn when published) or 随机组卷, and a draft → published step

Revision ID: 0006_exams
Revises: 0006_auth
Create Date: 2026-12-06 04:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_exams"
down_revision = "0006_auth"
branch_labels = None
depends_on = None


# Plain ALTER TABLE ADD/DROP COLUMN (SQLite >= 3.35): a batch copy would recreate `exams`, which the tables
# referencing it refuse. Exams made before this revision drew a paper per member and were live at once:
# the server defaults make them random-mode and published.


def upgrade() -> None:
    op.add_column("exams", sa.Column("paper_mode", sa.String(length=16), server_default="random", nullable=False))
    op.add_column("exams", sa.Column("status", sa.String(length=16), server_default="published", nullable=False))
    op.add_column("exams", sa.Column("published_at", sa.DateTime(), nullable=True))
    op.add_column("exams", sa.Column("paper", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("exams", "paper")
    op.drop_column("exams", "published_at")
    op.drop_column("exams", "status")
    op.drop_column("exams", "paper_mode")
