"""quizengine: knowledge-competition and assessment engine for Party branches."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask

from .config import PROJECT_ROOT, load_config
from .extensions import csrf, db, login_manager, socketio


class QuizengineFlask(Flask):
    """Flask, deciding once per function instead of once per call whether a view or hook is ``async def``.

    Flask asks ``inspect.iscoroutinefunction`` of every before/after/teardown hook and the view on every
    request (ten calls per autosave, ~4 % of its CPU in benchmarks/save_profile.py); Flask documents
    ``ensure_sync`` as the method to override. The answer for a function never changes.
    """

    #: Functions remembered at most (hooks and views are a few hundred; a runaway is forgotten, not kept).
    SYNC_MEMO_MAX = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: dict[Callable[..., Any], bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """The function itself, or Flask's synchronous wrapper for an ``async def``.

        Remembered per underlying function: a bound method (Flask-Login's hook, a class-based view's method
        bound to a new instance per request) is looked up by its ``__func__``, so no instance is kept."""
        target = getattr(func, "__func__", func)
        plain = self._plain.get(target)
        if plain is None:
            if len(self._plain) >= self.SYNC_MEMO_MAX:
                self._plain.clear()
            plain = self._plain[target] = not iscoroutinefunction(func)
        return func if plain else super().ensure_sync(func)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, socket handlers and CLI. Wiring only, no DB writes."""
    settings = load_config(config)
    app = QuizengineFlask(
        __name__,
        instance_path=str(settings["INSTANCE_PATH"]),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings)
    # Socket handlers register on the extension *before* init_app, so every app instance gets them.
    from .realtime import contest as _contest_handlers
    from .realtime.origins import same_origin
    from .realtime.packets import JsonPacket

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        channel=app.config["SOCKETIO_CHANNEL"],
        cors_allowed_origins=same_origin(app),  # our own origins only ([] would turn the check off)
        max_http_buffer_size=app.config["SOCKET_MAX_MESSAGE_BYTES"],  # Engine.IO drops a larger message
        serializer=JsonPacket,  # JSON text only: no walk of every payload looking for bytes
    )
    _contest_handlers.install_lean_answers(socketio.server)  # on this app's server, over Flask-SocketIO's handler

    from . import web
    from .cli import register_commands

    web.init_app(app)
    register_commands(app)
    return app
