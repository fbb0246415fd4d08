"""Incidents that do not come from status changes: SLA error-budget burn, beamtime
conflicts, and alerts received from an existing Alertmanager. Pure conversions to
`incident_service.Alert` (and, for Alertmanager alerts about a known resource, to
observations, so they take part in the status like any other source)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from facility.model import Observation, ProbeState, Reason
from slas.beamtime import Conflict
from slas.burn import alerts_from, window_label
from slas.definitions import SlaDefinition
from slas.incident_service import Alert
from slas.notify import ReceivedAlert
from slas.sla import SlaReport

BURN_ALERT = "FacstatSlaErrorBudgetBurn"
CONFLICT_HORIZON = timedelta(days=30)
RESOURCE_LABELS = ("facstat_resource", "resource")
PAGE_SEVERITIES = {"critical", "page", "error"}


def burn(slas: Iterable[tuple[SlaDefinition, SlaReport]], now: datetime) -> dict[str, Alert]:
    """One alert per SLA whose budget burns too fast on some window pair (the most
    severe pair firing): `page` pairs are P2, `ticket` pairs P3."""
    out: dict[str, Alert] = {}
    for sla, report in slas:
        firing = (
            [a for a in alerts_from(sla, report.burn_rates, now) if a.firing]
            if report.burn_rates
            else []
        )
        if not firing:
            continue
        worst = min(firing, key=lambda a: (a.severity != "page", a.long_window))
        why = (
            f"{window_label(worst.long_window.total_seconds())}/"
            f"{window_label(worst.short_window.total_seconds())} burn "
            f"{worst.long_rate:.1f}×/{worst.short_rate:.1f}× over the {worst.threshold:.1f}× threshold"
        )
        out[f"sla:{sla.id}"] = Alert(
            key=f"sla:{sla.id}",
            kind="burn",
            subject=sla.id,
            title=f"SLA {sla.name or sla.id}: error budget burning fast ({why})",
            priority="P2" if worst.severity == "page" else "P3",
            why=f"{worst.severity} burn alert: {why}",
            name=BURN_ALERT,
            resource_id=(sla.resources or (None,))[0],
        )
    return out


def conflicts(found: Iterable[Conflict], now: datetime) -> dict[str, Alert]:
    """Beamtime conflicts starting within the next 30 days, for the owning team (P3)."""
    out: dict[str, Alert] = {}
    for c in found:
        if c.overlap_start - now > CONFLICT_HORIZON:
            continue
        bt = c.beamtime
        title = (
            f"Maintenance {c.window_id} overlaps beamtime '{bt.title}' on {bt.beamline} "
            f"({c.overlap_start:%Y-%m-%d %H:%M} UTC; {', '.join(c.resources)})"
        )
        out[f"conflict:{c.id}"] = Alert(
            key=f"conflict:{c.id}", kind="conflict", subject=c.window_id, title=title,
            priority="P3", why="a planned window takes away what a scheduled beamtime needs",
            name="BeamtimeConflict", resource_id=c.resources[0] if c.resources else None,
        )  # fmt: skip
    return out


def resource_of(a: ReceivedAlert, known: Mapping[str, object]) -> str | None:
    return next((a.labels[k] for k in RESOURCE_LABELS if a.labels.get(k) in known), None)


def observation(a: ReceivedAlert, resource_id: str, now: datetime) -> Observation:
    """A received alert about a known resource, as what a collector would have seen."""
    if a.status == "resolved":
        return Observation(resource_id, now, "alertmanager", ProbeState.UP)
    bad = a.labels.get("severity", "").lower() in PAGE_SEVERITIES
    summary = a.annotations.get("summary") or a.annotations.get("description") or a.name
    why = Reason("alert_firing", f"{a.name}: {summary}"[:500])
    state = ProbeState.DOWN if bad else ProbeState.DEGRADED
    return Observation(resource_id, now, "alertmanager", state, reasons=(why,))


def received(a: ReceivedAlert) -> Alert:
    """A received alert about no known resource: an incident of its own."""
    label = a.labels.get("priority", "")
    sev = a.labels.get("severity", "").lower()
    priority = (
        label if label in ("P1", "P2", "P3", "P4") else "P2" if sev in PAGE_SEVERITIES else "P3"
    )
    summary = a.annotations.get("summary") or a.annotations.get("description") or ""
    return Alert(
        key=f"alert:{a.fingerprint}",
        kind="alert",
        subject=a.name,
        title=f"{a.name}: {summary}" if summary else a.name,
        priority=priority,
        why=f"from Alertmanager, severity {sev or 'unset'}, priority label {label or 'unset'}",
        name=a.name,
    )
