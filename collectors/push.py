"""Delivery to a remote facstat: batches spooled to disk, then posted, so nothing is lost.

`PushSink` is the runner's sink in `facstat collect --push URL`. Every batch is
first written to the spool directory (one JSON file per batch, fsynced, named
so they sort in arrival order); a sender thread posts them oldest first to
`POST /api/v1/observations` and deletes each file only once the API answered
200. While the API is unreachable (or answers 5xx/429) the files stay and the
sender retries with exponential backoff, capped. A batch the API rejects as
invalid (4xx) can never succeed: it is moved to `rejected/` with the answer
beside it, and delivery goes on.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Gauge

from collectors.base import MetricSpec
from facility.model import Observation

log = logging.getLogger("facstat.push")
SENT = MetricSpec("facstat_push_batches_sent_total", "counter", "Batches the API accepted.")
FAILED = MetricSpec(
    "facstat_push_attempts_failed_total", "counter", "Delivery attempts that failed."
)
REJECTED = MetricSpec(
    "facstat_push_batches_rejected_total", "counter", "Batches the API refused as invalid."
)
SPOOLED = MetricSpec("facstat_push_spool_batches", "gauge", "Batches waiting on disk.")
MAX_BACKOFF = 60.0


def pushed_source(name: str | None, source: str) -> str:
    """`<push name>/<collector>`: the API groups a silent push process's resources into
    one incident by the part before the slash (`slas.incidents`)."""
    if not name:
        return source
    return f"{name}/{source}"[:64]


def to_json(o: Observation, name: str | None = None) -> dict[str, Any]:
    return {
        "resource_id": o.resource_id,
        "observed_at": o.observed_at.isoformat(),
        "source": pushed_source(name, o.source),
        "state": o.state.value,
        "capacity": o.capacity,
        "values": dict(o.values),
        "reasons": [r.as_dict() for r in o.reasons],
    }


class Spool:
    """A directory of pending batches, oldest first."""

    def __init__(self, directory: Path, name: str | None = None) -> None:
        self.dir = directory
        self.name = name
        self.rejected = directory / "rejected"
        self.rejected.mkdir(parents=True, exist_ok=True)
        self._seq = 0
        self._lock = threading.Lock()

    def put(self, observations: Sequence[Observation]) -> Path:
        body = json.dumps({"observations": [to_json(o, self.name) for o in observations]}).encode()
        with self._lock:
            self._seq += 1
            name = f"{time.time_ns():020d}-{os.getpid()}-{self._seq:06d}.json"
        tmp = self.dir / (name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        final = self.dir / name
        tmp.rename(final)
        return final

    def pending(self) -> list[Path]:
        return sorted(self.dir.glob("*.json"))

    def reject(self, path: Path, answer: str) -> None:
        path.rename(self.rejected / path.name)
        (self.rejected / (path.name + ".answer")).write_text(answer, encoding="utf-8")


class PushSink:
    """Spools every batch, and delivers the spool from a background thread."""

    def __init__(
        self,
        url: str,
        token: str,
        spool_dir: Path,
        registry: CollectorRegistry | None = None,
        timeout: float = 10.0,
        name: str | None = None,
    ) -> None:
        self.endpoint = url.rstrip("/") + "/api/v1/observations"
        self.spool = Spool(spool_dir, name)
        self._client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"})
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.backoff = 0.0
        reg = registry or CollectorRegistry()
        self.sent = SENT.instrument(reg)
        self.failed = FAILED.instrument(reg)
        self.rejected = REJECTED.instrument(reg)
        self.backlog = SPOOLED.instrument(reg)
        assert isinstance(self.backlog, Gauge)
        self.backlog.set_function(lambda: len(self.spool.pending()))

    def __call__(self, observations: list[Observation], now: datetime) -> None:
        """The runner's sink: spool now, deliver soon."""
        self.spool.put(observations)
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="push", daemon=True)
        self._thread.start()

    def stop(self, drain_seconds: float = 5.0) -> None:
        """End the sender thread first, then drain what is left from this thread: one
        sender at a time, so no batch is posted twice by two of them."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        deadline = time.monotonic() + drain_seconds
        while self.spool.pending() and time.monotonic() < deadline and self.flush():
            pass
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=self.backoff or 1.0)
            self._wake.clear()
            if not self._stop.is_set():
                self.flush()

    def flush(self) -> bool:
        """Deliver pending batches in order; False when the API could not be reached."""
        for path in self.spool.pending():
            if not self._deliver(path):
                self.backoff = min(MAX_BACKOFF, max(1.0, self.backoff * 2))
                return False
        self.backoff = 0.0
        return True

    def _deliver(self, path: Path) -> bool:
        try:
            resp = self._client.post(
                self.endpoint,
                content=path.read_bytes(),
                # the spool file's name is the batch's id: a retry is not stored twice
                headers={"Content-Type": "application/json", "Idempotency-Key": path.stem},
            )
        except httpx.HTTPError as exc:
            self.failed.inc()
            log.warning("push to %s failed, batch kept: %s", self.endpoint, exc)
            return False
        if resp.status_code == 200:
            path.unlink()
            self.sent.inc()
            return True
        if resp.status_code in (408, 429) or resp.status_code >= 500 or resp.status_code == 401:
            self.failed.inc()
            log.warning("push to %s answered %s, batch kept", self.endpoint, resp.status_code)
            return False
        self.rejected.inc()
        log.error(
            "push to %s refused a batch (%s): %s", self.endpoint, resp.status_code, resp.text[:500]
        )
        self.spool.reject(path, f"{resp.status_code}\n{resp.text}")
        return True
