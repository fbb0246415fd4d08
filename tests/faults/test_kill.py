"""`kill -9` of an API process while collectors post: no acknowledged observation is lost.

Each test runs on SQLite (a file in WAL mode, `synchronous=NORMAL`) and on the machine's
PostgreSQL (the `db_url` fixture), against a real `facstat serve` process (`tests.procs`).

What is proven:

1. **Direct posters.** Four threads post batches of three observations as fast as the API
   answers; every observation carries a unique `source` (`p<poster>-b<batch>-o<i>`). A 200 is an
   acknowledgement: the batch's transaction committed. Once 50 batches are acknowledged the
   process gets SIGKILL with requests in flight. Reading the store with the server dead:
   - every acknowledged observation is stored, exactly once (the posters never retry);
   - nothing is stored that was not sent, and every batch is stored whole or not at all
     (an unacknowledged batch may be either: the kill may land after its commit);
   - the store is sound: on SQLite `PRAGMA integrity_check` says `ok`, and on both a new
     `facstat serve` on the same database comes up, lists the resources, and stores a new batch.
   SQLite's `synchronous=NORMAL` suffices here: a WAL commit is in the OS once it returns, so
   only an OS crash or power loss (not tested) could take it back, never a killed process.

2. **The push collector.** `PushSink`, the delivery half of `facstat collect --push`, runs
   in-process so that the test knows every batch the collector produced (the CLI's real
   collectors make observations the test cannot enumerate). Batches are produced throughout;
   the API is killed after 20 deliveries, the batches produced while it is down wait on disk,
   and a new API on the same port receives them. Asserted: **exactly once**. A spooled file
   is deleted only after a 200, so a batch the API committed but could not answer before it
   died is sent again; it carries its spool name as `Idempotency-Key`, stored in the batch's
   own transaction, so the new API acknowledges it as a duplicate and stores nothing twice.
   Every produced observation is stored once, and nothing else is.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from collectors.push import PushSink
from facility.model import Observation, ProbeState
from facility.store import Store
from tests.api.helpers import OBSERVATIONS, RESOURCES, observation
from tests.conftest import AUTH, TOKEN, free_port
from tests.procs import ApiProcess, api_env, spawn_api

STATES = ("up", "degraded", "down")  # varied, so that commits also write events and intervals
POSTERS = 4
BATCH = 3  # observations per batch
ACKED_BEFORE_KILL = 50  # batches
PUSHED_BEFORE_KILL = 20  # batches
WAIT = 30.0  # the bound on every wait, in seconds


@pytest.fixture
def apis() -> Iterator[list[ApiProcess]]:
    """The API processes a test starts; any still running at the end is stopped."""
    started: list[ApiProcess] = []
    yield started
    for api in started:
        api.stop()


def start_api(apis: list[ApiProcess], db_url: str, tmp_path: Path, port: int = 0) -> ApiProcess:
    log = tmp_path / f"api-{len(apis) + 1}.log"
    api = spawn_api(port or free_port(), api_env(db_url), log)
    apis.append(api)
    return api


def wait_for(done: Callable[[], bool], what: str, api: ApiProcess) -> None:
    deadline = time.monotonic() + WAIT
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {WAIT} s: {what}\nAPI log ({api.log}):\n{api.output()}")
        time.sleep(0.01)


def batch_of(observation_id: str) -> str:
    return observation_id.rsplit("-o", 1)[0]


# -- reading the store the killed process left --------------------------------------------


def stored_sources(db_url: str) -> Counter[str]:
    """How many times each of our observation ids (the `source`, less any `<push name>/`
    prefix a named push process adds) is in the store."""
    store = Store.from_url(db_url, migrate=False)
    try:
        rows = (r for rid in RESOURCES for r in store.observations(rid, limit=10_000_000))
        return Counter(str(r["source"]).rsplit("/", 1)[-1] for r in rows)
    finally:
        store.close()


def assert_sqlite_intact(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        return
    store = Store.from_url(db_url, migrate=False)
    try:
        with store.engine.connect() as conn:
            verdict: list[str] = list(conn.exec_driver_sql("PRAGMA integrity_check").scalars())
    finally:
        store.close()
    assert verdict == ["ok"]


def assert_serves_and_stores(api: ApiProcess, db_url: str) -> None:
    """An API started on the crashed store lists the resources and stores a new batch."""
    listed = httpx.get(api.url + "/api/v1/resources", timeout=10)
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()["items"]] == list(RESOURCES)
    fresh = {"observations": [observation("home", datetime.now(UTC), source="after-restart")]}
    posted = httpx.post(api.url + OBSERVATIONS, json=fresh, headers=AUTH, timeout=10)
    assert posted.status_code == 200, posted.text
    assert stored_sources(db_url)["after-restart"] == 1


# -- 1. direct posters ----------------------------------------------------------------------


class Posters:
    """Threads that post uniquely named observations until stopped, keeping what got a 200."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent: list[str] = []
        self.acked: list[str] = []
        self.answers: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(p,), name=f"poster-{p}", daemon=True)
            for p in range(POSTERS)
        ]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def halt(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=WAIT)
        assert not any(t.is_alive() for t in self._threads), "a poster did not stop"

    def acked_batches(self) -> int:
        with self._lock:
            return len(self.acked) // BATCH

    def _run(self, poster: int) -> None:
        with httpx.Client(base_url=self.url, headers=AUTH, timeout=10) as client:
            for b in itertools.count():
                if self._stop.is_set():
                    return
                ids = [f"p{poster}-b{b}-o{i}" for i in range(BATCH)]
                with self._lock:
                    self.sent += ids
                answer = self._post(client, ids, b)
                with self._lock:
                    self.answers[answer] += 1
                    if answer == "200":
                        self.acked += ids

    @staticmethod
    def _post(client: httpx.Client, ids: list[str], b: int) -> str:
        now = datetime.now(UTC)
        batch = [
            observation(RESOURCES[(b + i) % len(RESOURCES)], now, STATES[b % 3], source=sid)
            for i, sid in enumerate(ids)
        ]
        try:
            return str(client.post(OBSERVATIONS, json={"observations": batch}).status_code)
        except httpx.HTTPError as exc:
            return type(exc).__name__


