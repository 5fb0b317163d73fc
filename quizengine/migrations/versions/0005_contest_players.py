"""live contests: players in a table of their own (a join no longer rewrites the contest state)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 02:10:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_contests = sa.table("contests", sa.column("id", sa.Integer()), sa.column("state", sa.JSON()))
_players = sa.table(
    "contest_players",
    sa.column("contest_id", sa.Integer()),
    sa.column("player", sa.String()),
    sa.column("user_id", sa.Integer()),
    sa.column("team", sa.String()),
    sa.column("name", sa.String()),
    sa.column("joined_seq", sa.Integer()),
    sa.column("joined_at", sa.DateTime()),
)


def upgrade() -> None:
    op.create_table(
        "contest_players",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("player", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("joined_seq", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contest_id"], ["contests.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "player"),
    )
    with op.batch_alter_table("contest_players", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contest_players_contest_id"), ["contest_id"], unique=False)
    # existing contests: move the players out of the state snapshot into their rows
    connection = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    for contest_id, state in connection.execute(sa.select(_contests.c.id, _contests.c.state)).all():
        players = (state or {}).get("players")
        if players is None:
            continue
        rows = [
            {
                "contest_id": contest_id,
                "player": player,
                "user_id": int(player) if player.isdigit() else None,
                "team": info["team"],
                "name": info.get("name", ""),
                "joined_seq": info.get("joined_seq", 0),
                "joined_at": now,
            }
            for player, info in players.items()
        ]
        if rows:
            connection.execute(sa.insert(_players), rows)
        rest = {key: value for key, value in state.items() if key != "players"}
        connection.execute(sa.update(_contests).where(_contests.c.id == contest_id).values(state=rest))


def downgrade() -> None:
    connection = op.get_bind()
    players: dict[int, dict[str, dict[str, object]]] = {}
    for row in connection.execute(sa.select(_players)).mappings():
        players.setdefault(row["contest_id"], {})[row["player"]] = {
            "team": row["team"],
            "name": row["name"],
            "joined_seq": row["joined_seq"],
        }
    for contest_id, state in connection.execute(sa.select(_contests.c.id, _contests.c.state)).all():
        kept = {key: value for key, value in (state or {}).items() if key != "distribution"}  # new in 0005
        restored = {**kept, "players": players.get(contest_id, {})}
        connection.execute(sa.update(_contests).where(_contests.c.id == contest_id).values(state=restored))
    with op.batch_alter_table("contest_players", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_players_contest_id"))
    op.drop_table("contest_players")
