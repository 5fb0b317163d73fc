"""Fixtures: app, client, runner, session, fake_clock, factories; SQLite by default, PostgreSQL on request.

Set QUIZENGINE_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) to run
the suite on PostgreSQL: a throw-away database is created for the run and dropped afterwards.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from quizengine import create_app
from quizengine.engine.timing import FakeClock
from quizengine.extensions import db
from quizengine.models import Base, Role, User
from quizengine.services.accounts import create_user
from quizengine.services.schema import upgrade_database

from . import browser

DATA = Path(__file__).parent / "data"
PG_ADMIN_URL = os.environ.get("QUIZENGINE_TEST_DATABASE_URL")
PASSWORD = "correct-horse-42"


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--update-screenshots`: browser tests write docs/screenshots/ (tracked) instead of tests/screenshots/."""
    parser.addoption(
        "--update-screenshots",
        action="store_true",
        help="write browser screenshots to docs/screenshots/ (tracked) instead of tests/screenshots/ (git-ignored)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Tell the browser helper where screenshots go for this run."""
    browser.update_screenshots = config.getoption("--update-screenshots")


def _create_pg_database(admin_url: str) -> str:
    name = f"quizengine_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(admin_url: str, url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], str]]:
    """A factory of empty databases of the configured kind; PostgreSQL ones are dropped at the end."""
    created: list[str] = []

    def make() -> str:
        if PG_ADMIN_URL:
            url = _create_pg_database(PG_ADMIN_URL)
            created.append(url)
            return url
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"

    yield make
    for url in created:
        _drop_pg_database(PG_ADMIN_URL or "", url)


@pytest.fixture(scope="session")
def database_url(fresh_database_url: Callable[[], str]) -> str:
    """One migrated database shared by the run; tests empty its tables afterwards."""
    url = fresh_database_url()
    upgrade_database(url)
    return url


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on the shared test database, with an empty banks folder of its own."""
    banks = tmp_path / "banks"
    banks.mkdir()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": tmp_path / "instance",
            "SECRET_KEY": "test-secret",
            "BANKS_PATH": banks,
        }
    )
    yield app
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    db.engine.dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A database session of the test's own, like another process would have.

    Requests made by `client` run in their own app context with their own session (as in production),
    so nothing the test has loaded leaks into what a view sees, and vice versa.
    """
    with Session(db.engine, expire_on_commit=False) as own:
        yield own


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner bound to the app."""
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost makes hundreds of test logins slow; the hashing code path stays the same."""
    from argon2 import PasswordHasher

    from quizengine.services import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock frozen at 2026-01-01 08:00 UTC."""
    return FakeClock()


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    """Factory: a user with a known password (PASSWORD) and sensible defaults."""
    counter = iter(range(1, 10_000))

    def make(role: Role = Role.MEMBER, username: str | None = None, branch: str | None = "第一党支部", **kw) -> User:
        username = username or f"user{next(counter)}"
        user, _ = create_user(
            session,
            username=username,
            name=kw.pop("name", f"测试{username}"),
            role=role,
            password=kw.pop("password", PASSWORD),
            branch_name=branch if role is not Role.ADMIN else None,
            **kw,
        )
        return user

    return make


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """Fetch a page and return the CSRF token from its form."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """Log in through the real form (with its CSRF token)."""
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})
