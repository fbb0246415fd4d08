"""`facstat collect`: collectors in their own process, pushing and/or exporting."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server

from collectors.base import Collector
from collectors.push import PushSink
from collectors.registry import build_all
from collectors.runner import CollectorRunner
from facility.config import FacilityConfig
from facility.service import utcnow


def parse_listen(value: str) -> tuple[str, int]:
    """`:9108` or `127.0.0.1:9108` -> (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen {value!r}: expected [HOST]:PORT, e.g. :9108")
    return host or "0.0.0.0", int(port)


def select(collectors: list[Collector], kinds: list[str]) -> list[Collector]:
    return [c for c in collectors if not kinds or c.kind in kinds]


def run_collect(
    config: FacilityConfig,
    push: str | None,
    token: str | None,
    listen: str | None,
    spool: Path,
    kinds: list[str],
    run_for: float | None,
    say: Callable[[str], None],
    name: str | None = None,
) -> None:
    collectors = select(build_all(config), kinds)
    if not collectors:
        raise ValueError(
            "no collector to run: no resource of the facility has an adapter for those kinds"
        )
    registry = CollectorRegistry()
    sink = PushSink(push, token or "", spool, registry, name=name) if push else None
    runner = CollectorRunner(collectors, sink or (lambda obs, now: None), utcnow, registry)
    if listen:
        host, port = parse_listen(listen)
        start_http_server(port, host, registry)
        say(f"metrics on http://{host}:{port}/metrics")
    if sink is not None:
        sink.start()
        say(f"pushing to {push} as {name} (spool: {spool})")
    runner.start()
    say(f"{len(collectors)} collector(s): {', '.join(c.name for c in collectors)}")
    _wait(run_for)
    runner.stop()
    if sink is not None:
        sink.stop()


def _wait(run_for: float | None) -> None:
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait(run_for)
