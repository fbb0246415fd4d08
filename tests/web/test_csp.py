"""The pages under their Content-Security-Policy in Chromium: no violation (the browser
reports each one as a `securitypolicyviolation` event and a console error), htmx still
refreshes fragments and posts forms."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.conftest import OPERATOR_TOKEN, LiveServer
from tests.web.pages_server import demo_server, observe_demo

RECORD = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("csp")) as server:
        observe_demo(server)
        yield server


def watch(page: Page) -> list[str]:
    """Console errors, and (added by the test) the page's CSP violations."""
    errors: list[str] = []
    page.add_init_script(RECORD)  # runs before the page's own scripts, outside its CSP
    page.on("console", lambda m: _error(m, errors))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_the_status_page_refreshes_its_fragments_under_the_csp_without_a_violation(
    page: Page, live: LiveServer
) -> None:
    errors = watch(page)
    with page.expect_response(lambda r: "/fragments/status" in r.url and r.ok):
        page.goto(live.url + "/?refresh=1")
    expect(page.locator("li.resource").first).to_be_visible()
    assert page.evaluate("window.__csp") == [] and errors == []
    assert page.evaluate("document.querySelectorAll('style').length") == 0


def test_staff_sign_in_and_the_oncall_board_work_under_the_csp_without_a_violation(
    page: Page, live: LiveServer
) -> None:
    errors = watch(page)
    page.goto(live.url + "/oncall")
    page.get_by_label("Your name").fill("Cat Chen")
    page.get_by_label("Staff token").fill(OPERATOR_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live.url + "/oncall")
    with page.expect_response(lambda r: r.url.endswith("/oncall/board") and r.ok, timeout=15_000):
        pass  # the board polls itself every 10 s
    assert page.evaluate("window.__csp") == [] and errors == []


def _error(m: ConsoleMessage, errors: list[str]) -> None:
    url = str(m.location.get("url", ""))
    if m.type == "error" and not url.endswith("/favicon.ico"):  # the browser asks on its own
        errors.append(f"{m.text} ({url})")
