"""View-models of incidents: the list row, the detail with timeline, pages and runbooks."""

from __future__ import annotations

from typing import Any

from api.redaction import public_entry, public_incident
from api.runtime import Runtime
from api.views import ts
from slas.incident_store import Incident, TimelineEntry


def incident_out(inc: Incident, internal: bool) -> dict[str, Any]:
    """One incident; `internal` adds the team and the priority's full explanation (the
    public view also has its impacts' reasons redacted)."""
    inc = inc if internal else public_incident(inc)
    out: dict[str, Any] = {
        "id": inc.id,
        "key": inc.key,
        "kind": inc.kind,
        "subject": inc.subject,
        "title": inc.title,
        "status": inc.status,
        "priority": inc.priority,
        "priority_summary": inc.explanation.get("summary", ""),
        "impacted": [
            {"resource_id": rid, **{k: v for k, v in sorted(entry.items())}}
            for rid, entry in sorted(inc.impacted.items())
        ],
        "opened_at": ts(inc.opened_at),
        "updated_at": ts(inc.updated_at),
        "acknowledged_at": ts(inc.acknowledged_at),
        "mitigated_at": ts(inc.mitigated_at),
        "resolved_at": ts(inc.resolved_at),
        "runbooks": list(inc.runbooks),
    }
    if internal:
        out |= {
            "team": inc.team,
            "priority_explanation": inc.explanation,
            "acknowledged_by": inc.acknowledged_by,
            "mitigated_by": inc.mitigated_by,
            "resolved_by": inc.resolved_by,
        }
    return out


def entry_out(e: TimelineEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": ts(e.at),
        "kind": e.kind,
        "actor": e.actor,
        "public": e.public,
        "text": e.text,
        "data": e.data,
    }


def detail_out(rt: Runtime, inc: Incident, internal: bool) -> dict[str, Any]:
    timeline = rt.incidents.store.timeline(inc.id, public_only=not internal)
    out = incident_out(inc, internal)
    out["timeline"] = [entry_out(e if internal else public_entry(e)) for e in timeline]
    out["runbook_steps"] = steps_done(timeline)
    if internal:
        out["pages"] = [
            {
                "key": p.key,
                "receiver": p.receiver,
                "ok": p.ok,
                "attempts": p.attempts,
                "detail": p.detail,
                "at": ts(p.at),
            }
            for p in rt.incidents.store.pages(inc.id)
        ]
    return out


def steps_done(timeline: list[TimelineEntry]) -> dict[str, dict[str, bool]]:
    """Per runbook, each step's last recorded state."""
    out: dict[str, dict[str, bool]] = {}
    for e in timeline:
        if e.kind == "runbook_step":
            out.setdefault(str(e.data["runbook"]), {})[str(e.data["step"])] = bool(e.data["done"])
    return out
