"""A server-sent-events client for the tests: reads a real stream in a thread."""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Event:
    id: int | None
    event: str
    data: dict[str, Any]


@dataclass
class SseReader:
    """`GET url` as a stream; events (and heartbeat comments) land in queues."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    events: queue.Queue[Event] = field(default_factory=queue.Queue)
    comments: queue.Queue[str] = field(default_factory=queue.Queue)
    status: int | None = None
    content_type: str = ""
    _ready: threading.Event = field(default_factory=threading.Event)
    _closed: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _response: httpx.Response | None = None
    error: str = ""

    def start(self, timeout: float = 10) -> SseReader:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(timeout), "the stream did not answer"
        return self

    def next(self, timeout: float = 10) -> Event:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s ({self.error})") from None

    def none_within(self, seconds: float) -> bool:
        try:
            got = self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected event {got}")

    def close(self) -> None:
        """Hang up (the reading thread's blocked read ends with the connection)."""
        self._closed.set()
        if self._response is not None:
            self._response.close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        timeout = httpx.Timeout(10, read=30)
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=timeout) as r:
                self._response = r
                self.status, self.content_type = r.status_code, r.headers.get("content-type", "")
                self._ready.set()
                if r.status_code != 200:
                    self.error = r.read().decode()
                    return
                self._read(r)
        except Exception as exc:  # the connection ended (or was closed by `close`)
            self.error = repr(exc)
        finally:
            self._ready.set()

    def _read(self, r: httpx.Response) -> None:
        fields: dict[str, str] = {}
        for line in r.iter_lines():
            if self._closed.is_set():
                return
            if line.startswith(":"):
                self.comments.put(line[1:].strip())
            elif line == "":
                if "data" in fields:
                    ev_id = int(fields["id"]) if "id" in fields else None
                    data = json.loads(fields["data"])
                    self.events.put(Event(ev_id, fields.get("event", "message"), data))
                fields = {}
            else:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
