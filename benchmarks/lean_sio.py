"""A lean Socket.IO 5 / Engine.IO 4 client for benchmarks: raw frames over the ``websockets`` Sans-I/O protocol.

A python-socketio client object costs about 160 µs of CPU per message, so a benchmark of thousands of
them measures itself. This client speaks just enough of the wire to be a participant: one non-blocking
socket per connection watched by the event loop (no asyncio transport, no task per connection), the
WebSocket framing of ``websockets.client.ClientProtocol`` (Sans-I/O), and the text packets of Engine.IO 4
over a WebSocket from the start (no polling, no upgrade)::

    ws://HOST:PORT/socket.io/?EIO=4&transport=websocket
    <- 0{"sid":..,"pingInterval":..}         Engine.IO open
    -> 40/contest,{"token":..}               Socket.IO connect to a namespace with auth JSON
    <- 40/contest,{"sid":..}                 connected (44/contest,{"message":..} when refused)
    -> 42/contest,7["join",{..}]             event with ack id 7
    <- 43/contest,7[{..}]                    its ack
    <- 42/contest,["question_shown",{..}]    server event
    <- 2  -> 3                               Engine.IO ping / pong (server initiated in EIO 4)

Binary attachments (Socket.IO packet types 5 and 6) are not supported: the contest protocol is JSON.

Receive stamps are the kernel's (``SO_TIMESTAMPNS``: when the bytes reached this socket), so a latency
covers the server and the kernel and not this client's own queueing: with thousands of connections in
one process, the last ones are read a while after they arrived. The stamps are CLOCK_REALTIME, so every
stamp of the benchmarks is :func:`now_ns` = ``time.time_ns`` (one clock, comparable across processes).
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

now_ns = time.time_ns
#: Kernel receive time stamps (CLOCK_REALTIME, like time.time_ns) on every recvmsg (Linux: 35).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("qq")
_ANC_SIZE = socket.CMSG_SPACE(_TIMESPEC.size)
RECV_SIZE = 65536
#: Sent on the WebSocket handshake unless the caller's headers name another.
USER_AGENT = "quizengine-bench-lean/1.0"

# Engine.IO 4 packet types (first character of a text frame).
EIO_OPEN, EIO_CLOSE, EIO_PING, EIO_PONG, EIO_MESSAGE = "0", "1", "2", "3", "4"
# Socket.IO 5 packet types (second character, after EIO_MESSAGE).
SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_ACK, SIO_CONNECT_ERROR = "0", "1", "2", "3", "4"

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_loads = json.loads

#: on_event(client, t_ns, event, args): a server event arrived (args is the list after the event name).
EventHandler = Callable[["LeanClient", int, str, list[Any]], None]


class SocketIOError(Exception):
    """The server refused, closed or broke the connection, or an answer did not come in time."""


def socketio_url(host: str, port: int, path: str = "/socket.io/", query: dict[str, str] | None = None) -> str:
    """The WebSocket URL of an Engine.IO 4 endpoint (websocket transport from the first request)."""
    params = {"EIO": "4", "transport": "websocket", **(query or {})}
    return f"ws://{host}:{port}{path}?{urlencode(params)}"


def encode_event(namespace: str, event: str, args: Iterable[Any], ack_id: int | None = None) -> str:
    """``42/ns,<id>["event",...args]`` (the namespace part is left out for "/")."""
    ns = "" if namespace == "/" else namespace + ","
    ack = "" if ack_id is None else str(ack_id)
    return f"42{ns}{ack}{_dumps([event, *args])}"


def encode_ack(namespace: str, ack_id: int, args: Iterable[Any]) -> str:
    """``43/ns,<id>[...args]``."""
    ns = "" if namespace == "/" else namespace + ","
    return f"43{ns}{ack_id}{_dumps(list(args))}"


def decode_sio(text: str) -> tuple[str, str, int | None, Any]:
    """Split a Socket.IO packet (the text after ``4``) into type, namespace, ack id and decoded JSON data.

    ``text`` starts with the Socket.IO type digit. Returns data None when the packet has no JSON part.
    """
    kind = text[0]
    pos = 1
    namespace = "/"
    if kind in ("5", "6"):
        raise SocketIOError("binary Socket.IO packets are not supported by the lean client")
    if len(text) > 1 and text[1] == "/":
        comma = text.find(",", 1)
        if comma < 0:
            return kind, text[1:], None, None
        namespace = text[1:comma]
        pos = comma + 1
    start = pos
    while pos < len(text) and text[pos].isdigit():
        pos += 1
    ack_id = int(text[start:pos]) if pos > start else None
    data = _loads(text[pos:]) if pos < len(text) else None
    return kind, namespace, ack_id, data


class LeanClient:
    """One Socket.IO participant on one namespace, as cheap as a Python client can be.

    No asyncio transport: a non-blocking socket watched with ``loop.add_reader``, read with ``recvmsg``
    (for the kernel's receive time stamp) and fed to the ``websockets`` Sans-I/O protocol. Writes go
    straight to the socket (buffered only when it would block).

    ``on_event`` is called for every server event of the namespace with its receive stamp; it runs in the
    read callback and must be quick. A server event asking for an ack gets an empty ack.
    ``received`` counts the Socket.IO packets (events, acks, connects) this client got, pings excluded.
    """

    def __init__(
        self,
        url: str,
        namespace: str = "/",
        auth: dict[str, Any] | None = None,
        headers: Iterable[tuple[str, str]] = (),
        on_event: EventHandler | None = None,
        index: int = 0,
    ) -> None:
        self.url, self.namespace, self.auth = url, namespace, auth
        self.headers = list(headers)
        self.on_event = on_event
        self.index = index  #: the caller's number for this client (participant index; -1 for the host)
        self.sid: str | None = None  #: Socket.IO session id in the namespace
        self.eio_sid: str | None = None
        self.received = 0
        self.pings = 0
        self.closed = False
        self.close_reason = ""
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._out = bytearray()
        self._ns_prefix = "" if namespace == "/" else namespace + ","
        self._ws = ClientProtocol(parse_uri(url), max_size=None)
        self._next_ack = 0
        self._acks: dict[int, asyncio.Future[tuple[int, list[Any]]]] = {}
        self._opened: asyncio.Future[None] | None = None
        self._joined: asyncio.Future[None] | None = None
        self._fragments: list[bytes] = []

    # ---- life cycle --------------------------------------------------------------------------------------

    async def connect(self, timeout: float = 30.0) -> None:
        """Open TCP, upgrade to WebSocket, wait for the Engine.IO open, connect the namespace with auth."""
        loop = self._loop = asyncio.get_running_loop()
        self._opened, self._joined = loop.create_future(), loop.create_future()
        uri = self._ws.uri
        sock = self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        try:
            async with asyncio.timeout(timeout):
                await loop.sock_connect(sock, (uri.host, uri.port))
                loop.add_reader(sock.fileno(), self._readable)
                request = self._ws.connect()
                for name, value in [("User-Agent", USER_AGENT), *self.headers]:
                    if name in request.headers:
                        del request.headers[name]  # Headers is a multidict: replace, do not add
                    request.headers[name] = value
                self._ws.send_request(request)
                self._flush()
                await self._opened
                self._send(f"40{self._ns_prefix}{_dumps(self.auth) if self.auth is not None else ''}")
                await self._joined
        except BaseException:
            self._fail("connect failed")
            raise

    def close(self) -> None:
        """Leave the namespace and close the connection (no wait for the server)."""
        if self.closed or self._sock is None:
            return
        try:
            self._send(f"41{self._ns_prefix}")
            self._ws.send_close()
            self._flush()
        except (OSError, SocketIOError):
            pass
        self._fail("closed by the client")

    # ---- sending -----------------------------------------------------------------------------------------

    def emit(self, event: str, *args: Any) -> int:
        """Send an event without ack; return the send time stamp."""
        stamp = now_ns()
        self._send(encode_event(self.namespace, event, args))
        return stamp

    def emit_with_ack(self, event: str, *args: Any) -> tuple[int, asyncio.Future[tuple[int, list[Any]]]]:
        """Send an event asking for an ack; return the send stamp and a future of (ack stamp, ack args)."""
        assert self._loop is not None
        ack_id = self._next_ack
        self._next_ack += 1
        future: asyncio.Future[tuple[int, list[Any]]] = self._loop.create_future()
        self._acks[ack_id] = future
        stamp = now_ns()
        self._send(encode_event(self.namespace, event, args, ack_id))
        return stamp, future

    async def call(self, event: str, *args: Any, timeout: float = 30.0) -> list[Any]:
        """Send an event and wait for its ack arguments."""
        _stamp, future = self.emit_with_ack(event, *args)
        async with asyncio.timeout(timeout):
            _t, ack = await future
        return ack

    def _send(self, text: str) -> None:
        if self.closed or self._sock is None:
            raise SocketIOError(f"client {self.index}: connection closed ({self.close_reason or 'not open'})")
        self._ws.send_text(text.encode())
        self._flush()

    def _flush(self) -> None:
        for chunk in self._ws.data_to_send():
            if chunk:
                self._write(chunk)

    def _write(self, data: bytes) -> None:
        sock = self._sock
        if sock is None or self.closed:
            return
        if not self._out:
            try:
                sent = sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self._fail(f"send failed: {exc}")
                return
            if sent == len(data):
                return
            data = data[sent:]
            assert self._loop is not None
            self._loop.add_writer(sock.fileno(), self._writable)
        self._out += data

    def _writable(self) -> None:
        sock = self._sock
        assert sock is not None and self._loop is not None
        try:
            sent = sock.send(self._out)
        except BlockingIOError:
            return
        except OSError as exc:
            self._fail(f"send failed: {exc}")
            return
        del self._out[:sent]
        if not self._out:
            self._loop.remove_writer(sock.fileno())

    # ---- receiving -----------------------------------------------------------------------------------------

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            data, ancillary, _flags, _addr = sock.recvmsg(RECV_SIZE, _ANC_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(f"connection lost ({exc})")
            return
        stamp = 0
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                sec, nsec = _TIMESPEC.unpack_from(value)
                stamp = sec * 1_000_000_000 + nsec
        if not stamp:
            stamp = now_ns()
        if not data:
            self._ws.receive_eof()
            self._fail(self.close_reason or "connection closed by the server")
            return
        try:
            self._received_data(data, stamp)
        except (UnicodeDecodeError, ValueError) as exc:  # json errors are ValueErrors too
            self._fail(f"corrupt stream from the server ({type(exc).__name__}: {exc})")

    def _received_data(self, data: bytes, stamp: int) -> None:
        ws = self._ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Frame):
                opcode = event.opcode
                if opcode is Opcode.TEXT:
                    if event.fin:
                        self._packet(event.data.decode(), stamp)
                    else:
                        self._fragments = [event.data]
                elif opcode is Opcode.CONT:
                    self._fragments.append(event.data)
                    if event.fin:
                        self._packet(b"".join(self._fragments).decode(), stamp)
                        self._fragments = []
                elif opcode is Opcode.CLOSE:
                    self.close_reason = f"websocket closed by the server ({event.data[:2].hex()})"
        if ws.handshake_exc is not None:
            self._fail(f"websocket handshake refused: {ws.handshake_exc}")
            return
        if not self.closed:
            self._flush()
        if ws.close_expected():
            self._fail(self.close_reason or "websocket closing")

    # ---- packets --------------------------------------------------------------------------------------------

    def _packet(self, text: str, stamp: int) -> None:
        eio = text[:1]
        if eio == EIO_MESSAGE:
            self.received += 1
            self._sio(text[1:], stamp)
        elif eio == EIO_PING:
            self.pings += 1
            self._send(EIO_PONG + text[1:])
        elif eio == EIO_OPEN:
            self.eio_sid = _loads(text[1:]).get("sid")
            if self._opened is not None and not self._opened.done():
                self._opened.set_result(None)
        elif eio == EIO_CLOSE:
            self._fail("engine.io closed by the server")

    def _sio(self, text: str, stamp: int) -> None:
        kind, namespace, ack_id, data = decode_sio(text)
        if namespace != self.namespace:
            return
        if kind == SIO_EVENT:
            if ack_id is not None:
                self._send(encode_ack(self.namespace, ack_id, ()))
            if self.on_event is not None and data:
                self.on_event(self, stamp, data[0], data[1:])
        elif kind == SIO_ACK:
            future = self._acks.pop(ack_id, None) if ack_id is not None else None
            if future is not None and not future.done():
                future.set_result((stamp, data or []))
        elif kind == SIO_CONNECT:
            self.sid = (data or {}).get("sid")
            if self._joined is not None and not self._joined.done():
                self._joined.set_result(None)
        elif kind == SIO_CONNECT_ERROR:
            self._fail(f"namespace {self.namespace} refused: {data}")
        elif kind == SIO_DISCONNECT:
            self._fail(f"namespace {self.namespace} disconnected by the server")

    def _fail(self, reason: str) -> None:
        """Mark closed, release the socket, fail every pending wait."""
        if not self.closed:
            self.closed = True
            self.close_reason = self.close_reason or reason
        error = SocketIOError(f"client {self.index}: {self.close_reason}")
        for future in (self._opened, self._joined, *self._acks.values()):
            if future is not None and not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: no "never retrieved" warning when nobody waits
        self._acks.clear()
        sock, self._sock = self._sock, None
        if sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(sock.fileno())
                if self._out:
                    self._loop.remove_writer(sock.fileno())
            sock.close()