def test_a_killed_api_loses_no_acknowledged_observation_and_leaves_a_sound_store(
    db_url: str, tmp_path: Path, apis: list[ApiProcess]
) -> None:
    api = start_api(apis, db_url, tmp_path)
    posters = Posters(api.url)
    posters.start()
    try:
        wait_for(
            lambda: posters.acked_batches() >= ACKED_BEFORE_KILL,
            f"{ACKED_BEFORE_KILL} acknowledged batches (answers: {posters.answers})",
            api,
        )
        api.kill9()
    finally:
        posters.halt()

    stored = stored_sources(db_url)
    lost = set(posters.acked) - stored.keys()
    assert not lost, f"{len(lost)} acknowledged observations lost, e.g. {sorted(lost)[:5]}"
    assert stored.keys() <= set(posters.sent)
    assert {i: n for i, n in stored.items() if n != 1} == {}
    per_batch = Counter(batch_of(i) for i in stored)
    assert {b: n for b, n in per_batch.items() if n != BATCH} == {}, "a batch stored in part"
    assert_sqlite_intact(db_url)
    assert_serves_and_stores(start_api(apis, db_url, tmp_path), db_url)


# -- 2. the push collector -----------------------------------------------------------------


class Producer:
    """The collector side: a batch of uniquely named observations to the sink every 20 ms."""

    def __init__(self, sink: PushSink) -> None:
        self.sink = sink
        self.batches: list[list[str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="producer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def halt(self) -> None:
        self._stop.set()
        self._thread.join(timeout=WAIT)
        assert not self._thread.is_alive(), "the producer did not stop"

    def count(self) -> int:
        with self._lock:
            return len(self.batches)

    def _run(self) -> None:
        for b in itertools.count():
            if self._stop.wait(0.02):
                return
            ids = [f"c-b{b}-o{i}" for i in range(BATCH)]
            now = datetime.now(UTC)
            batch = [
                Observation(RESOURCES[(b + i) % len(RESOURCES)], now, sid, ProbeState.UP, 1.0)
                for i, sid in enumerate(ids)
            ]
            self.sink(batch, now)
            with self._lock:  # spooled and fsynced: the collector has handed it over
                self.batches.append(ids)


def assert_delivered_exactly_once(produced: list[list[str]], stored: Counter[str]) -> None:
    """Every produced observation stored, once; nothing else stored."""
    ids = {i for b in produced for i in b}
    missing = ids - stored.keys()
    assert not missing, f"{len(missing)} spooled observations never stored: {sorted(missing)[:5]}"
    assert stored.keys() == ids
    repeated = {i: n for i, n in stored.items() if n > 1}
    assert not repeated, f"stored more than once: {repeated}"


def test_a_push_collector_delivers_everything_it_spooled_across_a_kill_and_restart_of_the_api(
    db_url: str, tmp_path: Path, apis: list[ApiProcess]
) -> None:
    api = start_api(apis, db_url, tmp_path)
    registry = CollectorRegistry()
    sink = PushSink(api.url, TOKEN, tmp_path / "spool", registry, timeout=15)
    producer = Producer(sink)

    def sent() -> float:
        return registry.get_sample_value("facstat_push_batches_sent_total") or 0.0

    sink.start()
    producer.start()
    try:
        wait_for(lambda: sent() >= PUSHED_BEFORE_KILL, f"{PUSHED_BEFORE_KILL} deliveries", api)
        api.kill9()
        down_from = producer.count()
        wait_for(lambda: producer.count() >= down_from + 10, "10 batches spooled while down", api)
        produced_while_down = producer.count() - down_from
        assert len(sink.spool.pending()) >= produced_while_down
        at_restart = sent()
        api = start_api(apis, db_url, tmp_path, port=api.port)
        wait_for(lambda: sent() >= at_restart + 10, "10 deliveries after the restart", api)
        producer.halt()
        wait_for(lambda: not sink.spool.pending(), "an empty spool", api)
    finally:
        producer.halt()
        sink.stop(drain_seconds=0)  # the spool is empty: no flush races the sender thread

    assert list(sink.spool.rejected.iterdir()) == []
    assert_delivered_exactly_once(producer.batches, stored_sources(db_url))
