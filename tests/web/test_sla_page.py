"""The SLA pages `/slas` and `/slas/{id}`: view-models on plain reports, the pages
without JavaScript on the demo facility's SLAs (in-process, on SQLite and
PostgreSQL), and in Chromium against a real server, CSV download included."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from api.app import create_app
from api.pages.sla_view import bucket_rows, burn_rows, exhaustion, period_view, sla_detail
from api.runtime import Runtime
from facility.model import Interval, State
from slas.calendars import Period
from slas.definitions import SlaDefinition
from slas.sla import report
from tests.conftest import Clock, LiveServer, make_settings
from tests.web.conftest import screenshot
from tests.web.pages_server import DEMO, demo_server, html, observe_demo

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
DEMO_SLAS = ["interactive-monthly", "scratch-monthly", "streaming-30d", "jupyterhub-16x5",
             "batch-monthly"]  # fmt: skip


def sla(**fields: object) -> SlaDefinition:
    base: dict[str, object] = {"id": "scratch-30d", "service": "scratch",
                               "resources": ("scratch",), "objective": 99.0, "period": "30d"}  # fmt: skip
    return SlaDefinition.model_validate(base | fields)


def timeline(*parts: tuple[float, State]) -> list[Interval]:
    """Consecutive stretches of (hours, state) ending at NOW."""
    out, t = [], NOW - timedelta(hours=sum(h for h, _ in parts))
    for hours, state in parts:
        out.append(Interval("scratch", t, t + timedelta(hours=hours), state, 0.5))
        t += timedelta(hours=hours)
    return out


# -- view-models ------------------------------------------------------------------------


def test_each_bucket_gets_its_time_its_share_and_the_part_counted_as_down() -> None:
    s = sla()
    found = timeline((4, State.MAINTENANCE), (700, State.UP), (10, State.DEGRADED), (6, State.DOWN))
    rows = {b.key: b for b in bucket_rows(report(s, {"scratch": found}, NOW))}
    assert list(rows) == ["up", "degraded", "down", "maintenance", "overrun", "unknown"]
    assert rows["degraded"].time == "10 h" and rows["down"].time == "6 h"
    assert rows["degraded"].counted_down == "of which counted as down: 5 h"
    assert rows["maintenance"].share == pytest.approx(4 / 720)
    assert rows["unknown"].time == "0 s" and rows["unknown"].counted_down is None


def test_a_period_says_whether_the_objective_is_met_and_how_much_budget_is_left() -> None:
    s = sla()
    good = period_view(
        s, report(s, {"scratch": timeline((719, State.UP), (1, State.DOWN))}, NOW), NOW
    )
    assert good.met is True and good.budget_total == "7 h 12 min" and good.budget_used == "1 h"
    assert good.budget_remaining == "6 h 12 min" and good.running
    bad = period_view(
        s, report(s, {"scratch": timeline((710, State.UP), (10, State.DOWN))}, NOW), NOW
    )
    assert bad.met is False and bad.budget_remaining == "-2 h 48 min (overspent)"
    assert bad.budget_remaining_fraction == pytest.approx(1 - 10 / 7.2)
    assert good.label == "22 Oct 2026 12:00 UTC – 21 Nov 2026 12:00 UTC"


def test_burn_rows_compare_each_window_pair_with_its_threshold() -> None:
    s = sla()
    r = report(s, {"scratch": timeline((716, State.UP), (1, State.DOWN), (3, State.UP))}, NOW)
    rows = burn_rows(s, r, NOW)
    assert [(b.long, b.short, round(b.threshold, 6), b.severity) for b in rows] == [
        ("1h", "5m", 14.4, "page"),
        ("6h", "30m", 6.0, "page"),
        ("1d", "2h", 3.0, "ticket"),
        ("3d", "6h", 1.0, "ticket"),
    ]
    # an hour down, three hours ago: only the 3d/6h pair still sees both windows burn
    assert [b.firing for b in rows] == [False, False, False, True]
    assert rows[3].long_rate == pytest.approx(100 / 72)
    assert rows[3].short_rate == pytest.approx(100 / 6)
    assert rows[0].long_rate == 0.0
    past = report(
        s,
        {"scratch": timeline((1500, State.UP))},
        NOW,
        Period(NOW - timedelta(days=60), NOW - timedelta(days=30)),
    )
    assert burn_rows(s, past, NOW) == ()


def test_a_calendar_month_is_named_by_its_month_and_the_detail_lists_periods_newest_first() -> None:
    s = sla(period="month", timezone="America/New_York")
    found = {"scratch": timeline((24 * 100, State.UP))}
    current = report(s, found, NOW)
    previous = report(
        s, found, NOW, Period(datetime(2026, 10, 1, 4, tzinfo=UTC), current.period.start)
    )
    d = sla_detail(s, [current, previous], NOW)
    assert [p.label for p in d.periods] == ["November 2026", "October 2026"]
    assert d.csv_url == "/api/v1/slas/scratch-30d/report.csv?periods=2"
    assert d.summary.rules == (
        "24x7 service hours in America/New_York; degraded time counts 0.5 available; "
        "unknown time excluded"
    )
    assert [w for w, _ in d.rates] == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]


def test_the_time_left_before_the_budget_is_spent_reads_in_words() -> None:
    assert exhaustion(None) is None and exhaustion(0.0) == "already spent"
    assert exhaustion(90_000) == "in 1 d 1 h of service time at the last hour's burn"


# -- the pages without JavaScript -------------------------------------------------------


@pytest.fixture
def demo(db_url: str, clock: Clock) -> Iterator[TestClient]:
    """The demo facility in-process at T0, with its 100 days of made-up history."""
    rt = Runtime.build(make_settings(db_url, facility=DEMO, demo=True), clock=clock)
    with TestClient(create_app(runtime=rt, start=False)) as client:
        yield client
    rt.store.close()


def test_the_list_shows_every_sla_with_its_availability_budget_and_a_link(demo: TestClient) -> None:
    page = html(demo.get("/slas").text)
    rows = page.one("section", id="sla-table").find("tr")[1:]
    assert [r.attrs["id"] for r in rows] == [f"sla-{i}" for i in DEMO_SLAS]
    api = {s["sla"]: s for s in demo.get("/api/v1/slas").json()["items"]}
    for row, sla_id in zip(rows, DEMO_SLAS, strict=True):
        assert row.find("a")[0].attrs["href"] == f"/slas/{sla_id}"
        assert f"{api[sla_id]['availability'] * 100:.3f} %" in row.words
        left = api[sla_id]["error_budget"]["remaining_fraction"]
        assert f"{left * 100:.1f} %" in row.words


def test_the_detail_shows_every_bucket_the_budget_the_burn_thresholds_and_past_periods(
    demo: TestClient,
) -> None:
    r = demo.get("/slas/streaming-30d")
    assert r.status_code == 200
    page = html(r.text)
    api = demo.get("/api/v1/slas/streaming-30d").json()
    buckets = {tr.attrs["data-bucket"]: tr.words for tr in page.one(id="buckets").find("tr") if "data-bucket" in tr.attrs}  # fmt: skip
    assert list(buckets) == ["up", "degraded", "down", "maintenance", "overrun", "unknown"]
    up_share = api["buckets"]["up_s"] / api["buckets"]["service_s"]
    assert f"{up_share * 100:.2f} %" in buckets["up"]
    assert f"{api['availability'] * 100:.3f} % available" in page.one(id="current").words
    assert "remaining" in page.one(id="budget").words
    burn = page.one(id="burn").find("tr")[1:]
    assert [tr.find("td")[0].words for tr in burn] == ["1h / 5m", "6h / 30m", "1d / 2h", "3d / 6h"]
    assert [tr.find("td")[3].words for tr in burn] == ["14.40", "6.00", "3.00", "1.00"]
    periods = page.one(id="periods").find("tr")[1:]
    assert len(periods) == 6 and "(running)" in periods[0].words
    assert (
        page.one("a", id="csv").attrs["href"] == "/api/v1/slas/streaming-30d/report.csv?periods=6"
    )


def test_the_csv_link_gives_one_row_per_period_shown(demo: TestClient) -> None:
    href = html(demo.get("/slas/scratch-monthly").text).one("a", id="csv").attrs["href"]
    r = demo.get(href)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 6 and {row["sla"] for row in rows} == {"scratch-monthly"}


def test_an_unknown_sla_is_a_404_page_that_says_so(demo: TestClient) -> None:
    r = demo.get("/slas/nope")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "There is no SLA 'nope'." in html(r.text).one(cls="problem").words


def test_the_sla_table_refreshes_itself_as_a_fragment(demo: TestClient) -> None:
    table = html(demo.get("/slas?refresh=5").text).one("section", id="sla-table")
    assert (table.attrs["hx-get"], table.attrs["hx-trigger"]) == (
        "/fragments/slas?refresh=5",
        "every 5s",
    )
    fragment = demo.get("/fragments/slas?refresh=5").text
    assert "<html" not in fragment
    assert html(fragment).one("section", id="sla-table").find("tr", id="sla-streaming-30d")


# -- in a browser, against a real server ------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("sla-page")) as server:
        observe_demo(server)
        yield server


def test_in_a_browser_the_sla_pages_show_the_buckets_and_the_csv_link_downloads_csv(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    page.goto(live.url + "/slas")
    expect(page.locator("#sla-table tbody tr")).to_have_count(len(DEMO_SLAS))
    screenshot(page, "slas")
    page.click("#sla-streaming-30d a")
    expect(page.locator("h1")).to_have_text("Light-source streaming path")
    expect(page.locator("#buckets tbody tr")).to_have_count(6)
    expect(page.locator("#burn tbody tr")).to_have_count(4)
    expect(page.locator("#periods tbody tr")).to_have_count(6)
    screenshot(page, "sla-detail")
    with page.expect_download() as download:
        page.click("#csv")
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "streaming-30d.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert len(rows) == 6 and rows[0]["sla"] == "streaming-30d"
    assert {"availability", "up_s", "maintenance_s", "budget_remaining_s"} <= set(rows[0])
