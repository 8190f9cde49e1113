"""A real HTTP receiver for delivery tests: a threaded http.server on 127.0.0.1, ephemeral port."""

import dataclasses
import json
import socket
import threading
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclasses.dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: Message  # case-insensitive, like any HTTP server's
    body: bytes
    number: int  # 1 for the first request this receiver got

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Records every POST and answers with what `respond(request)` returns (a status code).

    `respond` may sleep (to cause client timeouts) or block on an event; each
    request runs in its own thread.
    """

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.respond: Callable[[ReceivedRequest], int] = lambda request: 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    request = ReceivedRequest(self.path, self.headers, body, len(receiver.requests) + 1)
                    receiver.requests.append(request)
                status = receiver.respond(request)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/events"

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[Any]:
        with self._lock:
            return [request.json() for request in self.requests]


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/events"
