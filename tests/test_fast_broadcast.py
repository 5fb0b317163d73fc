"""quizengine.realtime.fast_broadcast: whole, ordered frames under concurrent broadcasts and per-client sends,
the frame it builds once is the one gevent-websocket would build, and it refuses versions it was not tested with.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import socketio.server
from engineio import packet as eio_packet
from websockets.sync.client import connect

from quizengine.realtime import fast_broadcast

SERVER = Path(__file__).resolve().parent / "fast_broadcast_server.py"
EVENT = re.compile(r"42/t,(\d*)(\[.*)", re.DOTALL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(port: int) -> subprocess.Popen[str]:
    """The test server, once it accepts connections."""
    server = subprocess.Popen(
        [sys.executable, str(SERVER), str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert server.stdout is not None and server.stdout.readline().strip() == "ready", "the test server did not start"
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        assert time.monotonic() < deadline, "the test server does not listen"
        time.sleep(0.05)


def _stop_server(server: subprocess.Popen[str]) -> None:
    server.kill()
    server.wait(10)
    if server.stdout is not None:
        server.stdout.close()


def _expected(tag: str, number: int, sizes: list[int]) -> str:
    return f"{tag}:{number}:" + "党" * sizes[number % len(sizes)]


class Listener(threading.Thread):
    """One raw WebSocket client: checks every event it gets is whole and next in its sequence."""

    def __init__(self, port: int, broadcasters: int, sizes: list[int], slow: float, start_go: dict | None) -> None:
        super().__init__(daemon=True)
        self.port, self.url = port, f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
        self.broadcasters, self.sizes, self.slow, self.start_go = broadcasters, sizes, slow, start_go
        self.next_b = [0] * broadcasters
        self.next_p = 0
        self.done: dict | None = None
        self.errors: list[str] = []
        self.joined = threading.Event()

    def run(self) -> None:
        try:
            # a slow reader: a small receive buffer and max_queue=1, so the kernel soon takes only part of a frame
            sock = socket.socket()
            if self.slow:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", self.port))
            with connect(self.url, sock=sock, max_size=None, max_queue=1, compression=None, open_timeout=10) as ws:
                assert str(ws.recv(timeout=10)).startswith("0{")
                ws.send("40/t,")
                assert str(ws.recv(timeout=10)).startswith("40/t,")
                self.joined.set()
                if self.start_go is not None:
                    ws.send("42/t,1" + json.dumps(["go", self.start_go]))
                time.sleep(self.slow)
                while self.done is None:
                    self.handle(ws, str(ws.recv(timeout=60)))
        except Exception as error:  # a garbled frame closes the connection: the test reports it
            self.errors.append(f"{type(error).__name__}: {error}")
            self.joined.set()

    def handle(self, ws, text: str) -> None:  # type: ignore[no-untyped-def]
        if text == "2":
            ws.send("3")
            return
        match = EVENT.fullmatch(text)
        if not match:
            assert text.startswith("43/t,1"), text[:80]  # the ack of go
            return
        ack, (event, *args) = match.group(1), json.loads(match.group(2))
        if ack:
            ws.send(f"43/t,{ack}[]")
        if event == "b":
            group, number = args[0]["g"], args[0]["n"]
            self.check(number == self.next_b[group], f"b{group}: got {number}, expected {self.next_b[group]}")
            self.check(args[0]["body"] == _expected(f"b{group}", number, self.sizes), f"b{group}:{number} garbled")
            self.next_b[group] += 1
        elif event == "p":
            number = args[0]["n"]
            self.check(number == self.next_p, f"p: got {number}, expected {self.next_p}")
            self.check(args[0]["body"] == _expected("p", number, self.sizes), f"p:{number} garbled")
            self.next_p += 1
        elif event == "done":
            self.done = args[0]

    def check(self, condition: bool, message: str) -> None:
        if not condition and len(self.errors) < 5:
            self.errors.append(message)


def test_concurrent_broadcasts_and_personal_sends_arrive_whole_and_in_order() -> None:
    """Three greenlets broadcasting and one per client sending to it alone, frames up to ~360 KB, half the
    clients reading late: every client gets every event once, whole and in order, and all three paths ran
    (written at once, written in part with the rest queued, queued behind a busy writer)."""
    port, count, broadcasters, sizes = _free_port(), 30, 3, [3, 500, 120_000]
    server = _start_server(port)
    try:
        listeners = [Listener(port, broadcasters, sizes, slow=1.0 if i % 2 else 0.0, start_go=None) for i in range(6)]
        for listener in listeners:
            listener.start()
            assert listener.joined.wait(10)
        go = Listener(port, broadcasters, sizes, 0.0, {"broadcasters": broadcasters, "count": count, "sizes": sizes})
        go.start()
        everyone = [*listeners, go]
        for listener in everyone:
            listener.join(90)
        for listener in everyone:
            assert not listener.errors, listener.errors
            assert listener.done is not None, "no done event"
            assert listener.next_b == [count] * broadcasters and listener.next_p == count
        stats = go.done
        assert stats is not None
        assert stats["written"] > 0 and stats["partial"] > 0 and stats["queued"] > 0, stats
    finally:
        _stop_server(server)


@pytest.mark.parametrize("chars", [0, 41, 42, 21_845, 21_846, 120_000])
def test_the_prebuilt_frame_is_the_one_gevent_websocket_builds(chars: int) -> None:
    """Lengths around the 7-bit, 16-bit and 64-bit length forms of the header."""
    from geventwebsocket.websocket import WebSocket

    written: list[bytes] = []

    class Stream:
        write = written.append
        read = None

    ws = WebSocket({}, Stream(), None)
    pkt = eio_packet.Packet(eio_packet.MESSAGE, '2/contest,["state",{"t":"' + "党" * chars + '"}]')
    expected_text = pkt.encode()
    frame = fast_broadcast.prebuilt_frame(pkt)
    ws.send(expected_text)
    assert frame == written[0]
    assert pkt.encode() == expected_text and pkt.encode().ws_frame is frame  # cached for every other client


def test_it_refuses_other_versions_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert fast_broadcast.version_problems(dict(fast_broadcast.TESTED)) == []
    assert fast_broadcast.version_problems({**fast_broadcast.TESTED, "python-engineio": "4.16.0"}) == [
        "python-engineio 4.16.0 (tested: 4.15.1)"
    ]
    assert "gevent-websocket not installed" in fast_broadcast.version_problems({})[2]
    before = socketio.server.Server._send_eio_packet
    monkeypatch.setitem(fast_broadcast.TESTED, "python-socketio", "0.0.1")
    with caplog.at_level(logging.WARNING, logger="quizengine.fast_broadcast"):
        assert fast_broadcast.install() is False
    assert "python-socketio 5.18.1 (tested: 0.0.1)" in caplog.text
    assert not fast_broadcast.installed() and socketio.server.Server._send_eio_packet is before


def test_install_is_idempotent_and_uninstall_puts_the_framework_back() -> None:
    import engineio.socket
    from engineio.async_drivers import gevent as eio_gevent

    originals = (
        socketio.server.Server._send_eio_packet,
        engineio.socket.Socket._websocket_handler,
        engineio.socket.Socket.poll,
        eio_gevent.WebSocketWSGI.send,
    )
    try:
        assert fast_broadcast.install() and fast_broadcast.install()
        assert socketio.server.Server._send_eio_packet is fast_broadcast._send_eio_packet
        assert fast_broadcast._originals["send_eio_packet"] is originals[0]  # not wrapped twice
    finally:
        fast_broadcast.uninstall()
    assert (
        socketio.server.Server._send_eio_packet,
        engineio.socket.Socket._websocket_handler,
        engineio.socket.Socket.poll,
        eio_gevent.WebSocketWSGI.send,
    ) == originals


def test_a_long_polling_client_gets_the_prebuilt_packets_as_text() -> None:
    """A client that never upgrades reads the shared packets through its long-polls: the cached text, in order,
    all through its queue (a long-poll is never written to directly)."""
    import socketio as socketio_client

    port, count, sizes = _free_port(), 3, [3, 500, 2_000]
    server = _start_server(port)
    client = socketio_client.Client(reconnection=False)
    got: list[tuple[str, int, str]] = []
    done = threading.Event()
    client.on("b", lambda data: got.append((f"b{data['g']}", data["n"], data["body"])), namespace="/t")
    client.on("p", lambda data: got.append(("p", data["n"], data["body"])), namespace="/t")
    stats: list[dict] = []
    client.on("done", lambda data: (stats.append(data), done.set()), namespace="/t")
    try:
        client.connect(f"http://127.0.0.1:{port}", namespaces=["/t"], transports=["polling"], wait_timeout=10)
        go = {"broadcasters": 2, "count": count, "sizes": sizes, "personal": False}
        client.call("go", go, namespace="/t", timeout=10)
        assert done.wait(30), "no done event"
        assert stats[0]["written"] == 0 and stats[0]["queued"] == 2 * count, stats
        for tag in ("b0", "b1"):
            mine = [(number, body) for name, number, body in got if name == tag]
            assert mine == [(n, _expected(tag, n, sizes)) for n in range(count)], tag
    finally:
        client.disconnect()
        _stop_server(server)
