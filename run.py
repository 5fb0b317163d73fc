"""Start quizengine: first-run setup, then HTTP and Socket.IO from one process (gevent).

python run.py [--host 127.0.0.1] [--port 5000] [--no-setup]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything imports socket/threading: sqlite3 and psycopg then cooperate

import argparse  # noqa: E402
import logging  # noqa: E402

SWEEP_SECONDS = 15


def sweep_expired_attempts(app) -> None:  # type: ignore[no-untyped-def]
    """Finalize exam attempts whose time is up, even if the member never comes back."""
    from quizengine.extensions import db, socketio
    from quizengine.services.exams import finalize_expired

    while True:
        socketio.sleep(SWEEP_SECONDS)
        with app.app_context():
            try:
                finalize_expired(db.session())
            except Exception:  # keep sweeping; one bad row must not stop the others' finalization
                logging.getLogger("quizengine.sweeper").exception("sweeping expired attempts failed")


def main() -> None:
    """Parse flags, run first-run setup, serve."""
    parser = argparse.ArgumentParser(description="quizengine 服务")
    parser.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    parser.add_argument("--port", type=int, default=5000, help="端口（默认 5000）")
    parser.add_argument("--no-setup", action="store_true", help="跳过迁移、题库导入和管理员创建")
    args = parser.parse_args()

    from quizengine import create_app
    from quizengine.cli import print_first_run
    from quizengine.extensions import socketio
    from quizengine.realtime.timers import run_loops
    from quizengine.server import serve
    from quizengine.services.setup import first_run

    app = create_app({"SOCKETIO_ASYNC_MODE": "gevent"})
    if not args.no_setup:
        with app.app_context():
            print_first_run(first_run(app.config))
    socketio.start_background_task(sweep_expired_attempts, app)
    socketio.start_background_task(run_loops, app)
    print(f"quizengine 已启动：http://{args.host}:{args.port}/", flush=True)
    serve(app, socketio, args.host, args.port)


if __name__ == "__main__":
    main()
