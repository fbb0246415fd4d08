"""Helpers for the web page tests: a real facstat server on the demo facility (its 100
days of made-up history, maintenance calendar, beamtimes and SLAs, collectors off so
that the test decides every state), observations posted to it over HTTP, and a small
HTML reader (the standard library's parser) for the tests that run without a browser."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from api.runtime import Runtime
from facility.settings import demo_facility_file
from tests.conftest import AUTH, LiveServer, free_port, make_settings, start_server, stop_server

DEMO = demo_facility_file()
DEMO_RESOURCES = 17
# A plausible picture of the demo facility: mostly up, some capacity gone, a slow filesystem.
PICTURE: dict[str, tuple[str, float | None, str]] = {
    "borealis-batch": ("up", 339 / 368, "nodes_drained: 29 of 368 nodes drained: 'bad DIMM'"),
    "borealis-interactive": ("up", 1.0, ""),
    "borealis-debug": ("up", 1.0, ""),
    "project": ("degraded", None, "io_slow: I/O probe slow: write 2.4 s"),
    "link-tokamak": ("degraded", None, "packet_loss: packet loss 3 % over 20 probes"),
}


def observation(
    rid: str, state: str = "up", capacity: float | None = None, reason: str = ""
) -> dict[str, Any]:
    """One observation seen now; `reason` is `code: message`."""
    out: dict[str, Any] = {
        "resource_id": rid,
        "observed_at": datetime.now(UTC).isoformat(),
        "source": "pages-test",
        "state": state,
    }
    if capacity is not None:
        out["capacity"] = capacity
    if reason:
        code, _, message = reason.partition(": ")
        out["reasons"] = [{"code": code, "message": message}]
    return out


def post(live: LiveServer, *observations: dict[str, Any]) -> None:
    r = httpx.post(
        live.url + "/api/v1/observations",
        json={"observations": list(observations)},
        headers=AUTH,
        timeout=10,
    )
    assert r.status_code == 200, r.text


def observe_demo(live: LiveServer) -> None:
    """Every demo resource observed now, as in `PICTURE` (else up)."""
    ids = [r.id for r in live.runtime.config.resources]
    post(live, *(observation(rid, *PICTURE.get(rid, ("up", None, ""))) for rid in ids))


@contextmanager
def demo_server(workdir: Path) -> Iterator[LiveServer]:
    """A real uvicorn server on the demo facility (demo history on, collectors off).

    The runtime's background loops are not started: the pager would try the demo's
    made-up receivers on 127.0.0.1 (ports other tests on this machine may use), and
    every read re-evaluates staleness and maintenance by itself. Incidents still open
    from status changes, as they do inside each ingest."""
    settings = make_settings(
        f"sqlite:///{workdir / 'pages.db'}", facility=DEMO, demo=True, run_collectors=False
    )
    rt = Runtime.build(settings)
    live = start_server(rt, free_port())
    try:
        yield live
    finally:
        stop_server(live)
        rt.store.close()


# -- reading HTML without a browser ---------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Element]:
        """Descendants matching a tag, a class and attribute values (`data_state=` for
        `data-state`)."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        found = []
        for el in self.children:
            if (
                (tag is None or el.tag == tag)
                and (cls is None or cls in el.classes)
                and all(el.attrs.get(k) == v for k, v in wanted.items())
            ):
                found.append(el)
            found += el.find(tag, cls, **attrs)
        return found

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Element:
        found = self.find(tag, cls, **attrs)
        assert len(found) == 1, f"{len(found)} elements match {tag} .{cls} {attrs}"
        return found[0]

    @property
    def words(self) -> str:
        return " ".join(self.text.split())


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open: list[Element] = [self.root]

    def handle_starttag(self, tag: str, attrs: Sequence[tuple[str, str | None]]) -> None:
        self.handle_data(" ")  # elements are words apart in `words`
        el = Element(tag, {k: v or "" for k, v in attrs})
        self.open[-1].children.append(el)
        if tag not in VOID:
            self.open.append(el)

    def handle_startendtag(self, tag: str, attrs: Sequence[tuple[str, str | None]]) -> None:
        self.open[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        self.handle_data(" ")
        for i in range(len(self.open) - 1, 0, -1):
            if self.open[i].tag == tag:
                del self.open[i:]
                return

    def handle_data(self, data: str) -> None:
        for el in self.open:
            el.text += data


def html(text: str) -> Element:
    """The document as a tree of `Element`s, each with its whole text."""
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root
