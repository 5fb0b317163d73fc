"""Migration 0005: the players of existing contests move out of the state snapshot into their own rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from alembic import command
from sqlalchemy import text

from quizengine.extensions import make_engine
from quizengine.services.schema import alembic_config, upgrade_database

STATE = {"teams": [{"id": "t1", "name": "红队", "color": ""}], "rounds": [[]], "version": 3, "question_seq": 2}
PLAYERS = {"7": {"team": "t1", "name": "李红", "joined_seq": 1}, "guest": {"team": "t1", "name": "", "joined_seq": 2}}


def _insert_contest(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        now = datetime(2026, 11, 25, 20, 0)
        connection.execute(
            text(
                "INSERT INTO users (id, username, name, password_hash, role, member_status, active,"
                " must_change_password, created_at)"
                " VALUES (7, 'lihong', '李红', 'x', 'member', 'full', true, false, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO contests (id, title, host_id, pin, projector_token, plan, revisions, state, version,"
                " created_at) VALUES (1, '竞赛', 7, '123456', 'token', '{}', '{}', :state, 3, :now)"
            ),
            {"state": json.dumps({**STATE, "players": PLAYERS}), "now": now},
        )
    engine.dispose()


def test_0005_moves_the_players_into_rows_and_back(fresh_database_url: Callable[[], str]) -> None:
    url = fresh_database_url()
    upgrade_database(url, "0004")
    _insert_contest(url)
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT player, user_id, team, name, joined_seq FROM contest_players ORDER BY player")
            ).all()
            state = connection.execute(text("SELECT state FROM contests")).scalar_one()
        assert [tuple(row) for row in rows] == [("7", 7, "t1", "李红", 1), ("guest", None, "t1", "", 2)]
        state = state if isinstance(state, dict) else json.loads(state)
        assert state == STATE  # the rest of the snapshot as it was
        command.downgrade(alembic_config(url), "0004")
        with engine.connect() as connection:
            state = connection.execute(text("SELECT state FROM contests")).scalar_one()
        state = state if isinstance(state, dict) else json.loads(state)
        assert state == {**STATE, "players": PLAYERS}
    finally:
        engine.dispose()
