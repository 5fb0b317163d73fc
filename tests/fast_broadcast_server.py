"""A gevent Flask-SocketIO server with quizengine's fast broadcast, for tests/test_fast_broadcast.py.

``python tests/fast_broadcast_server.py PORT`` prints ``ready`` once it accepts connections. On namespace
``/t`` every client joins room ``all``; ``go`` (from any client) starts, at once and interleaved,
``broadcasters`` greenlets that each broadcast ``count`` numbered ``b`` events to the room, and one greenlet
per client that sends it ``count`` numbered ``p`` events of its own (every other one with an ack, so it goes
through Engine.IO's per-client send; not with ``personal: false``); bodies cycle through ``sizes`` characters
of 党 (3 bytes each in UTF-8). When all are done the room gets ``done`` with the fast path's counts.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gevent  # noqa: E402
from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

from quizengine.realtime import fast_broadcast  # noqa: E402
from quizengine.server import serve  # noqa: E402

NS = "/t"


def body(tag: str, number: int, sizes: list[int]) -> str:
    """The text a numbered event carries: its tag and number, then the cycle's size in 党."""
    return f"{tag}:{number}:" + "党" * sizes[number % len(sizes)]


def main(port: int) -> None:
    app = Flask("fast_broadcast_test")
    socketio = SocketIO(app, async_mode="gevent", cors_allowed_origins=[], max_http_buffer_size=10_000_000)
    clients: list[str] = []

    @socketio.on("connect", namespace=NS)
    def connect(auth: object = None) -> None:
        join_room("all")
        clients.append(request.sid)  # type: ignore[attr-defined]

    @socketio.on("disconnect", namespace=NS)
    def disconnect(reason: object = None) -> None:
        if request.sid in clients:  # type: ignore[attr-defined]
            clients.remove(request.sid)  # type: ignore[attr-defined]

    def broadcaster(index: int, count: int, sizes: list[int]) -> None:
        for number in range(count):
            data = {"g": index, "n": number, "body": body(f"b{index}", number, sizes)}
            socketio.emit("b", data, to="all", namespace=NS)
            if number % 3 == 2:  # the first big body goes out before anything else runs: written at once
                gevent.sleep(0)

    def personal(sid: str, count: int, sizes: list[int]) -> None:
        for number in range(count):
            data = {"n": number, "body": body("p", number, sizes)}
            callback = (lambda *args: None) if number % 2 else None  # acked ones go through Engine.IO's send
            socketio.emit("p", data, to=sid, namespace=NS, callback=callback)
            if number % 2 == 0:
                gevent.sleep(0)

    @socketio.on("go", namespace=NS)
    def go(spec: dict) -> dict:
        count, sizes = int(spec["count"]), [int(size) for size in spec["sizes"]]
        jobs = [gevent.spawn(broadcaster, index, count, sizes) for index in range(int(spec["broadcasters"]))]
        if spec.get("personal", True):
            jobs += [gevent.spawn(personal, sid, count, sizes) for sid in list(clients)]

        def finish() -> None:
            gevent.joinall(jobs)
            socketio.emit("done", dict(fast_broadcast.counts), to="all", namespace=NS)

        gevent.spawn(finish)
        return {"ok": True, "clients": len(clients)}

    if not fast_broadcast.install():
        sys.exit("fast broadcast refused to install")
    print("ready", flush=True)
    serve(app, socketio, "127.0.0.1", port)


if __name__ == "__main__":
    main(int(sys.argv[1]))
