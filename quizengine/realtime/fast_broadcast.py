"""Room broadcasts at the cost of a raw WebSocket broadcast: one frame per broadcast, written once per client.

Why: python-socketio encodes a broadcast once, then hands it to every client separately — the Engine.IO
queue, a wake-up of the client's writer greenlet, a WebSocket frame built again (UTF-8 encode, header) and a
``sendall``, each in that client's greenlet. A bare Flask-SocketIO server took ~3 x the time of a raw
``websockets.broadcast`` to reach the last of 1,000-2,000 players (docs/performance.md, "Live contest
fan-out"), and the switches between greenlets were most of it. Here the frame is built once per broadcast
(cached on the shared Engine.IO packet) and each client gets it one of two ways:

* **its writer is idle** (the WebSocket writer greenlet waits on an empty queue): the broadcasting greenlet
  writes the frame with one non-blocking ``send``. Whatever the kernel does not take at once is queued for
  the writer before anything else can be: nothing yields between the check and the queueing, so no other
  frame can start on that socket before this one is whole;
* **otherwise** (packets queued, the writer busy sending, long-polling, upgrading, closing): the packet goes
  through the client's queue as before, and its writer sends the prebuilt frame.

Either way the writer greenlet stays the only one that can block on the socket, so frames never interleave
(tests/test_fast_broadcast.py drives concurrent broadcasts and per-client sends of large frames through it).

It replaces four methods of python-socketio, python-engineio and gevent-websocket, and only for the versions
it was checked against (:data:`TESTED`): with any other version, or without gevent-websocket, :func:`install`
logs why and leaves the framework as it is. run.py installs it in each gevent worker.
"""

from __future__ import annotations

import logging
from importlib import metadata
from typing import Any

logger = logging.getLogger("quizengine.fast_broadcast")

#: The versions whose internals this module was written against and tested with.
TESTED = {
    "python-socketio": "5.18.1",
    "python-engineio": "4.15.1",
    "gevent-websocket": "0.10.1",
    "gevent": "26.9.0",
}
#: Per-Engine.IO-socket attributes: (gevent-websocket WebSocket, gevent socket) while the WebSocket handler
#: runs; True while the socket's writer waits for packets.
OUT, IDLE = "_quizengine_out", "_quizengine_idle"

_originals: dict[str, Any] = {}
#: How clients of broadcasts were served since start: written at once, written in part (the rest queued),
#: queued (the framework's way, with the prebuilt frame). For tests and the benchmark's log.
counts = {"written": 0, "partial": 0, "queued": 0}


class FramedText(str):
    """An Engine.IO packet's text, carrying the WebSocket text frame built from it once for every client."""

    ws_frame: bytes


