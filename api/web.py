"""The web pages' plumbing: Jinja2 templates, static files (htmx, CSS), and the
filters every page uses. Pages are a full page plus fragments that refresh
themselves with htmx (`hx-get` + `hx-trigger="every …"`); everything they show is
in the first HTML response, so the content works without JavaScript."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

# Each state has a word and an icon as well as a colour: colour is never the only signal.
STATE_ICON = {"up": "✔", "degraded": "▲", "down": "✖", "unknown": "?", "maintenance": "⚒"}
VERDICT_ICON = {"go": "✔", "at_risk": "▲", "no_go": "✖"}


def ago(value: datetime | None, now: datetime) -> str:
    """`12 s ago`, `4 min ago`, `3 h ago`, `2 d ago`; `never` for None."""
    if value is None:
        return "never"
    secs = max(0, int((now - value).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if secs >= size:
            return f"{secs // size} {unit} ago"
    return f"{secs} s ago"


def percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f} %"


templates.env.globals.update(STATE_ICON=STATE_ICON, VERDICT_ICON=VERDICT_ICON, ago=ago)
templates.env.filters.update(percent=percent)


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render a template; `now` and `ago` are always available."""
    return templates.TemplateResponse(request, name, context, status_code=status)


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
