"""Incidents of a running facility: opened, updated and resolved from status changes
(and from SLA burn and Alertmanager alerts), acted on by on-call staff, paged.

`on_status` is the status service's listener: it correlates each batch of
transitions (`slas.incidents`) and records what changed, in the database only.
`tick` (a loop in the runtime, every few seconds) sends what is due: first pages,
escalations, repeats, and "resolved" notices. Staff actions (acknowledge,
mitigate, resolve, cancel, notes, runbook steps) are timestamped with their actor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from facility.config import FacilityConfig
from facility.errors import ConflictError, NotFoundError
from facility.model import EffectiveStatus, State, Transition
from facility.service import Snapshot
from slas.escalation import cooldown_reopens
from slas.incident_facts import PriorityFacts
from slas.incident_policy import IncidentPolicy
from slas.incident_store import OPEN, Incident, IncidentStore
from slas.incidents import (
    Action,
    Affect,
    Impact,
    Open,
    OpenIncident,
    Recover,
    Resolve,
    correlate,
    title_of,
)
from slas.paging import Pager
from slas.priority import Priority

Statuses = Callable[[datetime], Mapping[str, EffectiveStatus]]
Matcher = Callable[[str, str, Sequence[str], Sequence[str]], list[str]]
SYSTEM = "facstat"
RESOLVED_NOTICE_WITHIN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Alert:
    """An incident that does not come from a status change (see `sync_alerts`)."""

    key: str
    kind: str  # burn, alert, conflict
    subject: str
    title: str
    priority: str
    why: str
    name: str = ""  # the alert name, for runbook matching
    resource_id: str | None = None


def _no_runbooks(rid: str, rtype: str, codes: Sequence[str], alerts: Sequence[str]) -> list[str]:
    return []


class IncidentService:
    def __init__(
        self,
        config: FacilityConfig,
        store: IncidentStore,
        statuses: Statuses,
        facts: PriorityFacts,
        pager: Pager,
        policy: IncidentPolicy,
        clock: Callable[[], datetime],
        runbooks: Matcher = _no_runbooks,
    ) -> None:
        self.config, self.store, self.statuses = config, store, statuses
        self.facts, self.pager, self.policy, self.clock = facts, pager, policy, clock
        self.runbooks = runbooks
        self.by_id = config.resources_by_id()
        self.depends = {r.id: tuple(r.depends_on) for r in config.resources}
        self.tiers = {r.id: config.tier(r) for r in config.resources}
        self.names = {r.id: r.name for r in config.resources}
        self._lock = threading.RLock()

    # -- from status changes ------------------------------------------------------------

    def on_status(self, snap: Snapshot, transitions: list[Transition]) -> None:
        changed = [t for t in transitions if t.state_changed or _cause_moved(t)]
        if not changed:
            return
        with self._lock:
            now = max(t.at for t in changed)
            open_ = {i.key: i for i in self.store.open_incidents()}
            book = [OpenIncident(k, _active(i)) for k, i in open_.items()]
            actions = correlate(changed, book, snap.statuses, self.depends, self.tiers, now)
            for a in actions:
                self._apply(a, open_, snap.statuses, now)

    def _apply(
        self,
        a: Action,
        open_: dict[str, Incident],
        statuses: Mapping[str, EffectiveStatus],
        now: datetime,
    ) -> None:
        if isinstance(a, Open):
            open_[a.key] = self._open(a, statuses, now)
        elif isinstance(a, Affect):
            open_[a.key] = self._affect(open_[a.key], a.impact, statuses, now)
        elif isinstance(a, Recover):
            open_[a.key] = self._recover(open_[a.key], a, now)
        elif isinstance(a, Resolve):
            self._close(open_.pop(a.key), "resolved", SYSTEM, a.why, now)

    def _open(self, a: Open, statuses: Mapping[str, EffectiveStatus], now: datetime) -> Incident:
        last = self.store.last_resolved(a.key)
        impacted = {a.impact.resource_id: _impact(a.impact)}
        if last is not None and cooldown_reopens(last.resolved_at, now, self.policy.escalation):
            return self._reopen(last, impacted, now)
        prio = self._priority(impacted, statuses, now)
        rid = a.subject if a.kind == "outage" else a.impact.resource_id
        team = self.pager.team(rid)
        title = title_of(a.kind, a.subject, self.names)
        values = {
            "key": a.key, "kind": a.kind, "subject": a.subject, "title": title,
            "status": "triggered", "priority": prio.level, "priority_score": prio.score,
            "explanation": _explain(prio), "impacted": impacted,
            "team": team.id if team else None, "runbooks": self._match(rid, statuses),
            "opened_at": now, "updated_at": now,
        }  # fmt: skip
        text = f"Opened: {a.impact.resource_id} {a.impact.summary}"
        new_id = self.store.create(values, _ev(now, "opened", SYSTEM, text, public=True))
        if new_id is None:  # another API process opened it a moment ago
            existing = self.store.open_by_key(a.key)
            assert existing is not None
            return existing
        self.store.update(new_id, {}, _ev(now, "priority", SYSTEM, prio.summary))
        return self.get(new_id)

    def _reopen(self, last: Incident, impacted: dict[str, Any], now: datetime) -> Incident:
        status = "acknowledged" if last.acknowledged_at else "triggered"
        values = {"status": status, "resolved_at": None, "resolved_by": None, "updated_at": now,
                  "impacted": {**last.impacted, **impacted}}  # fmt: skip
        text = "Re-opened: the same cause came back within the cool-down"
        self.store.update(last.id, values, _ev(now, "reopened", SYSTEM, text, public=True))
        return self.get(last.id)

    def _affect(
        self, inc: Incident, impact: Impact, statuses: Mapping[str, EffectiveStatus], now: datetime
    ) -> Incident:
        impacted = {**inc.impacted, impact.resource_id: _impact(impact)}
        prio = self._priority(impacted, statuses, now)
        values: dict[str, Any] = {"impacted": impacted, "updated_at": now}
        events = [_ev(now, "impact", SYSTEM, f"{impact.resource_id} {impact.summary}")]
        if prio.level != inc.priority:
            values |= {"priority": prio.level, "priority_score": prio.score}
            values["explanation"] = _explain(prio)
            events.append(_ev(now, "priority", SYSTEM, f"{inc.priority} → {prio.summary}"))
        self.store.update(inc.id, values, *events)
        return self.get(inc.id)

    def _recover(self, inc: Incident, a: Recover, now: datetime) -> Incident:
        entry = {**inc.impacted.get(a.resource_id, {}), "recovered_at": now.isoformat()}
        impacted = {**inc.impacted, a.resource_id: entry}
        text = f"{a.resource_id} recovered ({a.state})"
        self.store.update(
            inc.id, {"impacted": impacted, "updated_at": now}, _ev(now, "recovered", SYSTEM, text)
        )
        return self.get(inc.id)

    def _priority(
        self, impacted: Mapping[str, Any], statuses: Mapping[str, EffectiveStatus], now: datetime
    ) -> Priority:
        live = {
            rid: statuses[rid]
            for rid, v in impacted.items()
            if rid in statuses and not v.get("recovered_at")
        }
        live = live or {rid: statuses[rid] for rid in impacted if rid in statuses}
        return self.facts.priority(live, now, len(live))

    def _match(self, rid: str, statuses: Mapping[str, EffectiveStatus]) -> list[str]:
        s = statuses.get(rid)
        r = self.by_id.get(rid)
        codes = [x.code for x in s.reasons] if s else []
        return self.runbooks(rid, r.type if r else "", codes, [])

    # -- from alerts: SLA burn, Alertmanager, beamtime conflicts ------------------------------

    def sync_alerts(self, kind: str, firing: Mapping[str, Alert], now: datetime) -> None:
        """Incidents of one `kind` follow a set of firing alerts: a new key opens one,
        a key no longer firing resolves its incident."""
        with self._lock:
            open_ = {i.key: i for i in self.store.open_incidents() if i.kind == kind}
            for key, alert in firing.items():
                if key not in open_:
                    self.open_alert(alert, now)
            for key, inc in open_.items():
                if key not in firing:
                    self._close(inc, "resolved", SYSTEM, "the alert stopped firing", now)

    def open_alert(self, alert: Alert, now: datetime) -> Incident | None:
        """Open an incident for one alert unless one with its key is open already."""
        with self._lock:
            if any(i.key == alert.key for i in self.store.open_incidents()):
                return None
            last = self.store.last_resolved(alert.key)
            if last is not None and cooldown_reopens(last.resolved_at, now, self.policy.escalation):
                return self._reopen(last, {}, now)
            team = self.pager.team(alert.resource_id) if alert.resource_id else None
            runbooks = (
                self.runbooks(alert.resource_id or "", "", [], [alert.name])
                if alert.kind != "conflict"  # a planning matter: no runbook applies
                else []
            )
            values = {
                "key": alert.key, "kind": alert.kind, "subject": alert.subject,
                "title": alert.title, "status": "triggered", "priority": alert.priority,
                "priority_score": 0.0, "explanation": {"level": alert.priority, "summary": alert.why},
                "impacted": {}, "team": team.id if team else None, "runbooks": runbooks,
                "opened_at": now, "updated_at": now,
            }  # fmt: skip
            new_id = self.store.create(values, _ev(now, "opened", SYSTEM, alert.title, public=True))
            return None if new_id is None else self.get(new_id)  # None: opened elsewhere

    def close_alert(self, key: str, why: str, now: datetime) -> None:
        with self._lock:
            for inc in self.store.open_incidents():
                if inc.key == key:
                    self._close(inc, "resolved", SYSTEM, why, now)

    def reprioritize(self, now: datetime) -> int:
        """Re-weigh open incidents whose factors move with time alone (a beamtime starting,
        service hours, the SLA budget); returns how many changed priority."""
        statuses = self.statuses(now)
        changed = 0
        with self._lock:
            for inc in self.store.open_incidents():
                if inc.kind not in ("outage", "collector") or not _active(inc):
                    continue
                prio = self._priority(inc.impacted, statuses, now)
                if prio.level == inc.priority:
                    continue
                values = {"priority": prio.level, "priority_score": prio.score,
                          "explanation": _explain(prio), "updated_at": now}  # fmt: skip
                text = f"{inc.priority} → {prio.summary}"
                self.store.update(inc.id, values, _ev(now, "priority", SYSTEM, text))
                changed += 1
        return changed

    # -- paging -------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> int:
        """Send every page that is due; returns how many deliveries were attempted."""
        now = now or self.clock()
        statuses = self.statuses(now)
        sent = 0
        for inc in self.store.open_incidents():
            maint = _under_maintenance(inc, statuses)
            for page in self.pager.due(inc, now, maint):
                if page.kind == "escalation":  # the decision, on the timeline before its pages
                    text = f"Escalated to level {page.level}: not acknowledged in time"
                    self.store.update(inc.id, {}, _ev(now, "escalation", SYSTEM, text))
                sent += len(self.pager.send(inc, page.key, page.kind, page.level, now))
        recent = now - RESOLVED_NOTICE_WITHIN
        for inc in self.store.incidents(statuses=("resolved",), limit=50, resolved_since=recent):
            sent += len([p for p in self.pager.resolved(inc, now) if p.detail != "already sent"])
        return sent

    # -- staff actions ------------------------------------------------------------------

    def acknowledge(self, incident_id: int, actor: str, note: str = "") -> Incident:
        inc = self._open_incident(incident_id)
        if inc.acknowledged_at is not None:
            raise ConflictError(f"incident {incident_id} is already acknowledged", "status")
        now = self.clock()
        values = {
            "status": "acknowledged",
            "acknowledged_at": now,
            "acknowledged_by": actor,
            "updated_at": now,
        }
        self.store.update(inc.id, values, _ev(now, "acknowledged", actor, note or "Acknowledged"))
        return self.get(inc.id)

    def mitigate(self, incident_id: int, actor: str, note: str = "") -> Incident:
        inc = self._open_incident(incident_id)
        if inc.status == "mitigated":
            raise ConflictError(f"incident {incident_id} is already mitigated", "status")
        now = self.clock()
        values: dict[str, Any] = {
            "status": "mitigated",
            "mitigated_at": now,
            "mitigated_by": actor,
            "updated_at": now,
        }
        if inc.acknowledged_at is None:
            values |= {"acknowledged_at": now, "acknowledged_by": actor}
        self.store.update(inc.id, values, _ev(now, "mitigated", actor, note or "Mitigated"))
        return self.get(inc.id)

    def resolve(self, incident_id: int, actor: str, note: str = "") -> Incident:
        inc = self._open_incident(incident_id)
        return self._close(inc, "resolved", actor, note or "Resolved", self.clock())

    def cancel(self, incident_id: int, actor: str, note: str = "") -> Incident:
        inc = self._open_incident(incident_id)
        return self._close(inc, "cancelled", actor, note or "Cancelled", self.clock())

    def note(self, incident_id: int, actor: str, text: str, public: bool) -> Incident:
        inc = self.get(incident_id)
        now = self.clock()
        kind = "public_note" if public else "internal_note"
        self.store.update(inc.id, {"updated_at": now}, _ev(now, kind, actor, text, public=public))
        return self.get(inc.id)

    def runbook_step(
        self,
        incident_id: int,
        runbook: str,
        step: str,
        actor: str,
        done: bool,
        steps: Sequence[str],
    ) -> Incident:
        inc = self.get(incident_id)
        if runbook not in inc.runbooks:
            raise NotFoundError(f"runbook of incident {incident_id}", runbook)
        if step not in steps:
            raise NotFoundError(f"step of runbook {runbook}", step)
        now = self.clock()
        text = f"Runbook {runbook}, step {step}: {'done' if done else 'not done'}"
        data = {"runbook": runbook, "step": step, "done": done}
        self.store.update(
            inc.id, {"updated_at": now}, _ev(now, "runbook_step", actor, text, data=data)
        )
        return self.get(inc.id)

    def _close(self, inc: Incident, status: str, actor: str, why: str, now: datetime) -> Incident:
        values = {"status": status, "resolved_at": now, "resolved_by": actor, "updated_at": now}
        self.store.update(inc.id, values, _ev(now, status, actor, why, public=True))
        return self.get(inc.id)

    def _open_incident(self, incident_id: int) -> Incident:
        inc = self.get(incident_id)
        if inc.status not in OPEN:
            raise ConflictError(f"incident {incident_id} is {inc.status}", "status")
        return inc

    def get(self, incident_id: int) -> Incident:
        inc = self.store.incident(incident_id)
        if inc is None:
            raise NotFoundError("incident", str(incident_id))
        return inc


def _ev(
    at: datetime,
    kind: str,
    actor: str,
    text: str,
    public: bool = False,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "at": at,
        "kind": kind,
        "actor": actor,
        "text": text,
        "public": public,
        "data": data or {},
    }


def _impact(i: Impact) -> dict[str, Any]:
    return {
        "state": i.state,
        "summary": i.summary,
        "since": i.since.isoformat(),
        "recovered_at": None,
    }


def _active(inc: Incident) -> frozenset[str]:
    return frozenset(rid for rid, v in inc.impacted.items() if not v.get("recovered_at"))


def _explain(p: Priority) -> dict[str, Any]:
    return {
        "level": p.level,
        "score": p.score,
        "summary": p.summary,
        "factors": [
            {"name": f.name, "value": f.value, "points": f.points, "explanation": f.explanation}
            for f in p.factors
        ],
    }


def _cause_moved(t: Transition) -> bool:
    before = t.before.root_cause.resource_id if t.before and t.before.root_cause else None
    after = t.after.root_cause.resource_id if t.after.root_cause else None
    return before != after


def _under_maintenance(inc: Incident, statuses: Mapping[str, EffectiveStatus]) -> bool:
    s = statuses.get(inc.subject) if inc.kind == "outage" else None
    return s is not None and s.state == State.MAINTENANCE