def version_problems(installed: dict[str, str | None] | None = None) -> list[str]:
    """What differs from the tested versions (``installed`` maps a distribution to its version; default: these)."""
    if installed is None:
        installed = {}
        for name in TESTED:
            try:
                installed[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                installed[name] = None
    problems = []
    for name, tested in TESTED.items():
        found = installed.get(name)
        if found != tested:
            problems.append(f"{name} {found or 'not installed'} (tested: {tested})")
    return problems


def installed() -> bool:
    """Whether the fast path is in place in this process."""
    return bool(_originals)


def install() -> bool:
    """Put the fast path in place (idempotent); False, with a log line saying why, when the versions differ."""
    if _originals:
        return True
    problems = version_problems()
    if problems:
        logger.warning("fast broadcast not installed, the framework's own path is used: %s", "; ".join(problems))
        return False
    import engineio.socket
    import socketio.server
    from engineio.async_drivers import gevent as eio_gevent

    ws_wsgi = getattr(eio_gevent, "WebSocketWSGI", None)
    if getattr(eio_gevent, "SimpleWebSocketWSGI", None) is not None or ws_wsgi is None:
        logger.warning("fast broadcast not installed: Engine.IO does not use gevent-websocket here")
        return False
    _originals.update(
        send_eio_packet=socketio.server.Server._send_eio_packet,
        websocket_handler=engineio.socket.Socket._websocket_handler,
        poll=engineio.socket.Socket.poll,
        ws_send=ws_wsgi.send,
    )
    socketio.server.Server._send_eio_packet = _send_eio_packet
    engineio.socket.Socket._websocket_handler = _websocket_handler
    engineio.socket.Socket.poll = _poll
    ws_wsgi.send = _ws_send
    logger.info("fast broadcast installed")
    return True


def uninstall() -> None:
    """Put the framework's own methods back (tests)."""
    if not _originals:
        return
    import engineio.socket
    import socketio.server
    from engineio.async_drivers import gevent as eio_gevent

    socketio.server.Server._send_eio_packet = _originals["send_eio_packet"]
    engineio.socket.Socket._websocket_handler = _originals["websocket_handler"]
    engineio.socket.Socket.poll = _originals["poll"]
    eio_gevent.WebSocketWSGI.send = _originals["ws_send"]
    _originals.clear()


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked WebSocket text frame of ``payload`` (server to client), as gevent-websocket builds it."""
    from geventwebsocket.websocket import Header, WebSocket

    return bytes(Header.encode_header(True, WebSocket.OPCODE_TEXT, b"", len(payload), 0)) + payload


def prebuilt_frame(eio_pkt: Any) -> bytes:
    """The packet's WebSocket frame, built at its first client and cached on the packet for the others."""
    cached = eio_pkt.encode_cache
    if isinstance(cached, FramedText):
        return cached.ws_frame
    text = FramedText(eio_pkt.encode())
    text.ws_frame = text_frame(text.encode("utf-8"))
    eio_pkt.encode_cache = text  # what Packet.encode returns from now on, to writers and long-polls alike
    return text.ws_frame


def remainder_packet(rest: bytes) -> Any:
    """A queue item making the writer send the rest of a frame the kernel took only part of."""
    from engineio import packet

    pkt = packet.Packet(packet.NOOP)
    text = FramedText(pkt.encode())  # "6": a no-op, should a long-poll ever take it
    text.ws_frame = rest
    pkt.encode_cache = text
    return pkt


def write_now(eio_socket: Any, frame: bytes) -> bool:
    """Write ``frame`` to the client now if its writer is idle; False: queue it instead (the framework's way)."""
    state = eio_socket.__dict__
    out = state.get(OUT)
    if (
        out is None
        or not state.get(IDLE)
        or not eio_socket.upgraded
        or eio_socket.upgrading
        or eio_socket.closing
        or eio_socket.closed
        or eio_socket.queue.qsize()
    ):
        return False
    if not eio_socket.check_ping_timeout():
        return True  # the client is gone and the socket closed, as Socket.send would have dropped it
    websocket, sock = out
    if websocket.closed:
        return False
    try:
        sent = sock.send(frame, 0, 0.0)  # gevent: a timeout of 0 raises instead of waiting
    except BlockingIOError:
        sent = 0
    except OSError:
        return False  # the writer meets the dead socket and closes the connection
    if sent < len(frame):
        eio_socket.queue.put(remainder_packet(frame[sent:]))  # no yield since the check: it goes first
        counts["partial"] += 1
    else:
        counts["written"] += 1
    return True


# ---- the replaced methods ------------------------------------------------------------------------------


def _send_eio_packet(self: Any, eio_sid: str, eio_pkt: Any) -> None:
    """socketio.Server._send_eio_packet: one client of a broadcast (the packet is shared by all of them)."""
    if eio_pkt.binary:
        return _originals["send_eio_packet"](self, eio_sid, eio_pkt)
    frame = prebuilt_frame(eio_pkt)
    eio_socket = self.eio.sockets.get(eio_sid)
    if eio_socket is None or not write_now(eio_socket, frame):
        counts["queued"] += 1
        self.eio.send_packet(eio_sid, eio_pkt)
    return None


def _websocket_handler(self: Any, ws: Any) -> Any:
    """engineio.socket.Socket._websocket_handler: remember the WebSocket and its socket while it serves."""
    self.__dict__[OUT] = _writable(ws)
    try:
        return _originals["websocket_handler"](self, ws)
    finally:
        self.__dict__[OUT] = None


def _poll(self: Any) -> Any:
    """engineio.socket.Socket.poll: mark the socket idle while its writer (or a long-poll) waits for packets."""
    self.__dict__[IDLE] = True
    try:
        return _originals["poll"](self)
    finally:
        self.__dict__[IDLE] = False


def _ws_send(self: Any, message: Any) -> Any:
    """engineio's gevent WebSocketWSGI.send: a prebuilt frame is written as it is."""
    frame = getattr(message, "ws_frame", None)
    if frame is None:
        return _originals["ws_send"](self, message)
    from geventwebsocket.exceptions import WebSocketError

    websocket = self._sock
    if websocket.closed:
        raise WebSocketError("socket is already closed")
    try:
        websocket.raw_write(frame)
    except OSError as error:
        raise WebSocketError("socket is dead") from error
    return None


def _writable(ws: Any) -> tuple[Any, Any] | None:
    """(gevent-websocket WebSocket, plain gevent socket) under engineio's wrapper, or None (e.g. TLS in gevent)."""
    import gevent.socket

    websocket = getattr(ws, "_sock", None)
    stream = getattr(websocket, "stream", None)
    handler = getattr(stream, "handler", None)
    sock = getattr(handler, "socket", None)
    if type(sock) is not gevent.socket.socket:
        return None
    return websocket, sock
