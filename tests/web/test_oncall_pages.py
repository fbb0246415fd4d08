"""The on-call pages: staff sign-in (a signed session cookie), CSRF on every form, the
on-call board and the incident page with its actions and runbook checklist. Through
HTTP with TestClient, and in Chromium against a real uvicorn server."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from pydantic import SecretStr, ValidationError

from api.app import create_app
from api.runtime import Runtime
from facility.settings import Settings
from tests.api.helpers import observation
from tests.conftest import (
    AUTH,
    DATA,
    OPERATOR,
    OPERATOR_TOKEN,
    SMALL,
    TOKEN,
    Clock,
    free_port,
    make_settings,
    start_server,
    stop_server,
)
from tests.notify.conftest import WebhookSink, webhook_sink  # noqa: F401  (fixture)
from tests.web.conftest import screenshot

SECRET = "a-session-secret-for-the-tests-0123456789"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def policy(hook_url: str) -> str:
    """The test incident policy (tests/data/incidents) paging one real webhook sink."""
    text = (DATA / "incidents" / "incidents.yaml").read_text()
    people_and_teams = text.split("receivers:")[0]
    hook = f"receivers:\n  - {{id: hook, kind: webhook, url: '{hook_url}'}}\n"
    return people_and_teams + hook + "routes:\n  - {receivers: [hook]}\n"


def build(db_url: str, clock: Clock, tmp_path: Path, hook_url: str, **extra: Any) -> Runtime:
    (tmp_path / "incidents.yaml").write_text(policy(hook_url))
    facility = tmp_path / "facility.yaml"
    incidents = tmp_path / "incidents.yaml"
    facility.write_text(SMALL.read_text() + f"\noperations:\n  incidents: {incidents}\n")
    settings = make_settings(db_url, facility=facility, session_secret=SECRET, **extra)
    return Runtime.build(settings, clock=clock)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the store's own tests cover PostgreSQL; these are about the pages."""
    return f"sqlite:///{tmp_path / 'facstat.db'}"


@pytest.fixture
def rt(
    db_url: str,
    clock: Clock,
    tmp_path: Path,
    webhook_sink: WebhookSink,  # noqa: F811
) -> Iterator[Runtime]:
    runtime = build(db_url, clock, tmp_path, webhook_sink.url)
    yield runtime
    runtime.store.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=rt, start=False)) as c:
        yield c


def report(http: TestClient | httpx.Client, clock: Clock, **states: str) -> None:
    """Two rounds (the facility's hysteresis) of the given states."""
    for _ in range(2):
        batch = [observation(rid, clock.now, st) for rid, st in states.items()]
        r = http.post("/api/v1/observations", json={"observations": batch}, headers=AUTH)
        assert r.status_code == 200, r.text
        clock.advance(5)


def scratch_down(http: TestClient | httpx.Client, clock: Clock) -> dict[str, Any]:
    """Everything up, then scratch down: one incident listing its dependents."""
    report(http, clock, scratch="up", home="up", broker="up", batch="up", gateway="up")
    report(http, clock, scratch="down")
    (inc,) = http.get("/api/v1/incidents", headers=OPERATOR).json()["items"]
    return dict(inc)


