"""View-models of the on-call pages: who is on call, open incidents by priority with
the priority's explanation, and one incident with its timeline, pages and runbook
checklists. Values only; the templates lay them out."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from api.incident_views import steps_done
from api.runtime import Runtime
from runbooks.model import Runbook
from slas.incident_policy import Person, Team
from slas.incident_store import OPEN, Incident, TimelineEntry
from slas.oncall import on_call

RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}
_CODE = re.compile(r"`([^`]+)`")


def board(rt: Runtime, now: datetime) -> dict[str, Any]:
    """Everything `/oncall` shows."""
    policy = rt.incidents.policy
    people = policy.people_by_id()
    return {
        "teams": [team_view(t, people, now) for t in policy.teams],
        "incidents": [incident_row(rt, i) for i in open_by_priority(rt)],
    }


def team_view(team: Team, people: dict[str, Person], now: datetime) -> dict[str, Any]:
    oc = on_call(team, people, now)
    return {
        "id": team.id,
        "name": team.name,
        "primary": oc.primary,
        "secondary": oc.secondary,
        "escalate_to": list(oc.escalate_to),
        "source": oc.source,
        "shift_end": oc.shift_end,
    }


def open_by_priority(rt: Runtime) -> list[Incident]:
    """Open incidents, most urgent first: level, then score, then the oldest."""
    found = rt.incidents.store.incidents(statuses=OPEN)
    return sorted(found, key=lambda i: (RANK.get(i.priority, 9), -i.priority_score, i.opened_at))


def incident_row(rt: Runtime, inc: Incident) -> dict[str, Any]:
    explanation = inc.explanation
    return {
        "id": inc.id,
        "title": inc.title,
        "kind": inc.kind,
        "status": inc.status,
        "is_open": inc.is_open,
        "priority": inc.priority,
        "score": explanation.get("score"),
        "summary": explanation.get("summary", ""),
        "factors": list(explanation.get("factors", [])),
        "team": inc.team,
        "impacts": impacts(rt, inc),
        "opened_at": inc.opened_at,
        "acknowledged_by": inc.acknowledged_by,
        "mitigated_by": inc.mitigated_by,
        "resolved_by": inc.resolved_by,
    }


def impacts(rt: Runtime, inc: Incident) -> list[dict[str, Any]]:
    names = {r.id: r.name for r in rt.config.resources}
    return [
        {
            "resource_id": rid,
            "name": names.get(rid, rid),
            "state": entry.get("state", "unknown"),
            "summary": entry.get("summary", ""),
            "recovered": bool(entry.get("recovered_at")),
        }
        for rid, entry in sorted(inc.impacted.items())
    ]


def detail(rt: Runtime, inc: Incident) -> dict[str, Any]:
    """Everything `/oncall/incidents/{id}` shows (internal notes included)."""
    timeline = rt.incidents.store.timeline(inc.id, public_only=False)
    return {
        **incident_row(rt, inc),
        "actions": actions(inc),
        "timeline": [entry_view(e) for e in reversed(timeline)],
        "pages": rt.incidents.store.pages(inc.id),
        "runbooks": checklists(rt, inc, steps_done(timeline)),
    }


def actions(inc: Incident) -> list[tuple[str, str]]:
    """The lifecycle steps open to this incident now, as (action, button label)."""
    if not inc.is_open:
        return []
    out = [] if inc.acknowledged_at else [("acknowledge", "Acknowledge")]
    out += [] if inc.status == "mitigated" else [("mitigate", "Mark mitigated")]
    return [*out, ("resolve", "Resolve")]


def entry_view(e: TimelineEntry) -> dict[str, Any]:
    return {"at": e.at, "kind": e.kind.replace("_", " "), "actor": e.actor,
            "public": e.public, "text": e.text}  # fmt: skip


def checklists(
    rt: Runtime, inc: Incident, done: dict[str, dict[str, bool]]
) -> list[dict[str, Any]]:
    """The incident's runbooks as checklists, each step marked done or not."""
    books = [rt.runbook_library.get(b) for b in inc.runbooks]
    return [checklist(b, done.get(b.id, {})) for b in books if b is not None]


def checklist(book: Runbook, ticked: dict[str, bool]) -> dict[str, Any]:
    steps = [
        {
            "id": s.id,
            "number": s.number,
            "text": inline_code(s.text),
            "done": ticked.get(s.id, False),
        }
        for s in book.steps
    ]
    return {
        "id": book.id,
        "title": book.title,
        "summary": inline_code(book.summary),
        "steps": steps,
        "done": sum(1 for s in book.steps if ticked.get(s.id, False)),
    }


def inline_code(text: str) -> Markup:
    """Runbook Markdown shown as text, with its `code` spans kept (everything escaped)."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))
