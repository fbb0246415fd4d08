"""`facstat maintenance …` and `facstat ready`: the operations API from the shell.

They talk to a running facstat over HTTP (`--url`, `FACSTAT_URL`); writes carry the
operator token (`FACSTAT_OPERATOR_TOKEN`). Problems from the API are printed as
the field and the reason, never as a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
maintenance_app = typer.Typer(
    help="Plan, change and import maintenance windows.", no_args_is_help=True
)

Url = Annotated[str, typer.Option(help="facstat base URL", envvar="FACSTAT_URL")]
Token = Annotated[
    str | None,
    typer.Option(help="operator token", envvar="FACSTAT_OPERATOR_TOKEN", show_default=False),
]
DEFAULT_URL = "http://127.0.0.1:8000"
VERDICT_STYLE = {"go": "bold green", "at_risk": "bold yellow", "no_go": "bold red"}


def _call(url: str, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            r = client.request(method, path, headers={**headers, **kw.pop("headers", {})}, **kw)
    except httpx.HTTPError as exc:
        err.print("[red]error:[/red]", escape(f"cannot reach {url}: {exc}"))
        raise typer.Exit(1) from exc
    if r.status_code >= 400:
        _problem(r)
    return r.json()


def _problem(r: httpx.Response) -> None:
    try:
        body = r.json()
    except ValueError:
        body = {"detail": r.text[:500]}
    err.print(f"[red]error {r.status_code}:[/red]", escape(str(body.get("detail", ""))))
    for e in body.get("errors") or []:
        err.print(f"  {escape(str(e.get('field', '')))}: {escape(str(e.get('message', '')))}")
    raise typer.Exit(1)


@maintenance_app.command("list")
def list_windows(
    url: Url = DEFAULT_URL,
    system: Annotated[list[str] | None, typer.Option(help="only this system")] = None,
    resource: Annotated[list[str] | None, typer.Option(help="only this resource")] = None,
) -> None:
    """Windows with their next occurrence, notice and beamtime conflicts."""
    items = _call(
        url,
        "GET",
        "/api/v1/maintenance",
        params={"system": system or [], "resource": resource or []},
    )["items"]
    table = Table(title="maintenance windows")
    for col in ("id", "title", "resources", "next", "state", "notice", "conflicts"):
        table.add_column(col)
    for w in items:
        nxt = w["current_or_next"]
        when = f"{nxt['start']} → {nxt['end']}" if nxt else "—"
        notice = "[yellow]short[/yellow]" if w["notice"]["short"] else "ok"
        table.add_row(
            escape(w["id"]),
            escape(w["title"]),
            ", ".join(w["resources"]),
            when,
            w["resolution"],
            notice,
            str(len(w["conflicts"])),
        )
    console.print(table)


@maintenance_app.command()
def create(
    title: Annotated[str, typer.Option(help="what users see")],
    resources: Annotated[str, typer.Option(help="comma-separated resource ids")],
    start: Annotated[str, typer.Option(help="ISO 8601 with an offset")],
    end: Annotated[str, typer.Option(help="ISO 8601 with an offset")],
    url: Url = DEFAULT_URL,
    token: Token = None,
    id: Annotated[str | None, typer.Option(help="stable id (generated if absent)")] = None,
    description: Annotated[str, typer.Option(help="details for users")] = "",
    effect: Annotated[str, typer.Option(help="down or degraded")] = "down",
    rrule: Annotated[str | None, typer.Option(help="RFC 5545 RRULE, e.g. FREQ=WEEKLY")] = None,
    timezone: Annotated[str, typer.Option(help="IANA zone the rule recurs in")] = "UTC",
) -> None:
    """Plan a one-off or recurring window."""
    body = {
        "title": title,
        "resources": [r.strip() for r in resources.split(",") if r.strip()],
        "start": start,
        "end": end,
        "description": description,
        "effect": effect,
        "rrule": rrule,
        "timezone": timezone,
        **({"id": id} if id else {}),
    }
    w = _call(url, "POST", "/api/v1/maintenance", token, json=body)
    _said(w)


@maintenance_app.command()
def cancel(window_id: str, url: Url = DEFAULT_URL, token: Token = None) -> None:
    """Cancel a window (it stays listed, as cancelled)."""
    _said(_call(url, "POST", f"/api/v1/maintenance/{window_id}/cancel", token))


@maintenance_app.command()
def extend(
    window_id: str,
    until: Annotated[str, typer.Option(help="new end, ISO 8601 with an offset")],
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Extend the current (or last) occurrence."""
    _said(
        _call(url, "POST", f"/api/v1/maintenance/{window_id}/extend", token, json={"until": until})
    )