def sign_in(client: TestClient, name: str = "Cat Chen", next: str = "/oncall") -> httpx.Response:
    form = {"token": OPERATOR_TOKEN, "name": name, "next": next}
    r = client.post("/signin", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r


def csrf(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def api_incident(client: TestClient, incident_id: int, staff: bool = True) -> dict[str, Any]:
    r = client.get(f"/api/v1/incidents/{incident_id}", headers=OPERATOR if staff else {})
    assert r.status_code == 200, r.text
    return dict(r.json())


# --- without a browser ---------------------------------------------------------------------


def test_staff_pages_send_visitors_who_are_not_signed_in_to_the_sign_in_form(
    client: TestClient, clock: Clock
) -> None:
    inc = scratch_down(client, clock)
    for path in ("/oncall", f"/oncall/incidents/{inc['id']}"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/signin?next=" + path.replace("/", "%2F")
    fragment = client.get("/oncall/board", headers={"HX-Request": "true"}, follow_redirects=False)
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"].startswith("/signin?")
    post = client.post(f"/oncall/incidents/{inc['id']}/status", data={"action": "acknowledge"})
    assert "Staff sign-in" in post.text and api_incident(client, inc["id"])["status"] == "triggered"
    form = client.get("/signin?next=/oncall/incidents/1")
    assert form.status_code == 200 and 'name="next" value="/oncall/incidents/1"' in form.text


def test_a_wrong_token_is_refused_with_the_form_again_and_no_session(client: TestClient) -> None:
    r = client.post(
        "/signin", data={"token": "not-the-token", "name": "Cat", "next": "/oncall"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 401 and "not the staff token" in r.text
    assert "set-cookie" not in r.headers and "not-the-token" not in r.text
    assert 'value="Cat"' in r.text, "the name is kept, the token is not"
    assert client.get("/oncall", follow_redirects=False).status_code == 303
    nameless = client.post("/signin", data={"token": OPERATOR_TOKEN, "name": "  "})
    assert nameless.status_code == 422 and "Enter your name" in nameless.text


def test_signing_in_sets_a_signed_http_only_strict_cookie_and_opens_the_next_page(
    client: TestClient, clock: Clock
) -> None:
    inc = scratch_down(client, clock)
    r = sign_in(client, "Cat Chen", next=f"/oncall/incidents/{inc['id']}")
    assert r.headers["location"] == f"/oncall/incidents/{inc['id']}"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("facstat_session=") and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/" in cookie and "Max-Age=43200" in cookie
    assert "Secure" not in cookie, "the base URL is http"
    page = client.get(f"/oncall/incidents/{inc['id']}")
    assert page.status_code == 200 and "Signed in as <strong>Cat Chen</strong>" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert (
        client.get("/signin?next=/oncall", follow_redirects=False).headers["location"] == "/oncall"
    )


def test_the_cookie_is_secure_when_the_base_url_is_https(
    db_url: str,
    clock: Clock,
    tmp_path: Path,
    webhook_sink: WebhookSink,  # noqa: F811
) -> None:
    runtime = build(db_url, clock, tmp_path, webhook_sink.url, base_url="https://facstat.example")
    try:
        with TestClient(create_app(runtime=runtime, start=False)) as c:
            assert "Secure" in sign_in(c).headers["set-cookie"]
    finally:
        runtime.store.close()


def test_next_cannot_redirect_off_site(client: TestClient) -> None:
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/x",
                "javascript:alert(1)", "evil.example", "/\tevil", ""):  # fmt: skip
        assert sign_in(client, next=bad).headers["location"] == "/oncall", bad
        client.cookies.clear()
        form = client.get("/signin", params={"next": bad}).text
        assert 'name="next" value="/oncall"' in form, bad
    assert sign_in(client, next="/oncall/incidents/3?x=1").headers["location"] == (
        "/oncall/incidents/3?x=1"
    )


def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, clock: Clock
) -> None:
    inc = scratch_down(client, clock)
    before = api_incident(client, inc["id"])
    url = f"/oncall/incidents/{inc['id']}"
    sign_in(client)
    token = csrf(client, url)
    other = TestClient(client.app)
    sign_in(other, "Dan Dorn")
    foreign = csrf(other, "/oncall")
    assert foreign != token, "each session has its own token"
    for extra in ({}, {"csrf_token": "0" * 64}, {"csrf_token": foreign}):
        r = client.post(f"{url}/status", data={"action": "acknowledge", **extra})
        assert r.status_code == 403 and "nothing was changed" in r.text
        r = client.post(f"{url}/notes", data={"text": "forged", **extra})
        assert r.status_code == 403
    step = f"{url}/runbooks/{inc['runbooks'][0]}/steps/x"
    htmx = client.post(step, headers={"X-CSRF-Token": foreign, "HX-Request": "true"})
    assert htmx.status_code == 403 and htmx.headers["HX-Refresh"] == "true"
    assert client.post("/signout", follow_redirects=False).status_code == 403
    assert api_incident(client, inc["id"]) == before
    assert client.get("/oncall").status_code == 200, "still signed in"


def test_a_tampered_expired_or_outdated_cookie_is_refused(
    rt: Runtime, client: TestClient, clock: Clock
) -> None:
    value = sign_in(client).cookies["facstat_session"]
    payload, signature = value.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**data, "actor": "Mallory"}).encode())
    for bad in (f"{forged.decode().rstrip('=')}.{signature}", f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}",
                payload, "garbage", f"{payload}.{signature}.x"):  # fmt: skip
        client.cookies.clear()
        client.cookies.set("facstat_session", bad)
        assert client.get("/oncall", follow_redirects=False).status_code == 303, bad
    client.cookies.clear()
    raw = {"Cookie": "facstat_session=café.é".encode()}  # not ASCII: refused, not a 500
    assert client.get("/oncall", headers=raw, follow_redirects=False).status_code == 303
    client.cookies.set("facstat_session", value)
    assert client.get("/oncall", follow_redirects=False).status_code == 200
    clock.advance(12 * 3600 + 1)
    assert client.get("/oncall", follow_redirects=False).status_code == 303, "expired"
    clock.advance(-(12 * 3600 + 1))
    rt.settings.operator_token = SecretStr("a-new-operator-token-0123456789")
    assert client.get("/oncall", follow_redirects=False).status_code == 303, "token changed"


