"""Many idle server-sent-events streams on raw sockets, read by one selector thread.

A thousand streams must cost the client little: no thread or coroutine per stream.
One `selectors` loop reads whichever sockets are ready and only keeps each read with
its `time.perf_counter()` stamp, taken right after `recv` returns. Undoing HTTP/1.1
chunked coding and the SSE framing happens later, in `Stream.parse` (an event gets
the stamp of the read that completed it), so the hot path is a `recv` and an append.
The loop records when it was busy, so a delivery measurement can say how much of its
window went to the client itself.
"""

from __future__ import annotations

import json
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Arrival:
    id: int
    resource_id: str
    to_state: str
    at: float  # perf_counter just after the recv that completed the event


@dataclass(eq=False)
class Stream:
    process: int  # index of the API process it is connected to
    sock: socket.socket
    raw: bytearray = field(default_factory=bytearray)  # as received
    body: bytearray = field(default_factory=bytearray)  # de-chunked SSE text
    chunked: bool = False
    chunk: int = -1  # bytes left in the current chunk, CRLF included; -1: at a size line
    head: bool = False  # response headers read
    ready: bool = False  # the `retry:` line arrived: subscribed
    ended: str = ""  # why the stream ended, if it did
    arrivals: list[Arrival] = field(default_factory=list)
    received: deque[tuple[float, bytes]] = field(default_factory=deque)  # not parsed yet
    last_read: float = 0.0

    def parse(self) -> None:
        """Everything read so far, as headers, chunks and events (the reader keeps reading)."""
        while self.received:
            at, data = self.received.popleft()
            feed(self, data, at)

    def arrival(self, resource_id: str, state: str, since: float) -> Arrival | None:
        for a in self.arrivals:
            if a.resource_id == resource_id and a.to_state == state and a.at >= since:
                return a
        return None


def _head(st: Stream) -> None:
    end = st.raw.find(b"\r\n\r\n")
    if end < 0:
        return
    head = bytes(st.raw[:end]).decode("latin-1")
    del st.raw[: end + 4]
    status, *headers = head.split("\r\n")
    if status.split(" ")[1:2] != ["200"]:
        st.ended = f"answered {status!r}"
    st.chunked = "transfer-encoding: chunked" in (h.lower() for h in headers)
    st.head = True


def _dechunk(st: Stream) -> None:
    raw = st.raw
    while raw and not st.ended:
        if st.chunk < 0:
            eol = raw.find(b"\r\n")
            if eol < 0:
                return
            size = int(bytes(raw[:eol]).split(b";")[0], 16)
            del raw[: eol + 2]
            if size == 0:
                st.ended = "the server ended the stream"
                return
            st.chunk = size + 2
        data = min(st.chunk - 2, len(raw))
        if data > 0:
            st.body += raw[:data]
            del raw[:data]
            st.chunk -= data
        crlf = min(st.chunk, len(raw)) if st.chunk <= 2 else 0
        del raw[:crlf]
        st.chunk = st.chunk - crlf or -1


def _event(st: Stream, block: bytes, at: float) -> None:
    fields: dict[bytes, bytes] = {}
    for line in block.split(b"\n"):
        name, _, value = line.partition(b":")
        if name:  # a line starting with ':' is a comment (heartbeat)
            fields[name] = value.removeprefix(b" ")
    if b"retry" in fields:
        st.ready = True
    if fields.get(b"event") == b"status" and b"data" in fields:
        data = json.loads(fields[b"data"])
        st.arrivals.append(Arrival(int(fields[b"id"]), data["resource_id"], data["to_state"], at))


def feed(st: Stream, data: bytes, at: float) -> None:
    """Everything one `recv` returned: headers, chunks, then complete SSE events."""
    st.raw += data
    if not st.head:
        _head(st)
    if not st.head or st.ended:
        return
    if st.chunked:
        _dechunk(st)
    else:
        st.body += st.raw
        st.raw.clear()
    while (end := st.body.find(b"\n\n")) >= 0:
        block = bytes(st.body[:end])
        del st.body[: end + 2]
        _event(st, block, at)


class SseClients:
    """`with SseClients(ports, n, path) as c: c.open()`: n streams spread over the ports."""

    def __init__(self, ports: Sequence[int], count: int, path: str) -> None:
        self.ports, self.count, self.path = list(ports), count, path
        self.streams: list[Stream] = []
        self.busy: list[tuple[float, float]] = []  # (woke, done) of every loop turn with reads
        self._sel = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sse-clients", daemon=True)

    def _connect(self, i: int) -> Stream:
        port = self.ports[i % len(self.ports)]
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        request = f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        sock.sendall(f"{request}Accept: text/event-stream\r\n\r\n".encode())
        sock.setblocking(False)
        st = Stream(i % len(self.ports), sock)
        self._sel.register(sock, selectors.EVENT_READ, st)
        return st

    def open(self, timeout: float) -> float:
        """Connect every stream and wait until each is subscribed (or ended): seconds taken."""
        start = time.perf_counter()
        self.streams = [self._connect(i) for i in range(self.count)]
        self._thread.start()
        while time.perf_counter() - start < timeout:
            for st in self.streams:
                st.parse()
            if all(st.ready or st.ended for st in self.streams):
                break
            time.sleep(0.05)
        return time.perf_counter() - start

    @property
    def live(self) -> list[Stream]:
        return [st for st in self.streams if st.ready and not st.ended]

    def _loop(self) -> None:
        while not self._stop.is_set():
            ready = self._sel.select(0.2)
            if not ready:
                continue
            woke = time.perf_counter()
            for key, _ in ready:
                self._read(key.data)
            self.busy.append((woke, time.perf_counter()))

    def _read(self, st: Stream) -> None:
        try:
            data = st.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as exc:
            data, st.ended = b"", f"socket error: {exc}"
        at = time.perf_counter()
        if not data:
            st.ended = st.ended or "closed by the server"
            self._sel.unregister(st.sock)
            return
        st.received.append((at, data))
        st.last_read = at

    def busy_share(self, t0: float, t1: float) -> float:
        """Share of [t0, t1] the read loop spent reading (1.0: the client was the limit)."""
        spent = 0.0
        for woke, done in reversed(self.busy):
            if done < t0:
                break
            spent += max(0.0, min(done, t1) - max(woke, t0))
        return spent / (t1 - t0) if t1 > t0 else 0.0

    def __enter__(self) -> SseClients:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for st in self.streams:
            st.sock.close()
        self._sel.close()
