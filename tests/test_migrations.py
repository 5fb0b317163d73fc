"""Alembic: upgrading an empty database yields exactly the models' schema (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from quizengine.extensions import make_engine
from quizengine.models import Base
from quizengine.services.schema import alembic_config, current_revision, head_revision, upgrade_database


def test_upgrade_from_empty_matches_models_and_round_trips(fresh_database_url: Callable[[], str]) -> None:
    url = fresh_database_url()
    engine = make_engine(url)
    try:
        assert current_revision(engine) is None
        upgrade_database(url)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        upgrade_database(url)  # idempotent
        command.downgrade(alembic_config(url), "base")
        assert current_revision(engine) is None
        upgrade_database(url)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