def test_signing_out_ends_the_session(client: TestClient) -> None:
    sign_in(client)
    r = client.post(
        "/signout", data={"csrf_token": csrf(client, "/oncall")}, follow_redirects=False
    )
    assert r.status_code == 303 and 'facstat_session=""' in r.headers["set-cookie"]
    assert client.get(r.headers["location"]).text.count("You are signed out.") == 1
    assert client.get("/oncall", follow_redirects=False).status_code == 303


def test_the_oncall_page_shows_who_is_on_call_and_open_incidents_by_priority_with_their_factors(
    client: TestClient, clock: Clock
) -> None:
    scratch_down(client, clock)
    report(client, clock, home="down")
    sign_in(client)
    text = html.unescape(client.get("/oncall").text)
    oncall = client.get("/api/v1/oncall", headers=OPERATOR).json()["items"]
    for team in oncall:
        assert team["name"] in text and team["primary"]["name"] in text
    items = client.get("/api/v1/incidents", headers=OPERATOR).json()["items"]
    assert len(items) == 2
    ranked = sorted(
        items, key=lambda i: (i["priority"], -i["priority_explanation"]["score"], i["opened_at"])
    )
    positions = [text.index(f"#{i['id']} {i['title']}") for i in ranked]
    assert positions == sorted(positions), "most urgent first"
    for inc in items:
        for factor in inc["priority_explanation"]["factors"]:
            assert factor["explanation"] in text and f"{factor['points']:+g}" in text
        for impact in inc["impacted"]:
            assert f"{impact['state']}</span>" in text
    board = client.get("/oncall/board", headers={"HX-Request": "true"})
    assert board.text.lstrip().startswith('<div id="oncall-board"') and "<html" not in board.text
    assert 'hx-get="/oncall/board" hx-trigger="every 10s"' in text


