"""Start quizengine: first-run setup, then HTTP and Socket.IO from one process (gevent) — or N of them.

python run.py [--host 127.0.0.1] [--port 5000] [--no-setup] [--demo]
python run.py --workers N [--base-port 5001] [--nginx-config [--server-name NAME] [--listen PORT]]

Serves on every interface by default, so members' phones on the room's Wi-Fi can join; it prints each
address they can open and a QR code of the main one. ``--host 127.0.0.1`` keeps it on this machine.
``--demo`` fills a fresh instance with a demo committee first (see ``quizengine demo``).

``--workers N`` (N > 1) runs N supervised worker processes on ports base-port … base-port+N-1, on 127.0.0.1,
behind nginx (``--nginx-config`` prints its configuration); they need PostgreSQL and a Redis message queue.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything imports socket/threading: sqlite3 and psycopg then cooperate

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402

SWEEP_SECONDS = 15


def sweep_expired_attempts(app) -> None:  # type: ignore[no-untyped-def]
    """Finalize exam attempts whose time is up, even if the member never comes back."""
    from quizengine.extensions import db, socketio
    from quizengine.services.exam_grading import finalize_expired

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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (Chinese help: a secretary reads it)."""
    from quizengine.cli_zh import install_argparse_chinese

    install_argparse_chinese()
    parser = argparse.ArgumentParser(description="quizengine 服务")
    parser.add_argument(
        "--host", metavar="地址", help="监听地址（默认 0.0.0.0 所有网卡；127.0.0.1 仅本机；多进程时默认 127.0.0.1）"
    )
    parser.add_argument("--port", type=int, default=5000, metavar="端口", help="端口（默认 5000）")
    parser.add_argument("--no-setup", action="store_true", help="跳过迁移、题库导入和管理员创建")
    parser.add_argument("--demo", action="store_true", help="在空库中生成演示党委（支部、党员、学习记录）后启动")
    parser.add_argument(
        "--workers", type=int, default=1, metavar="个数", help="工作进程数（默认 1；大于 1 时须 PostgreSQL 和 Redis）"
    )
    parser.add_argument(
        "--base-port", type=int, default=5001, metavar="端口", help="多进程时第一个工作进程的端口（默认 5001）"
    )
    parser.add_argument("--nginx-config", action="store_true", help="输出这些工作进程前面的 nginx 配置后退出")
    parser.add_argument(
        "--server-name", default="_", metavar="域名", help="nginx 配置中的 server_name（默认 _ 任意域名）"
    )
    parser.add_argument("--listen", default="80", metavar="监听", help="nginx 配置中的 listen（默认 80）")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers 至少为 1")
    return args


def supervise(args: argparse.Namespace, app) -> int:  # type: ignore[no-untyped-def]
    """Run N workers of this script on consecutive ports until SIGTERM (quizengine/supervisor.py)."""
    import sys

    from quizengine.supervisor import Supervisor, worker_ports

    host = args.host or "127.0.0.1"  # nginx is the entry point
    script = os.path.abspath(__file__)

    def command(index: int, port: int) -> list[str]:
        return [sys.executable, script, "--no-setup", "--host", host, "--port", str(port)]

    def environment(index: int) -> dict[str, str]:
        return {**os.environ, "QUIZENGINE_WORKER": str(index), "PYTHONUNBUFFERED": "1"}

    print(f"多进程模式：{args.workers} 个工作进程，经 nginx 访问（--nginx-config 输出其配置）", flush=True)
    if app.config["PUBLIC_URL"] is None:
        print("  提示：请设置 PUBLIC_URL 为党员打开的地址，二维码和加入链接才能指向 nginx。", flush=True)
    return Supervisor(command, worker_ports(args.workers, args.base_port), env=environment).run()


def main() -> None:
    """Parse flags, run first-run setup, serve (or supervise N workers)."""
    args = parse_args()
    from quizengine.supervisor import scale_out_problems, worker_ports

    if args.nginx_config:
        from quizengine.deployment import nginx_config

        try:
            print(nginx_config(args.workers, args.base_port, args.server_name, args.listen), end="")
        except ValueError as error:
            raise SystemExit(str(error)) from None
        return
    try:
        worker_ports(args.workers, args.base_port)
    except ValueError as error:
        raise SystemExit(str(error)) from None

    from quizengine import create_app
    from quizengine.cli import print_first_run
    from quizengine.config import ConfigError
    from quizengine.extensions import db, socketio
    from quizengine.realtime.timers import run_loops
    from quizengine.server import serve
    from quizengine.services.setup import first_run

    host = args.host or "0.0.0.0"
    try:
        app = create_app({"SOCKETIO_ASYNC_MODE": "gevent", "BIND_HOST": host})
    except ConfigError as error:
        raise SystemExit(f"配置有误：{error}") from None
    problems = scale_out_problems(args.workers, app.config["DATABASE_URL"], app.config["SOCKETIO_MESSAGE_QUEUE"])
    if problems:
        raise SystemExit("无法以多个工作进程启动：\n  " + "\n  ".join(problems))
    if not args.no_setup:
        with app.app_context():
            print_first_run(first_run(app.config))
    if args.demo:
        seed_demo_or_exit(app)
    if args.workers > 1:
        with app.app_context():
            db.engine.dispose()  # the workers open their own connections
        raise SystemExit(supervise(args, app))
    if app.config["FAST_BROADCAST"]:
        from quizengine.realtime.fast_broadcast import install

        install()  # logs why and changes nothing when the framework's versions differ from the tested ones
    socketio.start_background_task(sweep_expired_attempts, app)
    socketio.start_background_task(run_loops, app)
    if app.config["WORKER"] is not None:  # one of several behind nginx: the supervisor shows the addresses
        worker = app.config["WORKER"]
        print(f"quizengine 已启动：工作进程 {worker}（进程号 {os.getpid()}），http://{host}:{args.port}/", flush=True)
    else:
        print_addresses(host, args.port, app.config["PUBLIC_URL"])
    serve(app, socketio, host, args.port)


if __name__ == "__main__":
    main()
