"""The public status page `/`: its view-models on plain values, its HTML without
JavaScript (in-process, on SQLite and PostgreSQL), and in Chromium against a real
server, where a fragment refreshes itself after a state change."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from api.pages.fragments import polls, refresh_knob
from api.pages.notices_view import maintenance_items, public_entries
from api.pages.status_view import banner, resource_row, status_view
from api.pages.time_view import ago, human_duration
from api.pages.uptime_view import DAYS, day_bounds, tally, uptime_days
from facility.config import FacilityConfig
from facility.model import EffectiveStatus, Interval, Reason, RootCause, State
from slas.incident_store import TimelineEntry
from slas.maintenance import MaintenanceWindow, occurrences
from tests.api.helpers import all_up, observation, post
from tests.conftest import OPERATOR, T0, Clock, LiveServer
from tests.web.conftest import screenshot
from tests.web.pages_server import DEMO_RESOURCES, demo_server, html, observe_demo
from tests.web.pages_server import observation as live_observation
from tests.web.pages_server import post as live_post

UTC_ZONE = ZoneInfo("UTC")
RESOURCES = {"scratch": "Scratch", "home": "Home", "broker": "Broker", "batch": "Batch partition",
             "gateway": "API gateway"}  # fmt: skip


def status(rid: str, state: State, at: datetime, **kw: object) -> EffectiveStatus:
    fields: dict[str, object] = {"capacity": None, "reasons": (), "since": at, "observed_at": at,
                                 "source": "test", **kw}  # fmt: skip
    return EffectiveStatus(rid, state, **fields)  # type: ignore[arg-type]


# -- view-models ------------------------------------------------------------------------


def test_the_banner_names_the_worst_state_in_words_and_counts_each_state() -> None:
    b = banner([State.UP, State.DEGRADED, State.UP, State.UNKNOWN])
    assert (b.state, b.headline) == ("degraded", "Degraded service")
    assert b.counts == "4 resources: 1 degraded, 1 unknown, 2 up"
    assert banner([State.UP, State.UP]).headline == "All systems operational"
    assert banner([State.UP, State.DOWN]).state == "down"
    assert banner([]).state == "unknown"


def test_a_resource_silent_past_stale_after_is_marked_stale_and_not_shown_up(
    config: FacilityConfig,
) -> None:
    r = config.resource("scratch")
    seen = status("scratch", State.UP, T0 - timedelta(minutes=5), capacity=1.0)
    row = resource_row(r, seen, timedelta(minutes=2), T0, {})
    assert row.stale and row.state == "unknown"
    assert row.checked == "checked 5 min ago"
    fresh = resource_row(r, seen, timedelta(minutes=10), T0, {})
    assert not fresh.stale and fresh.state == "up"


def test_a_resource_the_engine_calls_stale_is_marked_stale(config: FacilityConfig) -> None:
    reason = Reason("stale", "no observation for 3 min (stale after 2 min); last seen up")
    seen = status("home", State.UNKNOWN, T0 - timedelta(minutes=3), reasons=(reason,))
    row = resource_row(config.resource("home"), seen, timedelta(minutes=2), T0, {})
    assert row.stale and row.reasons == (reason.message,)


def test_a_resource_without_any_status_is_unknown_and_never_checked(
    config: FacilityConfig,
) -> None:
    row = resource_row(config.resource("home"), None, timedelta(minutes=2), T0, {})
    assert (row.state, row.checked, row.stale) == ("unknown", "never checked", False)


def test_a_propagated_state_names_its_root_cause_in_words(config: FacilityConfig) -> None:
    cause = RootCause("scratch", State.DOWN, "I/O probe failed")
    seen = status("broker", State.DEGRADED, T0, root_cause=cause)
    row = resource_row(config.resource("broker"), seen, timedelta(minutes=2), T0, RESOURCES)
    assert row.cause == "because Scratch is down: I/O probe failed"


def test_the_tree_groups_resources_under_their_systems(config: FacilityConfig) -> None:
    statuses = {rid: status(rid, State.UP, T0) for rid in RESOURCES}
    view = status_view(config, statuses, T0 + timedelta(seconds=12))
    assert [s.id for s in view.systems] == ["hpc", "storage", "streaming"]
    assert [r.id for r in view.systems[1].resources] == ["scratch", "home"]
    assert view.systems[0].resources[0].checked == "checked 12 s ago"
    assert view.banner.state == "up"


def interval(
    start: datetime, hours: float, state: State, capacity: float | None = None
) -> Interval:
    return Interval("scratch", start, start + timedelta(hours=hours), state, capacity)


def test_a_day_counts_gaps_as_no_data_and_degraded_time_by_its_capacity() -> None:
    day = datetime(2026, 11, 20, tzinfo=UTC)
    found = [
        interval(day, 12, State.UP),
        interval(day + timedelta(hours=12), 6, State.DEGRADED, 0.5),
    ]
    t = tally(found, day, day + timedelta(days=1))
    assert t.seconds["up"] == 12 * 3600 and t.seconds["degraded"] == 6 * 3600
    assert t.seconds["unknown"] == 6 * 3600  # the last 6 hours have no data
    assert t.availability == pytest.approx((12 + 3) / 18)
    assert t.state == "degraded"


def test_a_day_shows_its_worst_state_and_leaves_maintenance_out_of_availability() -> None:
    day = datetime(2026, 11, 20, tzinfo=UTC)
    found = [interval(day, 20, State.UP), interval(day + timedelta(hours=20), 4, State.MAINTENANCE)]
    t = tally(found, day, day + timedelta(days=1))
    assert t.availability == 1.0 and t.state == "maintenance"
    assert tally([], day, day + timedelta(days=1)).availability is None


def test_the_bars_are_local_days_and_the_day_the_clocks_go_back_lasts_25_hours() -> None:
    bounds = day_bounds(date(2026, 11, 2), 2, ZoneInfo("America/New_York"))
    (d1, s1, e1), (d2, s2, _) = bounds
    assert (d1, d2) == (date(2026, 11, 1), date(2026, 11, 2))
    assert e1 - s1 == timedelta(hours=25) and e1 == s2
    assert s1 == datetime(2026, 11, 1, 4, tzinfo=UTC) and s2 == datetime(2026, 11, 2, 5, tzinfo=UTC)


def test_today_counts_up_to_now_and_each_day_lists_its_incidents_and_maintenance() -> None:
    now = datetime(2026, 11, 21, 6, tzinfo=UTC)
    bounds = day_bounds(now.date(), DAYS, UTC_ZONE)
    found = [Interval("scratch", now - timedelta(days=1), None, State.UP)]
    incident = (now - timedelta(hours=3), now - timedelta(hours=2), "Scratch is down")
    window = (now - timedelta(days=1, hours=1), now - timedelta(days=1), "Lustre upgrade")
    days = uptime_days(found, bounds, now, [incident], [window])
    assert len(days) == DAYS and days[-1].date == now.date()
    assert days[-1].tally.seconds["up"] == 6 * 3600 and days[-1].state == "up"
    assert days[-1].incidents == ("Scratch is down",) and days[-2].maintenance == (
        "Lustre upgrade",
    )
    assert days[0].state == "unknown" and days[0].title.endswith("no data")
    assert "incidents: Scratch is down" in days[-1].title


def test_internal_timeline_entries_never_reach_the_public_view() -> None:
    entries = [
        TimelineEntry(1, 1, T0, "opened", "facstat", True, "Scratch is down"),
        TimelineEntry(2, 1, T0, "internal_note", "ann", False, "OSS3 rebooted by hand"),
        TimelineEntry(3, 1, T0, "public_note", "ann", True, "We are on it"),
    ]
    assert [e.text for e in public_entries(entries)] == ["Scratch is down", "We are on it"]


def test_repeated_maintenance_is_listed_once_with_how_many_follow() -> None:
    def window(n: int) -> MaintenanceWindow:
        start = T0 + timedelta(hours=n)
        return MaintenanceWindow(id=f"w{n}", title="Upgrade", resources=("scratch",),
                                 start=start, end=start + timedelta(minutes=30))  # fmt: skip

    found = [o for n in (1, 2, 3) for o in occurrences(window(n), T0, T0 + timedelta(days=1))]
    (item,) = maintenance_items([], found, RESOURCES, UTC_ZONE, T0)
    assert item.relative == "starts in 1 h" and item.resources == ("Scratch",)
    assert item.more == "and 2 more until Sat 21 Nov 2026 15:30 UTC"


def test_durations_and_ages_read_in_words() -> None:
    assert [human_duration(s) for s in (0, 45, 720, 11100, 187200)] == [
        "0 s", "45 s", "12 min", "3 h 5 min", "2 d 4 h",
    ]  # fmt: skip
    assert ago(T0 - timedelta(seconds=12), T0) == "12 s ago" and ago(None, T0) == "never"


def test_the_refresh_knob_sets_every_fragments_interval_and_ignores_nonsense() -> None:
    assert refresh_knob("2") == 2 and refresh_knob("0") is None and refresh_knob("x") is None
    assert polls(None)["status"].url == "/fragments/status" and polls(None)["status"].every == 10
    assert polls(2)["uptime"].url == "/fragments/uptime?refresh=2" and polls(2)["uptime"].every == 2


# -- the page without JavaScript ----------------------------------------------------------


def degrade_scratch(client: TestClient, clock: Clock) -> None:
    reason = {"code": "osts_inactive", "message": "6 of 40 OSTs inactive"}
    for _ in range(2):
        clock.advance(10)
        post(client, observation("scratch", clock.now, "degraded", capacity=0.85, reasons=[reason]))


def test_without_javascript_every_resource_shows_its_state_capacity_reasons_and_when_checked(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    degrade_scratch(client, clock)
    clock.advance(12)
    page = html(client.get("/").text)
    for rid, name in RESOURCES.items():
        row = page.one("li", id=f"r-{rid}")
        assert name in row.words and "ago" in row.words, row.words
        assert row.attrs["data-state"] in row.words
    scratch = page.one("li", id="r-scratch")
    assert "degraded" in scratch.words and "6 of 40 OSTs inactive" in scratch.words
    assert "checked 12 s ago" in scratch.words and "85.0 % capacity" in scratch.words
    assert scratch.find("meter")[0].attrs["value"] == "0.85"
    assert "because Scratch is degraded" in page.one("li", id="r-broker").words
    assert "Degraded service" in page.one(cls="banner").words


def test_a_resource_whose_collector_fell_silent_is_marked_stale(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    clock.advance(60)  # the gateway goes stale after 30 s, the others after 2 min
    post(client, *(observation(r, clock.now) for r in RESOURCES if r != "gateway"))
    page = html(client.get("/").text)
    gateway = page.one("li", id="r-gateway")
    assert "stale" in gateway.classes and gateway.attrs["data-state"] == "unknown"
    assert gateway.one(cls="badge-stale").words == "stale"
    assert "checked 1 min ago" in gateway.words
    assert "stale" not in page.one("li", id="r-home").classes


def test_every_resource_has_ninety_daily_bars_each_titled_and_linked_to_its_day(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    page = html(client.get("/").text)
    for rid in RESOURCES:
        days = page.one(id=f"uptime-{rid}").find("a", cls="day")
        assert len(days) == 90
        assert days[-1].attrs["href"] == f"/day/{rid}/2026-11-21"
        assert days[-1].attrs["title"].startswith("Sat 2026-11-21: ")
        assert days[0].attrs["href"] == f"/day/{rid}/2026-08-24"
        assert "day-unknown" in days[0].classes  # before the history began: no data


def test_an_incident_shows_its_public_notes_and_never_its_internal_ones(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    for _ in range(2):
        clock.advance(10)
        down = [{"code": "io_error", "message": "I/O probe failed: EIO"}]
        post(client, observation("scratch", clock.now, "down", reasons=down))
    (incident,) = client.get("/api/v1/incidents", headers=OPERATOR).json()["items"]
    notes = f"/api/v1/incidents/{incident['id']}/notes"
    body = {"text": "OSS3 rebooted by hand, password in vault", "public": False}
    assert client.post(notes, json=body, headers=OPERATOR).status_code == 200
    body = {"text": "Scratch is being repaired; writes fail meanwhile.", "public": True}
    assert client.post(notes, json=body, headers=OPERATOR).status_code == 200
    for text in (client.get("/").text, client.get("/fragments/incidents").text):
        section = html(text).one(id="incidents")
        assert "Scratch is not working normally" in section.words
        assert "Scratch is being repaired; writes fail meanwhile." in section.words
        assert "Scratch: down: I/O probe failed" in section.words
        assert "EIO" not in text  # the raw error is internal
        assert "OSS3" not in text and "vault" not in text


def test_maintenance_ahead_is_listed_with_the_calendar_feed_to_subscribe_to(
    client: TestClient, clock: Clock
) -> None:
    start = clock.now + timedelta(hours=3)
    window = {"id": "scratch-upgrade", "title": "Scratch upgrade", "resources": ["scratch"],
              "start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat(),
              "notice_given_at": (clock.now - timedelta(days=10)).isoformat()}  # fmt: skip
    assert client.post("/api/v1/maintenance", json=window, headers=OPERATOR).status_code == 201
    section = html(client.get("/").text).one(id="maintenance")
    assert "Scratch upgrade" in section.words and "starts in 3 h" in section.words
    assert "Sat 21 Nov 2026 15:00 – 19:00 UTC" in section.words
    links = {a.attrs["href"] for a in section.find("a", cls="feed")}
    assert links == {"/api/v1/maintenance.ics", "webcal://testserver/api/v1/maintenance.ics"}
    assert client.get("/api/v1/maintenance.ics").text.startswith("BEGIN:VCALENDAR")


def test_the_page_has_no_inline_script_no_event_handler_and_nothing_from_elsewhere(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    text = client.get("/").text
    page = html(text)
    assert [s.attrs.get("src") for s in page.find("script")] == ["/static/vendor/htmx.min.js"]
    assert all(not s.text.strip() for s in page.find("script"))
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", text), "an inline event handler"
    assert not re.search(r"""(src|href)=["'](https?:)?//""", text), "something from elsewhere"
    assert 'style="' not in text


