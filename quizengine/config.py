"""Configuration: every environment variable the app reads is read here, and only here."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from quizengine.services.addresses import normalize_public_url, parse_proxy_networks

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting's value is unusable; the message says which and how to write it (Chinese, for the operator)."""


def _secret_key(instance_path: Path) -> str:
    """Read the instance's secret key, generating it once (never a fixed default)."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def _flag(value: str | None) -> bool | None:
    """An on/off environment variable: None when unset."""
    return None if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Build the app configuration from defaults, the environment and explicit overrides (tests).

    Overrides win over the environment, which wins over defaults. The instance folder is created here
    because the SQLite file and the secret key live in it.
    """
    overrides = dict(overrides or {})
    instance_path = Path(
        overrides.get("INSTANCE_PATH") or environ.get("QUIZENGINE_INSTANCE") or PROJECT_ROOT / "instance"
    )
    instance_path.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "INSTANCE_PATH": instance_path,
        "DATABASE_URL": environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'quizengine.sqlite3'}",
        "SQLITE_BUSY_TIMEOUT_MS": 5000,
        # PostgreSQL connection pool of one (gevent) process; see docs/deployment.md.
        "DB_POOL_SIZE": int(environ.get("QUIZENGINE_DB_POOL_SIZE", "10")),
        "DB_MAX_OVERFLOW": int(environ.get("QUIZENGINE_DB_MAX_OVERFLOW", "10")),
        "DB_POOL_TIMEOUT": float(environ.get("QUIZENGINE_DB_POOL_TIMEOUT", "60")),
        "BANKS_PATH": Path(environ.get("QUIZENGINE_BANKS") or PROJECT_ROOT / "question_banks"),
        "DISPLAY_TIMEZONE": "Asia/Shanghai",
        "SOCKETIO_ASYNC_MODE": environ.get("QUIZENGINE_ASYNC_MODE", "threading"),
        "SOCKETIO_MESSAGE_QUEUE": environ.get("SOCKETIO_MESSAGE_QUEUE") or None,
        "SOCKETIO_CHANNEL": environ.get("SOCKETIO_CHANNEL", "quizengine"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": environ.get("SESSION_COOKIE_SECURE", "").lower() in {"1", "true", "yes"},
        "SESSION_COOKIE_NAME": "quizengine_session",
        # Largest request body: the roster upload (services.roster.MAX_BYTES, 5 MB) plus its form; more is a 413.
        "MAX_CONTENT_LENGTH": int(environ.get("QUIZENGINE_MAX_CONTENT_LENGTH", str(6 * 1024 * 1024))),
        # Largest Socket.IO message a client may send: the biggest legit one is a 2,000-character answer.
        "SOCKET_MAX_MESSAGE_BYTES": int(environ.get("QUIZENGINE_SOCKET_MAX_MESSAGE_BYTES", str(64 * 1024))),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead: an exam page may stay open for hours
        # Login throttling (services/login_throttle.py): free failures, then doubling delays up to a cap.
        "LOGIN_FREE_FAILURES": 5,
        "LOGIN_FREE_FAILURES_PER_ADDRESS": 30,
        "LOGIN_FIRST_DELAY_SECONDS": 30,
        "LOGIN_MAX_DELAY_SECONDS": 15 * 60,
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none, the default).
        "TRUSTED_PROXIES": int(environ.get("QUIZENGINE_TRUSTED_PROXIES", "0")),
        # …and only when the request comes straight from one of these (comma-separated addresses or networks).
        "TRUSTED_PROXY_ADDRESSES": environ.get("QUIZENGINE_TRUSTED_PROXY_ADDRESSES", "127.0.0.1, ::1"),
        # One log line per request; None: on, except when TESTING.
        "REQUEST_LOG": _flag(environ.get("QUIZENGINE_REQUEST_LOG")),
        "PASSWORD_MIN_LENGTH": 8,
        "POINTS_PER_CORRECT": int(environ.get("QUIZENGINE_POINTS_PER_CORRECT", "1")),
        "POINTS_PER_SESSION": int(environ.get("QUIZENGINE_POINTS_PER_SESSION", "5")),
        "POINTS_DAILY_CAP": int(environ.get("QUIZENGINE_POINTS_DAILY_CAP", "50")),
        "DAILY_GOAL": max(1, int(environ.get("QUIZENGINE_DAILY_GOAL", "10"))),  # questions a day (home page)
        # The address members open behind a reverse proxy (join links, QR codes, the socket origin check).
        "PUBLIC_URL": environ.get("PUBLIC_URL") or None,
        # Which of run.py's supervised workers this process is (1…N; None when it runs alone).
        "WORKER": int(environ["QUIZENGINE_WORKER"]) if environ.get("QUIZENGINE_WORKER", "").isdigit() else None,
        "BIND_HOST": None,  # the address run.py listens on (None: unknown, e.g. another WSGI server)
        # run.py's workers write a room broadcast's frame once to every idle client (realtime/fast_broadcast.py).
        "FAST_BROADCAST": _flag(environ.get("QUIZENGINE_FAST_BROADCAST")) is not False,
    }
    config.update(overrides)
    config["INSTANCE_PATH"] = instance_path
    try:
        config["PUBLIC_URL"] = normalize_public_url(config["PUBLIC_URL"])
        if isinstance(config["TRUSTED_PROXY_ADDRESSES"], str):
            config["TRUSTED_PROXY_ADDRESSES"] = parse_proxy_networks(config["TRUSTED_PROXY_ADDRESSES"])
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = environ.get("SECRET_KEY") or _secret_key(instance_path)
    return config
