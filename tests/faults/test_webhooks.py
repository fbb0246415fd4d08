"""Fault: the API process delivering webhooks is killed (`kill -9`) with deliveries pending.

Subscriptions are delivered from the change feed after a cursor kept in the store
(`slas.subscriptions`), so the next process on the same store delivers what the killed
one had not: every status change reaches the subscriber at least once, each with its
stable `id`, and only a change that was in flight at the kill may arrive twice.
Runs on SQLite (WAL) and PostgreSQL.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from facility.tables import ChangeRecord
from tests.conftest import AUTH, OPERATOR, free_port
from tests.notify.conftest import WebhookSink, webhook_sink  # noqa: F401  (fixture)
from tests.procs import ApiProcess, api_env, spawn_api

FLIPS = 4  # gateway changes state on every observation (its hysteresis is 1)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[ApiProcess]]:
    procs: list[ApiProcess] = []
    yield procs
    for p in procs:
        p.stop()


def status_change_ids(db_url: str) -> list[str]:
    table = ChangeRecord.__table__  # type: ignore[attr-defined]
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.payload)
            .where(table.c.kind == "status", table.c.ref == "gateway")
            .order_by(table.c.id)
        ).all()
    engine.dispose()
    return [r[0]["uuid"] for r in rows]


def test_webhooks_pending_at_a_kill_are_delivered_by_the_next_process(
    db_url: str,
    tmp_path: Path,
    started: list[ApiProcess],
    webhook_sink: WebhookSink,  # noqa: F811
) -> None:
    env = api_env(db_url)
    api = spawn_api(free_port(), env, tmp_path / "first.log")
    started.append(api)
    sub = {"kind": "webhook", "target": webhook_sink.url, "resources": ["gateway"]}
    r = httpx.post(f"{api.url}/api/v1/subscriptions", json=sub, headers=OPERATOR)
    assert r.status_code == 201, r.text
    before = set(status_change_ids(db_url))
    webhook_sink.stall(1.5)  # a slow receiver: deliveries queue up behind it
    at = datetime.now(UTC)
    for i in range(FLIPS):
        obs = {"resource_id": "gateway", "observed_at": (at + timedelta(seconds=i)).isoformat(),
               "source": "t", "state": "down" if i % 2 else "up"}  # fmt: skip
        r = httpx.post(f"{api.url}/api/v1/observations", json={"observations": [obs]}, headers=AUTH)
        assert r.status_code == 200, r.text
    wanted = [u for u in status_change_ids(db_url) if u not in before]
    assert len(wanted) == FLIPS
    webhook_sink.wait_for(1, timeout=30)
    api.kill9()  # mid-stream: most of the changes are not delivered yet
    delivered_at_kill = len(webhook_sink.requests)
    assert delivered_at_kill < FLIPS

    webhook_sink.stall(0)
    again = spawn_api(free_port(), env, tmp_path / "second.log")
    started.append(again)
    httpx.get(f"{again.url}/api/v1/status")  # any request; the dispatcher runs at start

    def got() -> Counter[str]:
        return Counter(json.loads(x.body)["id"] for x in webhook_sink.requests)

    try:
        webhook_sink.wait_for(FLIPS, timeout=60)
        for _ in range(100):  # the rest arrive in order; wait for the last one
            if set(wanted) <= set(got()):
                break
            webhook_sink.wait_for(len(webhook_sink.requests) + 1, timeout=30)
    finally:
        print(again.output()[-2000:])
    counts = got()
    assert set(wanted) <= set(counts), "a change never reached the subscriber"
    assert set(counts) == set(wanted), "something was delivered that never changed"
    twice = [u for u, n in counts.items() if n > 1]
    assert len(twice) <= 1 and all(counts[u] == 2 for u in twice), counts  # the one in flight
