"""The shared machinery of the fake provider servers: routing, scripted faults, a request log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, default)

    def int_arg(self, name: str, default: int) -> int:
        try:
            return int(self.query.get(name, default))
        except ValueError:
            return default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})}
    )


@dataclass
class Fault:
    """Answer the next `times` matching requests with this instead of the normal response.
    `status=None` with a delay only slows the normal answer down."""

    status: int | None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    path: str = ""  # a path prefix; empty matches every request
    times: int = 1


Route = Callable[[Request], Response | None]


class FakeServer:
    """A ThreadingHTTPServer in a daemon thread. Subclasses implement `route()`.

    `port=0` (tests) takes a free port; the demo passes fixed ones."""

    name = "fake"
    # The demo serves for hours: keep no log of its requests (tests read `requests`).
    record_requests = True

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=self.name, daemon=True)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- telling it to misbehave -----------------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def answer_429(
        self, retry_after: int | None = 30, *, body: Any = None, path: str = "", times: int = 1
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        payload = body if body is not None else self.error_body(429, "API rate limit exceeded")
        self.add_fault(
            Fault(
                429,
                json.dumps(payload).encode(),
                {"Content-Type": "application/json", **headers},
                path=path,
                times=times,
            )
        )

    def answer_5xx(self, status: int = 503, *, path: str = "", times: int = 1) -> None:
        self.add_fault(
            Fault(
                status,
                b"<html>Service Unavailable</html>",
                {"Content-Type": "text/html"},
                path=path,
                times=times,
            )
        )

    def answer_slowly(self, seconds: float, *, path: str = "", times: int = 1) -> None:
        self.add_fault(Fault(None, delay=seconds, path=path, times=times))

    def answer_malformed_json(self, *, path: str = "", times: int = 1) -> None:
        self.add_fault(
            Fault(
                200, b'{"data": [{"id": 1, "na', {"Content-Type": "application/json"}, path=path, times=times
            )
        )

    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"status": status, "message": message}}

    def calls(self, path_prefix: str = "") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    # --- serving ---------------------------------------------------------------------------
    def route(self, request: Request) -> Response | None:
        raise NotImplementedError

    def handle(self, request: Request) -> Response:
        with self._lock:
            if self.record_requests:
                self.requests.append(request)
            fault = self._take_fault(request.path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                return Response(fault.status, fault.body, dict(fault.headers))
        try:
            response = self.route(request)
        except LookupError:
            response = None
        return response or self.not_found(request)

    def not_found(self, request: Request) -> Response:
        return json_response(self.error_body(404, "Not found"), status=404)

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and path.startswith(fault.path):
                fault.times -= 1
                return fault
        return None


def _make_handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            if method == "POST" and "form" in self.headers.get("Content-Type", ""):
                query.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
            request = Request(method, parts.path, query, dict(self.headers.items()), body)
            response = server.handle(request)
            try:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to tell it

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # keep test output clean

    return Handler