@maintenance_app.command("import")
def import_calendar(
    location: Annotated[str, typer.Argument(help="an .ics file or an http(s) URL")],
    source: Annotated[str, typer.Option(help="name of the calendar (replaces its earlier import)")],
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Import an iCalendar document; all of it or nothing."""
    data = _read(location)
    out = _call(
        url,
        "POST",
        "/api/v1/maintenance/import",
        token,
        params={"source": source},
        content=data,
        headers={"Content-Type": "text/calendar"},
    )
    console.print(f"[green]imported[/green] {out['windows']} window(s) as {escape(out['source'])}")


def _read(location: str) -> bytes:
    try:
        if location.startswith(("http://", "https://")):
            return httpx.get(location, timeout=30, follow_redirects=True).raise_for_status().content
        return Path(location).read_bytes()
    except (OSError, httpx.HTTPError) as exc:
        err.print("[red]error:[/red]", escape(f"cannot read {location}: {exc}"))
        raise typer.Exit(1) from exc


def _said(w: dict[str, Any]) -> None:
    nxt = w["current_or_next"]
    when = f"{nxt['start']} → {nxt['end']}" if nxt else "no occurrence ahead"
    console.print(
        f"[green]{escape(w['id'])}[/green] ({w['resolution']}): {escape(w['title'])}, {when}"
    )
    if w["notice"]["short"]:
        err.print("[yellow]warning:[/yellow]", escape(w["notice"]["message"]))
    for c in w["conflicts"]:
        err.print(
            "[yellow]conflict:[/yellow]",
            escape(f"beamtime {c['beamtime_id']} on {c['beamline']}, {c['start']} → {c['end']}"),
        )


def ready(
    beamline: Annotated[str, typer.Argument(help="beamline id")],
    start: Annotated[str | None, typer.Option("--from", help="ISO 8601 (default: now)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="ISO 8601 (default: +8 h)")] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Is everything the beamline needs ready for the window? Exit 0 go, 3 at risk, 4 no go
    (1: the question could not be answered)."""
    params = {
        "beamline": beamline,
        **({"start": start} if start else {}),
        **({"end": end} if end else {}),
    }
    out = _call(url, "GET", "/api/v1/readiness", params=params)
    verdict = out["verdict"]
    console.print(
        f"[{VERDICT_STYLE[verdict]}]{verdict}[/]: {escape(beamline)} {out['start']} → {out['end']}"
    )
    table = Table()
    for col in ("resource", "verdict", "why"):
        table.add_column(col)
    for ln in out["lines"]:
        why = "; ".join(c["message"] for c in ln["checks"] if c["verdict"] != "go") or "ready"
        table.add_row(
            ln["resource_id"], f"[{VERDICT_STYLE[ln['verdict']]}]{ln['verdict']}[/]", escape(why)
        )
    console.print(table)
    raise typer.Exit({"go": 0, "at_risk": 3, "no_go": 4}[verdict])


PRIORITY_STYLE = {"P1": "bold red", "P2": "red", "P3": "yellow", "P4": "dim"}


def incidents(
    url: Url = DEFAULT_URL,
    token: Token = None,
    all_: Annotated[bool, typer.Option("--all", help="closed ones too")] = False,
) -> None:
    """Open incidents, highest priority first, with why they have that priority."""
    params = {} if all_ else {"open": "true"}
    items = _call(url, "GET", "/api/v1/incidents", token, params=params)["items"]
    table = Table(title="incidents" if all_ else "open incidents")
    for col in ("id", "priority", "status", "title", "impacted", "opened", "why"):
        table.add_column(col)
    for i in sorted(items, key=lambda i: (i["priority"], i["opened_at"])):
        live = [x["resource_id"] for x in i["impacted"] if not x.get("recovered_at")]
        style = PRIORITY_STYLE.get(i["priority"], "")
        table.add_row(
            str(i["id"]), f"[{style}]{i['priority']}[/]", i["status"], escape(i["title"]),
            ", ".join(live), i["opened_at"], escape(i["priority_summary"]),
        )  # fmt: skip
    console.print(table)


def ack(
    incident_id: Annotated[int, typer.Argument(help="incident id")],
    url: Url = DEFAULT_URL,
    token: Token = None,
    actor: Annotated[str, typer.Option(help="who acknowledges")] = "operator",
    note: Annotated[str, typer.Option(help="added to the timeline")] = "",
) -> None:
    """Acknowledge an incident: escalation stops."""
    out = _call(
        url,
        "POST",
        f"/api/v1/incidents/{incident_id}/ack",
        token,
        json={"actor": actor, "note": note},
    )
    console.print(
        f"[green]acknowledged[/green] incident {out['id']}: {escape(out['title'])} ({out['priority']})"
    )
