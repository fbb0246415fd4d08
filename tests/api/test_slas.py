"""SLA reports through the API, from status history recorded by the real engine."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from tests.api.helpers import PROBLEM, iso, observation, post
from tests.conftest import DATA, OPERATOR, SMALL, Clock, assert_promtool_accepts, make_settings


@pytest.fixture
def sla_client(db_url: str, clock: Clock, tmp_path: Path) -> Iterator[TestClient]:
    """The small test facility with the SLA file of tests/data/slas."""
    facility = tmp_path / "facility.yaml"
    slas = DATA / "slas" / "slas.yaml"
    facility.write_text(SMALL.read_text() + f"\noperations:\n  slas: {slas}\n")
    rt = Runtime.build(make_settings(db_url, facility=facility), clock=clock)
    with TestClient(create_app(runtime=rt, start=False)) as c:
        yield c
    rt.store.close()


def hold(client: TestClient, clock: Clock, state: str, minutes: int, every: int = 60) -> None:
    """Report `state` for scratch every `every` seconds for `minutes`."""
    for _ in range(minutes * 60 // every):
        post(client, observation("scratch", clock.now, state))
        clock.advance(every)


def scratch(client: TestClient, **params: str) -> dict:
    r = client.get("/api/v1/slas/scratch-monthly", params=params)
    assert r.status_code == 200, r.text
    out: dict = r.json()
    return out


def test_an_hour_down_is_counted_down_and_lowers_availability(
    sla_client: TestClient, clock: Clock
) -> None:
    hold(sla_client, clock, "up", 60)
    hold(sla_client, clock, "down", 60)
    hold(sla_client, clock, "up", 60)
    out = scratch(sla_client)
    b = out["buckets"]
    assert b["down_s"] == pytest.approx(3600, abs=120)
    assert b["up_s"] == pytest.approx(2 * 3600, abs=120)
    parts = ("up_s", "degraded_s", "down_s", "maintenance_s", "overrun_s", "unknown_s")
    assert sum(b[k] for k in parts) == pytest.approx(b["service_s"])
    eligible = b["service_s"] - b["maintenance_s"] - b["unknown_s"]  # unknown excluded
    assert out["availability"] == pytest.approx(1 - b["down_s"] / eligible)
    assert out["met"] is False and out["error_budget"]["used_s"] == pytest.approx(b["down_s"])
    assert {r["window"] for r in out["burn_rates"]} >= {"5m", "1h", "3d"}


def test_down_time_inside_planned_maintenance_is_excluded(
    sla_client: TestClient, clock: Clock
) -> None:
    hold(sla_client, clock, "up", 30)
    window = {
        "id": "scratch-fw",
        "title": "Scratch firmware",
        "resources": ["scratch"],
        "start": iso(clock.now),
        "end": iso(clock.now + timedelta(hours=1)),
    }
    assert sla_client.post("/api/v1/maintenance", json=window, headers=OPERATOR).status_code == 201
    hold(sla_client, clock, "down", 60)
    hold(sla_client, clock, "up", 30)
    b = scratch(sla_client)["buckets"]
    assert b["maintenance_s"] == pytest.approx(3600, abs=120)
    assert b["down_s"] == pytest.approx(0, abs=120)
    assert scratch(sla_client)["availability"] == pytest.approx(1.0, abs=0.05)


def test_still_down_after_the_window_ends_is_an_overrun_counted_down(
    sla_client: TestClient, clock: Clock
) -> None:
    hold(sla_client, clock, "up", 10)
    window = {
        "id": "scratch-fw",
        "title": "Scratch firmware",
        "resources": ["scratch"],
        "start": iso(clock.now),
        "end": iso(clock.now + timedelta(minutes=30)),
    }
    sla_client.post("/api/v1/maintenance", json=window, headers=OPERATOR)
    hold(sla_client, clock, "down", 60)
    status = sla_client.get("/api/v1/resources/scratch").json()
    assert status["reasons"][0]["code"] == "maintenance_overrun"
    hold(sla_client, clock, "up", 10)
    b = scratch(sla_client)["buckets"]
    assert b["maintenance_s"] == pytest.approx(1800, abs=120)
    assert b["overrun_s"] == pytest.approx(1800, abs=120)
    assert b["overrun_down_s"] == pytest.approx(b["overrun_s"])


def test_every_sla_is_listed_with_this_period(sla_client: TestClient, clock: Clock) -> None:
    hold(sla_client, clock, "up", 5)
    items = sla_client.get("/api/v1/slas").json()["items"]
    assert [s["sla"] for s in items] == ["scratch-monthly", "streaming-16x5", "batch-weekly"]
    assert items[1]["resources"] == ["broker", "scratch"]


def test_the_csv_export_has_a_row_per_period_with_every_bucket(
    sla_client: TestClient, clock: Clock
) -> None:
    hold(sla_client, clock, "up", 5)
    r = sla_client.get("/api/v1/slas/scratch-monthly/report.csv", params={"periods": 3})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 3 and rows[0]["period_start"] == "2026-10-31T23:00:00Z"  # Berlin month
    assert rows[1]["period_start"] == "2026-09-30T22:00:00Z"
    assert float(rows[0]["up_s"]) == pytest.approx(300, abs=60)


def test_named_periods_and_bad_ones(sla_client: TestClient) -> None:
    prev = scratch(sla_client, period="previous")
    assert prev["period"]["start"] == "2026-09-30T22:00:00Z"
    assert scratch(sla_client, period="2026-10") == prev
    for bad in ("2026-13", "2027-01", "last-week"):
        r = sla_client.get("/api/v1/slas/scratch-monthly", params={"period": bad})
        assert r.status_code == 400 and r.headers["content-type"] == PROBLEM, bad
        assert r.json()["errors"][0]["field"] == "query.period"
    rolling = sla_client.get("/api/v1/slas/streaming-16x5", params={"period": "2026-10"})
    assert rolling.status_code == 400
    assert sla_client.get("/api/v1/slas/nope").status_code == 404


def test_sla_and_maintenance_metrics_pass_promtool(sla_client: TestClient, clock: Clock) -> None:
    hold(sla_client, clock, "up", 5)
    window = {
        "id": "home-fw",
        "title": "Home firmware",
        "resources": ["home"],
        "start": iso(clock.now - timedelta(minutes=1)),
        "end": iso(clock.now + timedelta(hours=1)),
    }
    sla_client.post("/api/v1/maintenance", json=window, headers=OPERATOR)
    text = sla_client.get("/metrics").text
    assert 'facstat_sla_availability_ratio{service="scratch",sla="scratch-monthly"} 1.0' in text
    assert 'facstat_sla_objective_ratio{service="scratch",sla="scratch-monthly"} 0.995' in text
    assert 'facstat_maintenance_active{resource="home",window="home-fw"} 1.0' in text
    assert 'facstat_sla_burn_rate{service="scratch",sla="scratch-monthly",window="1h"}' in text
    assert_promtool_accepts(text)
