"""Push delivery: batches survive an unreachable API, a restart of the collector, and
bad batches do not block good ones."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from api.runtime import Runtime
from collectors.push import PushSink
from facility.model import Observation, ProbeState, Reason
from tests.conftest import TOKEN, Clock, free_port, start_server, stop_server


def batch(clock: Clock, rid: str = "home", n: int = 1) -> list[Observation]:
    return [
        Observation(
            rid,
            clock.now + timedelta(seconds=i),
            "push-test",
            ProbeState.UP,
            1.0,
            {"v": 1.0},
            (Reason("ok", "fine"),),
        )
        for i in range(n)
    ]


def test_batches_wait_on_disk_while_the_api_is_down_and_are_all_delivered_when_it_returns(
    runtime: Runtime, clock: Clock, tmp_path: Path
) -> None:
    port = free_port()
    sink = PushSink(
        f"http://127.0.0.1:{port}", TOKEN, tmp_path, timeout=15
    )  # refused at once while down; generous when up (CI load)
    for _ in range(3):
        sink(batch(clock, n=2), clock.now)
        clock.advance(10)
    assert sink.flush() is False
    assert len(sink.spool.pending()) == 3
    live = start_server(runtime, port)
    try:
        assert sink.flush() is True
    finally:
        stop_server(live)
        sink.stop(drain_seconds=0)
    assert sink.spool.pending() == []
    assert runtime.store.count("observation") == 6


def test_a_collector_restarted_after_a_crash_delivers_what_its_predecessor_spooled(
    runtime: Runtime, clock: Clock, tmp_path: Path
) -> None:
    port = free_port()
    crashed = PushSink(f"http://127.0.0.1:{port}", TOKEN, tmp_path, timeout=2)
    crashed(batch(clock), clock.now)  # spooled, never sent: the process "dies" here
    live = start_server(runtime, port)
    try:
        successor = PushSink(live.url, TOKEN, tmp_path)
        assert successor.flush() is True
        successor.stop(drain_seconds=0)
    finally:
        stop_server(live)
    assert runtime.store.count("observation") == 1


def test_a_batch_the_api_refuses_is_set_aside_and_later_batches_still_arrive(
    live_server, clock: Clock, tmp_path: Path
) -> None:
    sink = PushSink(live_server.url, TOKEN, tmp_path)
    sink(batch(clock, rid="scrach"), clock.now)
    sink(batch(clock, rid="home"), clock.now)
    assert sink.flush() is True
    sink.stop(drain_seconds=0)
    rejected = sorted((tmp_path / "rejected").iterdir())
    assert [p.suffix for p in rejected] == [".json", ".answer"]
    assert "unknown resource 'scrach'" in rejected[1].read_text()
    assert live_server.runtime.store.count("observation") == 1


def test_a_wrong_token_keeps_the_batches_for_when_the_token_is_fixed(
    live_server, clock: Clock, tmp_path: Path
) -> None:
    wrong = PushSink(live_server.url, "not-the-token", tmp_path)
    wrong(batch(clock), clock.now)
    assert wrong.flush() is False
    wrong.stop(drain_seconds=0)
    fixed = PushSink(live_server.url, TOKEN, tmp_path)
    assert fixed.flush() is True
    fixed.stop(drain_seconds=0)
    assert live_server.runtime.store.count("observation") == 1


def test_stopping_with_a_backlog_delivers_each_batch_once_and_ends_the_sender(
    runtime: Runtime, clock: Clock, tmp_path: Path
) -> None:
    # stop() used to drain from the caller while the sender thread still drained too:
    # the same file posted twice, then FileNotFoundError out of stop()
    live = start_server(runtime, free_port())
    try:
        sink = PushSink(live.url, TOKEN, tmp_path, timeout=15)
        sink.start()
        for _ in range(200):
            sink(batch(clock), clock.now)
            clock.advance(1)
        sink.stop(drain_seconds=60)
        assert sink._thread is not None and not sink._thread.is_alive()
    finally:
        stop_server(live)
    assert sink.spool.pending() == []
    assert runtime.store.count("observation") == 200
