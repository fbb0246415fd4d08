"""A real HTTP server, on a unix socket or on 127.0.0.1, that answers slurmrestd's
v0.0.38 requests with what the real slurmrestd answered in one recorded scenario
(`tests/data/slurm/22.05/<scenario>/restd/`), and remembers each request it got.
`hang=True` makes it accept requests and never answer (until it stops)."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from collectors.slurm import restd

RECORDED = Path(__file__).resolve().parents[2] / "data" / "slurm" / "22.05"


def recorded_answer(scenario: str, name: str) -> tuple[int, str]:
    """(HTTP status, body) slurmrestd gave for `name` (diag, nodes, …) in `scenario`."""
    folder = RECORDED / scenario / "restd"
    status = folder / f"{name}.status"
    code = int(status.read_text()) if status.exists() else 200
    return code, (folder / f"{name}.json").read_text()


class Replay:
    def __init__(self, scenario: str, hang: bool = False) -> None:
        self.scenario, self.hang = scenario, hang
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()
        self.routes = {restd.path(kind): kind for kind in restd.PATHS}

    def answer(self, path: str) -> tuple[int, str]:
        kind = self.routes.get(path)
        if kind is None or kind == "ping":
            return (200, '{"errors": [], "pings": []}') if kind else (404, "Unable find URL")
        return recorded_answer(self.scenario, kind)


def _handler(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            replay.requests.append((self.path, dict(self.headers.items())))
            if replay.hang:
                replay.release.wait(30)
                return
            status, body = replay.answer(self.path)
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

        def address_string(self) -> str:
            return "test-client"

    return Handler


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True


@contextmanager
def serving(
    scenario: str, socket_path: Path | None = None, hang: bool = False
) -> Iterator[tuple[Replay, str]]:
    """The replay server and its address: the socket path, or http://127.0.0.1:PORT."""
    replay = Replay(scenario, hang)
    server: socketserver.BaseServer
    if socket_path is not None:
        server = _UnixServer(str(socket_path), _handler(replay))
        address = str(socket_path)
    else:
        server = _TcpServer(("127.0.0.1", 0), _handler(replay))
        address = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield replay, address
    finally:
        replay.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
