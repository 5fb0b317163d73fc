"""Start quizengine: first-run setup, then HTTP and Socket.IO from one process (gevent).

python run.py [--host 127.0.0.1] [--port 5000] [--no-setup] [--demo]

Serves on every interface by default, so members' phones on the room's Wi-Fi can join; it prints each
address they can open and a QR code of the main one. ``--host 127.0.0.1`` keeps it on this machine.
``--demo`` fills a fresh instance with a demo committee first (see ``quizengine demo``).
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


def seed_demo_or_exit(app) -> None:  # type: ignore[no-untyped-def]
    """`--demo`: write the demo committee; on a database that already has members, say so and exit 1."""
    import time

    from quizengine.cli_demo import print_demo_report
    from quizengine.extensions import db
    from quizengine.services.demo import DemoError, DemoSize, seed_demo

    started = time.perf_counter()
    with app.app_context():
        try:
            report = seed_demo(db.session(), DemoSize(), progress=print)
        except DemoError as error:
            db.session.rollback()
            raise SystemExit(f"未生成演示数据：{error.message}（去掉 --demo 即可正常启动）") from None
        print_demo_report(report, time.perf_counter() - started)


def print_addresses(host: str, port: int, public_url: str | None) -> None:
    """Say where the app can be opened, the main address also as a QR code a phone can scan."""
    import segno

    from quizengine.services.addresses import is_loopback_host, reachable_lan, serving_urls

    urls = serving_urls(host, port, public_url, reachable_lan(host))
    print("quizengine 已启动，可用以下地址打开：", flush=True)
    for label, url in urls:
        print(f"  {label}：{url}")
    label, main_url = urls[0]
    if label == "本机" and is_loopback_host(host):
        print(f"  只允许本机访问（--host {host}），手机无法加入；去掉 --host 参数即可在局域网提供服务。")
    elif label == "本机":
        print("  没有找到局域网地址，手机无法加入：请先连上 Wi-Fi 或网线，再重新启动。")
    else:
        print(f"手机扫码打开 {main_url}：")
        segno.make(main_url, error="m").terminal(compact=True)
    print("按 Ctrl+C 停止服务。", flush=True)


def main() -> None:
    """Parse flags, run first-run setup, serve."""
    parser = argparse.ArgumentParser(description="quizengine 服务")
    parser.add_argument("--host", default="0.0.0.0", help="监听地址（默认 0.0.0.0 所有网卡；127.0.0.1 仅本机）")
    parser.add_argument("--port", type=int, default=5000, help="端口（默认 5000）")
    parser.add_argument("--no-setup", action="store_true", help="跳过迁移、题库导入和管理员创建")
    parser.add_argument("--demo", action="store_true", help="在空库中生成演示党委（支部、党员、学习记录）后启动")
    args = parser.parse_args()

    from quizengine import create_app
    from quizengine.cli import print_first_run
    from quizengine.config import ConfigError
    from quizengine.extensions import socketio
    from quizengine.realtime.timers import run_loops
    from quizengine.server import serve
    from quizengine.services.setup import first_run

    try:
        app = create_app({"SOCKETIO_ASYNC_MODE": "gevent", "BIND_HOST": args.host})
    except ConfigError as error:
        raise SystemExit(f"配置有误：{error}") from None
    if not args.no_setup:
        with app.app_context():
            print_first_run(first_run(app.config))
    if args.demo:
        seed_demo_or_exit(app)
    socketio.start_background_task(sweep_expired_attempts, app)
    socketio.start_background_task(run_loops, app)
    print_addresses(args.host, args.port, app.config["PUBLIC_URL"])
    serve(app, socketio, args.host, args.port)


if __name__ == "__main__":
    main()