def test_each_live_part_is_a_fragment_that_polls_itself_and_keeps_the_refresh_knob(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    page = html(client.get("/?refresh=2").text)
    for name in ("status", "incidents", "maintenance", "uptime"):
        section = page.one("section", id=name)
        assert section.attrs["hx-get"] == f"/fragments/{name}?refresh=2"
        assert section.attrs["hx-trigger"] == "every 2s"
        assert section.attrs["hx-swap"] == "outerHTML"
        fragment = html(client.get(section.attrs["hx-get"]).text)
        assert fragment.one("section", id=name).attrs["hx-trigger"] == "every 2s"
        assert not fragment.find("html")  # a fragment, not a page
    default = html(client.get("/").text).one("section", id="status")
    assert default.attrs["hx-trigger"] == "every 10s"


def test_the_day_page_shows_the_days_stretches_and_refuses_bad_requests_clearly(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    degrade_scratch(client, clock)
    clock.advance(60)
    r = client.get("/day/scratch/2026-11-21")
    assert r.status_code == 200
    page = html(r.text)
    assert "Scratch on Saturday 21 November 2026" in page.one("h1").words
    rows = [tr.words for tr in page.find("tbody")[1].find("tr")]
    assert rows[0].startswith("00:00:00 12:00:00 ? unknown") and "no status recorded" in rows[0]
    assert rows[-1].startswith("12:00:20 now ▲ degraded") and "6 of 40 OSTs inactive" in rows[-1]
    missing = client.get("/day/scrach/2026-11-21")
    assert missing.status_code == 404
    assert "There is no resource 'scrach'." in html(missing.text).one(cls="problem").words
    bad = client.get("/day/scratch/21.11.2026")
    assert bad.status_code == 400
    assert "'21.11.2026' is not a date (YYYY-MM-DD)." in html(bad.text).one(cls="problem").words
    assert client.get("/day/scratch/2026-11-22").status_code == 400


# -- in a browser, against a real server ------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("status-page")) as server:
        observe_demo(server)
        yield server


def watch(page: Page, live: LiveServer) -> list[str]:
    """Problems seen by the browser: errors, and requests to anywhere but the server."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("request", lambda r: _elsewhere(r.url, live, problems))
    page.on("response", lambda r: _failed(r.url, r.status, problems))
    return problems


def _elsewhere(url: str, live: LiveServer, problems: list[str]) -> None:
    if not url.startswith(live.url):
        problems.append(f"request to {url}")


def _failed(url: str, status: int, problems: list[str]) -> None:
    if status >= 400 and not url.endswith("/favicon.ico"):  # the browser asks on its own
        problems.append(f"{status} from {url}")


def test_in_a_browser_the_status_page_shows_every_resource_and_its_uptime(
    page: Page, live: LiveServer
) -> None:
    problems = watch(page, live)
    page.goto(live.url + "/")
    rows = page.locator("li.resource")
    expect(rows).to_have_count(DEMO_RESOURCES)
    for i in range(DEMO_RESOURCES):
        expect(rows.nth(i).locator(".state")).to_be_visible()
        expect(rows.nth(i)).to_contain_text("checked")
    expect(page.locator("#r-borealis-batch")).to_contain_text("29 of 368 nodes drained")
    expect(page.locator("#r-project")).to_have_attribute("data-state", "degraded")
    expect(page.locator("#r-dtn")).to_contain_text("because Project filesystem is degraded")
    expect(page.locator(".uptime-row")).to_have_count(DEMO_RESOURCES)
    expect(page.locator("#uptime-scratch a.day")).to_have_count(90)
    expect(page.locator("#maintenance a.feed").first).to_be_visible()
    screenshot(page, "status")
    page.locator("#uptime-scratch a.day").nth(80).click()
    expect(page.locator("h1")).to_contain_text("Orion scratch (Lustre) on ")
    assert problems == []


def test_in_a_browser_a_state_change_reaches_the_open_page_without_a_reload(
    page: Page, live: LiveServer
) -> None:
    page.goto(live.url + "/?refresh=1")
    row = page.locator("#r-borealis-interactive")
    expect(row).to_have_attribute("data-state", "up")
    page.evaluate("window.__notReloaded = true")
    started = time.monotonic()
    reason = "nodes_down: 24 of 24 nodes down: 'Not responding'"
    live_post(live, live_observation("borealis-interactive", "down", 0.0, reason))
    expect(row).to_have_attribute("data-state", "down", timeout=10_000)
    expect(row).to_contain_text("24 of 24 nodes down")
    expect(page.locator("#status .banner")).to_contain_text("Outage")
    assert page.evaluate("window.__notReloaded") is True
    assert time.monotonic() - started < 10
    live_post(live, live_observation("borealis-interactive", "up", 1.0))
    expect(row).to_have_attribute("data-state", "up", timeout=10_000)


def test_on_a_phone_the_status_page_fits_the_screen_without_sideways_scrolling(
    phone: Page, live: LiveServer
) -> None:
    phone.goto(live.url + "/")
    expect(phone.locator("li.resource")).to_have_count(DEMO_RESOURCES)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    screenshot(phone, "status-phone")
