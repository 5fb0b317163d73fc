"""The two same-run baselines of benchmarks/contest_fanout.py: a bare Flask-SocketIO server (S) and a raw floor (R).

Both speak the same tiny contest protocol on the ``/contest`` namespace, so one lean client drives them:

    join    participant -> server, with ack: join the contest's room; ack {"ok": true}
    show    host -> server, with ack: broadcast ``question`` with the host's payload to the room; ack {"ok": true}
    answer  participant -> server, with ack: ack {"ok": true, "round": <payload round>} to the sender only

**S** is what a Flask-SocketIO app costs before it does any work of its own: Flask + Flask-SocketIO in
gevent mode, monkey-patched first, served by ``quizengine.server.serve`` exactly as run.py serves quizengine
(gevent's WSGI server with ``TCP_NODELAY``, and gevent-websocket's handler when it is installed; same
``cors_allowed_origins=[]``, no message queue, no request log); one room broadcast per ``show``.

**F** is S with quizengine's fast broadcast (``quizengine/realtime/fast_broadcast.py``, as run.py installs it):
the framework's cost per broadcast with the frame built once and written straight to idle clients.

**R** is the floor: one asyncio ``websockets`` server writing the Engine.IO/Socket.IO text frames by hand
and fanning out with ``websockets.broadcast`` (the frame is built once and written to every socket). It
sends no Engine.IO pings (a run is shorter than a ping interval) and checks nothing it does not need.

    .venv/bin/python benchmarks/baseline_servers.py socketio --port 5101
    .venv/bin/python benchmarks/baseline_servers.py raw --port 5102
    .venv/bin/python benchmarks/baseline_servers.py socketio-fast --port 5103   # S + realtime/fast_broadcast.py

With ``QUIZENGINE_BENCH_PROFILE=FILE`` in the environment, S and F write a cProfile of the rounds (first
``show`` to first ``answer``) to FILE.

Each prints ``<name> serving on <port>`` once it is about to accept connections. Nothing but 127.0.0.1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's quizengine, not another one installed in the venv

HOST = "127.0.0.1"
NAMESPACE = "/contest"
ROOM = "contest-1"
#: What the harness waits for in a baseline's output before connecting.
READY_MARKER = "serving on"
#: S and F profile their rounds (cProfile, every greenlet of the process) into this file when it is set.
PROFILE_ENV = "QUIZENGINE_BENCH_PROFILE"


class Profile:
    """cProfile from the first ``show`` to the first ``answer`` (the rounds), dumped to ``path``; off without one."""

    def __init__(self, path: str | None) -> None:
        self.path, self.profiler, self.done = path, None, False

    def start(self) -> None:
        if self.path and self.profiler is None and not self.done:
            import cProfile
            import time

            self.profiler = cProfile.Profile(time.process_time)  # CPU time: waiting in the hub costs nothing
            self.profiler.enable()

    def stop(self) -> None:
        if self.profiler is not None:
            self.profiler.disable()
            self.profiler.dump_stats(self.path)
            self.profiler, self.done = None, True


def serve_socketio(port: int, fast: bool = False) -> None:
    """S: bare Flask-SocketIO under gevent (the caller has monkey-patched already); F with ``fast``."""
    from flask import Flask
    from flask_socketio import SocketIO, emit, join_room

    app = Flask("bench_socketio")
    socketio = SocketIO(app, async_mode="gevent", cors_allowed_origins=[])
    profile = Profile(os.environ.get(PROFILE_ENV))

    @socketio.on("connect", namespace=NAMESPACE)
    def connect(auth: object = None) -> bool:
        return True

    @socketio.on("join", namespace=NAMESPACE)
    def join(_data: object = None) -> dict[str, object]:
        join_room(ROOM)
        return {"ok": True}

    @socketio.on("show", namespace=NAMESPACE)
    def show(data: object = None) -> dict[str, object]:
        profile.start()
        emit("question", data, to=ROOM)
        return {"ok": True}

    @socketio.on("answer", namespace=NAMESPACE)
    def answer(data: object = None) -> dict[str, object]:
        profile.stop()
        return {"ok": True, "round": data.get("round") if isinstance(data, dict) else None}

    from quizengine.server import serve

    if fast:
        from quizengine.realtime.fast_broadcast import install

        if not install():
            sys.exit("socketio-fast: quizengine.realtime.fast_broadcast refused to install (see the log line)")
    print(f"socketio {READY_MARKER} {port}", flush=True)
    serve(app, socketio, HOST, port)


def serve_raw(port: int) -> None:
    """R: the floor, asyncio + websockets.broadcast, with hand-written EIO 4 / SIO 5 text frames."""
    import asyncio
    import itertools
    import json

    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    from benchmarks.lean_sio import decode_sio, encode_ack

    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    room: set[ServerConnection] = set()
    sids = itertools.count(1)
    prefix = NAMESPACE + ","
    open_packet = '0{"sid":"%s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'

    async def handler(ws: ServerConnection) -> None:
        sid = f"r{next(sids)}"
        await ws.send(open_packet % sid)
        try:
            async for message in ws:
                if not isinstance(message, str) or message[:1] != "4":
                    continue  # pongs ("3") and anything else
                kind, namespace, ack_id, data = decode_sio(message[1:])
                if namespace != NAMESPACE:
                    continue
                if kind == "0":
                    await ws.send(f"40{prefix}{dumps({'sid': sid})}")
                elif kind == "1":
                    room.discard(ws)
                elif kind == "2" and data:
                    event, payload = data[0], (data[1] if len(data) > 1 else None)
                    reply: dict[str, object] = {"ok": True}
                    if event == "join":
                        room.add(ws)
                    elif event == "show":
                        broadcast(room, f"42{prefix}{dumps(['question', payload])}")
                    elif event == "answer":
                        reply["round"] = payload.get("round") if isinstance(payload, dict) else None
                    if ack_id is not None:
                        await ws.send(encode_ack(NAMESPACE, ack_id, [reply]))
        except ConnectionClosed:
            pass
        finally:
            room.discard(ws)

    async def main() -> None:
        async with serve(handler, HOST, port, compression=None, ping_interval=None, max_size=None, backlog=128):
            print(f"raw {READY_MARKER} {port}", flush=True)
            await asyncio.Future()

    asyncio.run(main())


def main(argv: list[str]) -> None:
    """``baseline_servers.py {socketio|raw} --port P``."""
    if len(argv) != 3 or argv[0] not in ("socketio", "socketio-fast", "raw") or argv[1] != "--port":
        sys.exit("usage: baseline_servers.py {socketio|socketio-fast|raw} --port PORT")
    port = int(argv[2])
    if argv[0].startswith("socketio"):
        from gevent import monkey

        monkey.patch_all()  # before flask/engineio import socket or threading, as run.py does
        serve_socketio(port, fast=argv[0] == "socketio-fast")
    else:
        serve_raw(port)


if __name__ == "__main__":
    main(sys.argv[1:])