def test_actions_without_javascript_redirect_back_and_record_the_signed_in_name(
    client: TestClient, clock: Clock
) -> None:
    inc = scratch_down(client, clock)
    url = f"/oncall/incidents/{inc['id']}"
    sign_in(client, "Cat Chen")
    token = csrf(client, url)
    r = client.post(f"{url}/status", data={"action": "acknowledge", "csrf_token": token},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"{url}?done=acknowledge"
    page = client.get(r.headers["location"]).text
    assert "Acknowledged." in page and "status-acknowledged" in page
    assert api_incident(client, inc["id"])["acknowledged_by"] == "Cat Chen"
    note = {"text": "OSS03 kernel panic, vendor case 4711", "csrf_token": token}
    assert client.post(f"{url}/notes", data=note).status_code == 200
    staff = client.get(url).text
    assert note["text"] in staff and "tag-internal" in staff
    public = [e["text"] for e in api_incident(client, inc["id"], staff=False)["timeline"]]
    assert note["text"] not in public, "an internal note stays internal"
    book = inc["runbooks"][0]
    step = client.get(f"/api/v1/runbooks/{book}").json()["steps"][0]["id"]
    client.post(f"{url}/runbooks/{book}/steps/{step}", data={"done": "true", "csrf_token": token})
    assert api_incident(client, inc["id"])["runbook_steps"] == {book: {step: True}}
    assert re.search(rf'class="step done" id="step-{book}-{step}"', client.get(url).text)
    resolved = client.post(f"{url}/status", data={"action": "resolve", "csrf_token": token})
    assert "status-resolved" in resolved.text and "Resolve</button>" not in resolved.text


def test_a_refused_action_is_a_message_on_the_page_never_a_server_error(
    client: TestClient, clock: Clock
) -> None:
    inc = scratch_down(client, clock)
    url = f"/oncall/incidents/{inc['id']}"
    sign_in(client)
    token = csrf(client, url)
    ack = {"action": "acknowledge", "csrf_token": token}
    client.post(f"{url}/status", data=ack)
    again = client.post(f"{url}/status", data=ack)
    assert again.status_code == 409 and "is already acknowledged" in again.text
    htmx = client.post(f"{url}/status", data=ack, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "is already acknowledged" in htmx.text
    assert htmx.text.lstrip().startswith('<section id="incident"')
    book = inc["runbooks"][0]
    unknown = client.post(f"{url}/runbooks/{book}/steps/nope", data={"csrf_token": token})
    assert unknown.status_code == 404 and "nope" in unknown.text
    empty = client.post(f"{url}/notes", data={"text": " ", "csrf_token": token})
    assert empty.status_code == 422 and "The note is empty" in empty.text
    bad = client.post(f"{url}/status", data={"action": "delete", "csrf_token": token})
    assert bad.status_code == 422
    missing = client.get("/oncall/incidents/999")
    assert missing.status_code == 404 and "There is no incident 999" in missing.text
    beyond = client.get(f"/oncall/incidents/{2**31}")  # more than an id column holds
    assert beyond.status_code == 400 and "incident_id" in beyond.text


def test_htmx_requests_carry_the_token_in_a_header_and_get_the_incident_fragment(
    client: TestClient, clock: Clock
) -> None:
    inc = scratch_down(client, clock)
    url = f"/oncall/incidents/{inc['id']}"
    sign_in(client)
    page = client.get(url).text
    token = csrf(client, url)
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page
    assert "<script>" not in page and " on" + "click=" not in page
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    r = client.post(f"{url}/status", data={"action": "mitigate"}, headers=headers)
    assert r.status_code == 200 and "Marked mitigated." in r.text and "<html" not in r.text
    assert api_incident(client, inc["id"])["status"] == "mitigated"


def test_pages_sent_are_listed_with_their_delivery_result(
    rt: Runtime,
    client: TestClient,
    clock: Clock,
    webhook_sink: WebhookSink,  # noqa: F811
) -> None:
    inc = scratch_down(client, clock)
    assert rt.incidents.tick(clock.now) == 1
    webhook_sink.wait_for(1)
    sign_in(client)
    page = client.get(f"/oncall/incidents/{inc['id']}").text
    assert "<td>hook</td>" in page and "✔ delivered" in page and "1 attempt" in page


def test_viewing_the_staff_pages_leaves_the_public_incident_unchanged(
    client: TestClient, clock: Clock
) -> None:
    inc = scratch_down(client, clock)
    public = client.get(f"/api/v1/incidents/{inc['id']}").json()
    staff = api_incident(client, inc["id"])
    sign_in(client)
    for path in ("/oncall", "/oncall/board", f"/oncall/incidents/{inc['id']}"):
        assert client.get(path).status_code == 200
    assert client.get(f"/api/v1/incidents/{inc['id']}").json() == public
    assert api_incident(client, inc["id"]) == staff and public["status"] == "triggered"


def test_production_refuses_a_missing_or_short_session_secret() -> None:
    tokens = {"collector_token": TOKEN, "operator_token": OPERATOR_TOKEN}
    for secret in (None, "short", "changeme"):
        with pytest.raises(ValidationError, match="session_secret"):
            Settings(environment="production", session_secret=secret, **tokens)  # type: ignore[arg-type]
    Settings(environment="production", session_secret=SECRET, **tokens)  # type: ignore[arg-type]


# --- in a browser, against a real server ---------------------------------------------------


def test_in_a_browser_staff_sign_in_acknowledge_an_incident_and_tick_a_runbook_step(
    rt: Runtime, clock: Clock, page: Page
) -> None:
    live = start_server(rt, free_port())
    try:
        with httpx.Client(base_url=live.url) as api:
            inc = scratch_down(api, clock)
            assert rt.incidents.tick(clock.now) == 1, "one page to the webhook sink"
            _browse(page, live.url, inc, api)
    finally:
        stop_server(live)


def _browse(page: Page, url: str, inc: dict[str, Any], api: httpx.Client) -> None:
    page.goto(url + "/oncall")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Foncall$"))
    page.get_by_label("Your name").fill("Cat Chen")
    page.get_by_label("Staff token").fill(OPERATOR_TOKEN)
    screenshot(page, "signin")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/oncall")
    card = page.locator("article.incident", has_text=inc["title"])
    expect(card.locator(".prio")).to_have_text(inc["priority"])
    for factor in inc["priority_explanation"]["factors"]:
        expect(card.get_by_role("row", name=factor["explanation"])).to_contain_text(
            f"{factor['points']:+g}"
        )
    screenshot(page, "oncall")
    card.get_by_role("link").click()
    expect(page).to_have_url(f"{url}/oncall/incidents/{inc['id']}")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#incident-status")).to_have_text("acknowledged")
    expect(page.get_by_role("status")).to_have_text("Acknowledged.")
    assert "done=" not in page.url, "htmx swapped the fragment; no page load"
    staff = api.get(f"/api/v1/incidents/{inc['id']}", headers=OPERATOR).json()
    assert staff["status"] == "acknowledged" and staff["acknowledged_by"] == "Cat Chen"
    book = inc["runbooks"][0]
    first = page.locator("section#incident .runbook").first.locator("li.step").first
    first.get_by_role("button", name=re.compile("mark done")).click()
    expect(first).to_have_class(re.compile(r"\bdone\b"))
    expect(first.get_by_role("button")).to_have_text("✔ Done")
    expect(page.locator(".timeline li").first).to_contain_text(f"Runbook {book}, step")
    expect(page.locator(".timeline li").first).to_contain_text("Cat Chen")
    staff = api.get(f"/api/v1/incidents/{inc['id']}", headers=OPERATOR).json()
    assert list(staff["runbook_steps"][book].values()) == [True]
    assert staff["timeline"][-1]["kind"] == "runbook_step"
    expect(page.locator("table.pages")).to_contain_text("✔ delivered")
    screenshot(page, "incident")
