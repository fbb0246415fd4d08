"""The readiness page `/readiness`: the form's view-models on plain values, the page
without JavaScript (in-process, on SQLite and PostgreSQL), and the form in Chromium
against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from api.pages.verdict_view import (
    FormError,
    ReadinessQuery,
    check_form,
    read_form,
    share_links,
    verdict_view,
)
from facility.model import EffectiveStatus, State
from slas.readiness import Facts, Need, assess
from tests.api.helpers import all_up, observation, post
from tests.conftest import T0, Clock, LiveServer
from tests.web.conftest import screenshot
from tests.web.pages_server import demo_server, html, observe_demo

NEW_YORK = ZoneInfo("America/New_York")
TB = 1e12

# -- view-models ------------------------------------------------------------------------


def test_needs_typed_one_per_line_or_given_as_repeated_parameters_read_alike() -> None:
    typed = read_form("", ["scratch:free_space_tb=5\r\nbatch:nodes=4\n"], None, None)
    repeated = read_form(None, ["scratch:free_space_tb=5", "batch:nodes=4"], None, None)
    assert typed.needs == repeated.needs == ("scratch:free_space_tb=5", "batch:nodes=4")
    assert typed.submitted and not read_form(None, [], None, None).submitted


def test_a_time_without_an_offset_is_facility_time_and_the_end_defaults_to_eight_hours_on() -> None:
    q = check_form(read_form("bl1", [], "2026-12-08T08:00", ""), NEW_YORK, T0)
    assert isinstance(q, ReadinessQuery)
    assert q.start == datetime(2026, 12, 8, 13, tzinfo=UTC)
    assert q.end == q.start + timedelta(hours=8)
    now = check_form(read_form("bl1", [], None, None), NEW_YORK, T0)
    assert isinstance(now, ReadinessQuery) and now.start == T0
    offset = check_form(read_form("bl1", [], "2026-12-08T08:00:00Z", None), NEW_YORK, T0)
    assert isinstance(offset, ReadinessQuery) and offset.start.hour == 8


@pytest.mark.parametrize(
    ("beamline", "needs", "start", "end", "error"),
    [
        ("bl1", ["scratch"], None, None, FormError("beamline", "choose a beamline or list needs, not both")),
        ("", [], "", "", FormError("beamline", "choose a beamline, or list what you need")),
        ("bl1", [], "tomorrow", None, FormError("start", "'tomorrow' is not a date and time such as 2026-12-08T08:00")),
        ("bl1", [], "2026-12-08T08:00", "2026-12-08T07:00", FormError("end", "must be after the start")),
    ],
)  # fmt: skip
def test_a_form_that_cannot_be_answered_names_the_field_and_why(
    beamline: str, needs: list[str], start: str | None, end: str | None, error: FormError
) -> None:
    assert check_form(read_form(beamline, needs, start, end), NEW_YORK, T0) == [error]


def test_the_verdict_view_words_the_verdict_and_keeps_a_line_per_resource() -> None:
    up = EffectiveStatus("scratch", State.UP, 1.0, (), T0, T0, "test")
    needs = [Need("scratch", free_space_tb=5), Need("home", note="a dependency of the bundle")]
    facts = {"scratch": Facts(up, {"avail_bytes": 2 * TB}), "home": Facts(None)}
    a = assess(needs, facts, T0, T0 + timedelta(hours=8), T0)
    v = verdict_view(a, "the needs listed", {"scratch": "Scratch"}, UTC, T0)
    assert (v.verdict, v.word) == ("no_go", "No go")
    assert [(ln.name, ln.word) for ln in v.lines] == [("Scratch", "No go"), ("home", "At risk")]
    assert ("free_space", "no_go", "2.0 TB free, 5 TB needed") in [
        (c.name, c.verdict, c.message) for c in v.lines[0].checks
    ]
    assert v.window == "Sat 21 Nov 2026 12:00 – 20:00 UTC"


def test_a_shared_link_carries_the_times_with_their_offsets() -> None:
    q = ReadinessQuery(None, ("scratch:free_space_tb=5",), T0, T0 + timedelta(hours=1))
    links = share_links(q)
    assert links["page"] == (
        "/readiness?need=scratch%3Afree_space_tb%3D5"
        "&start=2026-11-21T12%3A00%3A00%2B00%3A00&end=2026-11-21T13%3A00%3A00%2B00%3A00"
    )
    assert links["api"] == links["page"].replace("/readiness", "/api/v1/readiness")


# -- the page without JavaScript ----------------------------------------------------------


def scratch_with_space(client: TestClient, clock: Clock, state: str = "up") -> None:
    clock.advance(10)
    sample = observation("scratch", clock.now, state, values={"avail_bytes": 40 * TB})
    assert post(client, sample).status_code == 200


def test_the_empty_form_offers_every_beamline_and_gives_no_verdict_yet(client: TestClient) -> None:
    r = client.get("/readiness")
    assert r.status_code == 200
    page = html(r.text)
    form = page.one("form", cls="readiness")
    assert form.attrs["method"] == "get" and form.attrs["action"] == "/readiness"
    options = [o.attrs["value"] for o in form.find("option")]
    assert options == ["", "bl1"]
    assert not page.find(id="verdict") and not page.find(id="form-errors")


def test_a_beamline_gets_a_verdict_with_a_line_per_resource_and_its_reasons(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    r = client.get("/readiness", params={"beamline": "bl1", "start": "2026-11-22T08:00"})
    assert r.status_code == 200
    verdict = html(r.text).one(id="verdict")
    assert verdict.attrs["data-verdict"] == "at_risk" and "At risk" in verdict.words
    lines = [tr.attrs["id"] for tr in verdict.find("tr") if "id" in tr.attrs]
    assert lines == ["line-broker", "line-batch", "line-home", "line-scratch"]
    batch = verdict.one("tr", id="line-batch")
    assert "needs 4 nodes; usable nodes not measured" in batch.words
    assert "no reservation of 4+ nodes covers the window" in batch.words
    assert "Sun 22 Nov 2026 08:00 – 16:00 UTC" in verdict.words


def test_needs_that_are_met_give_go_and_a_needed_resource_down_now_gives_no_go(
    client: TestClient, clock: Clock
) -> None:
    scratch_with_space(client, clock)
    params = {"need": "scratch:free_space_tb=5"}
    verdict = html(client.get("/readiness", params=params).text).one(id="verdict")
    assert verdict.attrs["data-verdict"] == "go" and "Go" in verdict.words
    assert "40.0 TB free, 5 TB needed" in verdict.words
    scratch_with_space(client, clock, "down")
    scratch_with_space(client, clock, "down")
    verdict = html(client.get("/readiness", params=params).text).one(id="verdict")
    assert verdict.attrs["data-verdict"] == "no_go" and "No go" in verdict.words


def test_the_page_answers_as_the_api_does_and_links_the_same_question(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    params = {"beamline": "bl1", "start": "2026-11-22T08:00:00+00:00", "end": "2026-11-22T20:00:00+00:00"}  # fmt: skip
    page = html(client.get("/readiness", params=params).text)
    api = client.get("/api/v1/readiness", params=params).json()
    verdict = page.one(id="verdict")
    assert verdict.attrs["data-verdict"] == api["verdict"]
    assert [ln["verdict"] for ln in api["lines"]] == [
        tr.attrs["data-verdict"] for tr in verdict.find("tr") if "id" in tr.attrs
    ]
    shared = page.one("a", id="share").attrs["href"]
    again = html(client.get(shared).text).one(id="verdict")
    assert again.attrs["data-verdict"] == api["verdict"] and again.words == verdict.words


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"beamline": "nope"}, "beamline", "there is no beamline 'nope'"),
        ({"need": "scrach:free_space_tb=5"}, "need", "there is no resource 'scrach'"),
        ({"need": "scratch:free_space=5"}, "need", "'scratch:free_space=5': free_space: Extra inputs are not permitted"),
        ({"need": "batch:nodes=many"}, "need", "'batch:nodes=many': nodes: Input should be a valid integer"),
        ({"beamline": "bl1", "start": "next week"}, "start", "'next week' is not a date and time"),
        ({"beamline": "bl1", "start": "2026-11-22T08:00", "end": "2026-11-22T06:00"}, "end", "must be after the start"),
        ({"beamline": "bl1", "need": "scratch"}, "beamline", "choose a beamline or list needs, not both"),
        ({"beamline": "", "need": ""}, "beamline", "choose a beamline, or list what you need"),
    ],
)  # fmt: skip
def test_bad_input_is_explained_on_the_page_with_status_400_and_the_form_kept(
    client: TestClient, params: dict[str, str], field: str, message: str
) -> None:
    r = client.get("/readiness", params=params)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    page = html(r.text)
    errors = page.one(id="form-errors")
    assert [c.words for c in errors.find("code")] == [field] and message in errors.words
    assert page.find("form", cls="readiness") and not page.find(id="verdict")


# -- in a browser, against a real server ------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("readiness-page")) as server:
        observe_demo(server)
        yield server


def test_in_a_browser_the_form_gives_a_verdict_whose_address_can_be_reloaded(
    page: Page, live: LiveServer
) -> None:
    start = (datetime.now(NEW_YORK) + timedelta(days=2)).replace(hour=8, minute=0)
    page.goto(live.url + "/readiness")
    page.select_option("select[name=beamline]", "tomo-2bm")
    page.fill("input[name=start]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=end]", (start + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"))
    page.click("button[type=submit]")
    verdict = page.locator("#verdict")
    expect(verdict).to_be_visible()
    word = verdict.get_attribute("data-verdict")
    assert word in {"go", "at_risk", "no_go"}
    assert "beamline=tomo-2bm" in page.url and "start=" in page.url
    expect(page.locator("#line-borealis-batch")).to_contain_text("nodes")
    expect(page.locator("select[name=beamline]")).to_have_value("tomo-2bm")
    screenshot(page, "readiness")
    page.reload()
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", word or "")
    page.locator("#share").click()
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", word or "")


def test_in_a_browser_a_window_that_ends_before_it_starts_is_explained(
    page: Page, live: LiveServer
) -> None:
    page.goto(live.url + "/readiness")
    page.select_option("select[name=beamline]", "xpcs-8id")
    page.fill("input[name=start]", "2030-01-02T08:00")
    page.fill("input[name=end]", "2030-01-01T08:00")
    page.click("button[type=submit]")
    expect(page.locator("#form-errors")).to_contain_text("end: must be after the start")
    expect(page.locator("#verdict")).to_have_count(0)
