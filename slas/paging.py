"""Paging: who gets which page of an incident, through which receivers, exactly once.

`Pager.due` asks the pure escalation policy what is due; `Pager.send` routes a page
(priority, team, system, resource type, time of day) to receivers, addresses it to
the escalation level's person on call, claims (page key, receiver) in the store so
no page goes out twice, sends it, and records the delivery in the timeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from facility.config import FacilityConfig
from slas.escalation import Page, PageState, next_pages
from slas.incident_policy import IncidentPolicy, Receiver, Team
from slas.incident_store import Incident, IncidentStore, SentPage
from slas.notify import (
    AlertmanagerNotifier,
    Delivery,
    EmailNotifier,
    Notification,
    Notifier,
    Person,
    WebhookNotifier,
)
from slas.oncall import escalation_chain
from slas.routing import RouteInput, route, team_for

NoteKind = Literal["trigger", "escalation", "repeat", "resolved"]


def build_notifiers(
    policy: IncidentPolicy, env: Mapping[str, str], facility: str
) -> dict[str, Notifier]:
    return {r.id: _notifier(r, env, facility) for r in policy.receivers}


def _notifier(r: Receiver, env: Mapping[str, str], facility: str) -> Notifier:
    if r.kind == "webhook":
        secret = env.get(r.secret_env or "", "").encode() or None
        return WebhookNotifier(r.id, r.url or "", secret)
    if r.kind == "email":
        return EmailNotifier(
            r.id, r.smtp_host or "", r.smtp_port, r.sender or "", tuple(r.to), starttls=r.starttls
        )
    return AlertmanagerNotifier(r.id, r.url or "", facility=facility)


class Pager:
    def __init__(
        self,
        config: FacilityConfig,
        policy: IncidentPolicy,
        notifiers: Mapping[str, Notifier],
        store: IncidentStore,
        base_url: str,
    ) -> None:
        self.config, self.policy, self.notifiers = config, policy, notifiers
        self.store, self.base_url = store, base_url.rstrip("/")
        self.by_id = config.resources_by_id()

    def team(self, resource_id: str) -> Team | None:
        r = self.by_id.get(resource_id)
        return None if r is None else team_for(r.system, r.type, self.policy.teams)

    def chain(self, inc: Incident, now: datetime) -> list[Person]:
        team = self.policy.team(inc.team) if inc.team else None
        if team is None:
            return []
        people = escalation_chain(team, self.policy.people_by_id(), now)
        return [Person(p.id, p.name, p.email) for p in people]

    def due(self, inc: Incident, now: datetime, under_maintenance: bool) -> list[Page]:
        state = PageState(
            incident_id=str(inc.id),
            triggered_at=inc.opened_at,
            levels=max(len(self.chain(inc, now)), 1),
            acknowledged_at=inc.acknowledged_at,
            resolved_at=inc.resolved_at,
            under_maintenance=under_maintenance,
            sent=self.store.page_keys(inc.id),
        )
        return next_pages(state, inc.priority, self.policy.escalation, now)  # type: ignore[arg-type]

    def receivers(self, inc: Incident, now: datetime) -> list[str]:
        rid = _resource_of(inc)
        r = self.by_id.get(rid)
        inp = RouteInput(
            priority=inc.priority,  # type: ignore[arg-type]
            team_id=inc.team,
            system=r.system if r else "",
            resource_type=r.type if r else "",
            resource_id=rid,
        )
        return [x for x in route(inp, self.policy.routes, now) if x in self.notifiers]

    def send(
        self, inc: Incident, key: str, kind: NoteKind, level: int, now: datetime
    ) -> list[SentPage]:
        chain = self.chain(inc, now)
        recipients = (
            tuple(chain[min(level, len(chain)) - 1 : min(level, len(chain))]) if chain else ()
        )
        note = self.notification(inc, key, kind, level, recipients, now)
        return [self._deliver(inc, note, rid, now) for rid in self.receivers(inc, now)]

    def resolved(self, inc: Incident, now: datetime) -> list[SentPage]:
        """Tell every receiver that got a page of the incident that it is resolved (once:
        receivers already told are skipped without touching the store again)."""
        pages = self.store.pages(inc.id)
        told = {p.receiver for p in pages if p.key.endswith(":resolved")}
        paged = sorted({p.receiver for p in pages if p.ok and not p.key.endswith(":resolved")})
        paged = [rid for rid in paged if rid not in told]
        if not paged:
            return []
        note = self.notification(inc, f"{inc.id}:resolved", "resolved", 0, (), now)
        return [self._deliver(inc, note, rid, now) for rid in paged if rid in self.notifiers]

    def notification(
        self,
        inc: Incident,
        key: str,
        kind: NoteKind,
        level: int,
        recipients: Sequence[Person],
        now: datetime,
    ) -> Notification:
        runbook = inc.runbooks[0] if inc.runbooks else None
        return Notification(
            key=key,
            incident_id=str(inc.id),
            kind=kind,
            priority=inc.priority,  # type: ignore[arg-type]
            title=inc.title,
            summary="; ".join(_impact_lines(inc)) or inc.title,
            explanation=str(inc.explanation.get("summary", "")),
            status=inc.status,
            resources=tuple(inc.impacted),
            url=f"{self.base_url}/api/v1/incidents/{inc.id}",
            runbook_url=f"{self.base_url}/api/v1/runbooks/{runbook}" if runbook else None,
            recipients=tuple(recipients),
            level=level,
            at=now,
        )

    def _deliver(self, inc: Incident, note: Notification, receiver: str, now: datetime) -> SentPage:
        if not self.store.claim_page(inc.id, note.key, receiver, now):
            return SentPage(note.key, receiver, False, 0, "already sent", now)
        d: Delivery = self.notifiers[receiver].send(note)
        page = SentPage(note.key, receiver, d.ok, d.attempts, d.detail, d.at)
        to = ", ".join(p.name for p in note.recipients) or "no one on call"
        verdict = "delivered" if d.ok else "FAILED"
        text = f"{note.kind} page {note.key} to {receiver} ({to}): {verdict}, {d.detail}"
        event = {"at": now, "kind": "notification", "actor": "facstat", "text": text,
                 "data": {"key": note.key, "receiver": receiver, "ok": d.ok,
                          "attempts": d.attempts, "level": note.level,
                          "recipients": [p.id for p in note.recipients]}}  # fmt: skip
        self.store.record_delivery(inc.id, page, event)
        return page


def _resource_of(inc: Incident) -> str:
    if inc.kind == "outage":
        return inc.subject
    return next(iter(sorted(inc.impacted)), inc.subject)


def _impact_lines(inc: Incident) -> list[str]:
    return [
        f"{rid}: {v.get('summary', v.get('state', ''))}"
        for rid, v in sorted(inc.impacted.items())
        if not v.get("recovered_at")
    ]
