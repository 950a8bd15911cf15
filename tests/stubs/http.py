"""A small threaded HTTP/1.1 keep-alive server on 127.0.0.1 for stub APIs."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

Route = Callable[[str, str, dict[str, str], dict[str, Any]], tuple[int, Any]]


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, asks the stub for an answer, writes JSON with a Content-Length."""

    protocol_version = "HTTP/1.1"  # keep connections alive, as real APIs do
    # Headers and body go out as two writes: with Nagle's algorithm on, the body waits for
    # the client's delayed ACK of the headers (about 40 ms on Linux) on every call.
    disable_nagle_algorithm = True

    def _respond(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        params = _params(self.headers.get("Content-Type", ""), raw)
        assert isinstance(self.server, _RouteServer)
        status, body = self.server.route(self.command, self.path, dict(self.headers), params)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _respond

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def _params(content_type: str, raw: bytes) -> dict[str, Any]:
    """Form or JSON parameters as a flat dict."""
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        loaded = json.loads(raw)
        return loaded if isinstance(loaded, dict) else {}
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw.decode()).items()}


class _RouteServer(ThreadingHTTPServer):
    """A threaded HTTP server on a free port of 127.0.0.1 that answers through `route`."""

    daemon_threads = True

    def __init__(self, route: Route) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.route = route
        self.report_errors = True  # False: no traceback for a request that failed

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        """Print the traceback (as socketserver does), unless errors are not to be reported."""
        if self.report_errors:
            super().handle_error(request, client_address)


class StubServer:
    """Runs a route function behind a real HTTP server in a thread."""

    def __init__(self, route: Route) -> None:
        """Bind to a free port on 127.0.0.1."""
        self.httpd = _RouteServer(route)
        # shutdown() waits for the serving loop to look at its flag, every poll interval
        # (0.5 s by default): this stops a stub in a few hundredths of a second.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Start serving."""
        self.thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()
