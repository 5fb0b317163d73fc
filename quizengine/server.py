"""The production server: gevent's WSGI server for HTTP and Socket.IO, with Nagle's algorithm off.

``socketio.run`` builds a plain ``pywsgi.WSGIServer`` whose accepted sockets keep Nagle on. pywsgi writes a
response's headers and body in two ``send`` calls, so on a keep-alive connection the body waits for the
client to acknowledge the headers, which clients delay by up to 40 ms (Linux) or 200 ms (Windows): every
autosave and every page paid that wait (measured in docs/performance.md). This module serves the same app
the same way, with ``TCP_NODELAY`` set on each accepted socket. The benchmarks' baselines use it too, so
app and baseline keep the same server set-up.

It also tunes the garbage collector for a server holding thousands of connections: the start-up objects
(modules, mappings, parsed banks) are frozen out of collections, and full collections run 10x less often.
With 2,000 contest players answering at once, full collections that walked the whole heap doubled the
burst's ack time (docs/performance.md, "Live contest fan-out").
"""

from __future__ import annotations

import contextlib
import gc
import socket

from flask import Flask
from flask_socketio import SocketIO
from gevent import pywsgi

try:  # Flask-SocketIO and Engine.IO use gevent-websocket for WebSocket when it is installed
    from geventwebsocket.handler import WebSocketHandler as _BaseHandler
except ImportError:  # otherwise WebSocket comes from simple-websocket inside the WSGI app
    _BaseHandler = pywsgi.WSGIHandler


class NoDelayHandler(_BaseHandler):  # type: ignore[misc,valid-type]
    """The handler ``socketio.run`` would pick, with ``TCP_NODELAY`` on the connection it serves."""

    def handle(self) -> None:
        """Turn Nagle off before serving the connection's first request."""
        with contextlib.suppress(OSError):  # not a TCP socket (a Unix socket behind a proxy): nothing to turn off
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()


#: Collector thresholds while serving: the default generations 0 and 1, the oldest one 10x less often.
GC_THRESHOLDS = (700, 10, 100)


def serve(app: Flask, socketio: SocketIO, host: str, port: int, *, log_requests: bool = False) -> None:
    """Serve ``app`` (HTTP and Socket.IO) on host:port until stopped; the caller has monkey-patched."""
    gc.collect()
    gc.freeze()  # what exists now lives as long as the process: no collection needs to walk it again
    gc.set_threshold(*GC_THRESHOLDS)
    server = pywsgi.WSGIServer((host, port), app, handler_class=NoDelayHandler, log="default" if log_requests else None)
    socketio.wsgi_server = server  # what socketio.stop() stops
    server.serve_forever()
