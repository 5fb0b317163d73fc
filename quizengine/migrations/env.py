"""Alembic environment: the URL comes from services.schema, never from an ini file."""

from __future__ import annotations

from alembic import context

from quizengine.extensions import make_engine
from quizengine.models import Base

config = context.config


def run_migrations() -> None:
    """Run online migrations on the URL (or connection) handed over in config.attributes."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.attributes["url"])
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
