"""Incidents as alerts in Alertmanager (POST /api/v2/alerts), with the notifiers' retries.

Each notification becomes one alert. Its labels identify the incident, so every
notification of one incident updates the same alert (same fingerprint):

    alertname="FacstatIncident", incident="<incident_id>", priority="P1".."P4",
    severity="page" (P1, P2) | "ticket" (P3, P4),
    resource="<first resource>" (when there is one), facility="<facility>" (when configured)

Annotations: summary (the title), description (the summary), explanation (why this
priority), runbook_url (when there is one). `startsAt` is the notification time,
`generatorURL` the incident's link. `endsAt` is the notification time for a "resolved"
notification (Alertmanager then resolves the alert) and `at + ttl` otherwise, so a
firing incident does not expire after Alertmanager's short `resolve_timeout`.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from slas.notify_errors import NotifierConfigError
from slas.notify_http import (
    Clock,
    Outcome,
    RetryPolicy,
    Sleep,
    check_http_url,
    deliver,
    post_with_retry,
    utc_now,
)
from slas.notify_model import Delivery, Notification

ALERTNAME = "FacstatIncident"
SEVERITY = {"P1": "page", "P2": "page", "P3": "ticket", "P4": "ticket"}
DEFAULT_TTL = timedelta(hours=24)


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert_labels(n: Notification, facility: str | None = None) -> dict[str, str]:
    labels = {
        "alertname": ALERTNAME,
        "incident": n.incident_id,
        "priority": n.priority,
        "severity": SEVERITY[n.priority],
    }
    if n.resources and n.resources[0]:
        labels["resource"] = n.resources[0]
    if facility:
        labels["facility"] = facility
    return labels


def alert_annotations(n: Notification) -> dict[str, str]:
    annotations = {"summary": n.title, "description": n.summary, "explanation": n.explanation}
    if n.runbook_url:
        annotations["runbook_url"] = n.runbook_url
    return annotations


def alertmanager_alert(
    n: Notification, facility: str | None = None, ttl: timedelta = DEFAULT_TTL
) -> dict[str, Any]:
    """The one alert (a postableAlert of Alertmanager's API v2) for `n`."""
    ends = n.at if n.kind == "resolved" else n.at + ttl
    return {
        "labels": alert_labels(n, facility),
        "annotations": alert_annotations(n),
        "startsAt": _rfc3339(n.at),
        "endsAt": _rfc3339(ends),
        "generatorURL": n.url,
    }


class AlertmanagerNotifier:
    """Posts each notification as an alert to one Alertmanager (see the module docstring)."""

    def __init__(
        self,
        id: str,
        url: str,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
        facility: str | None = None,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        if ttl <= timedelta(0):
            raise NotifierConfigError("ttl", "must be positive")
        self.id = id
        self.url = check_http_url(url)
        self.facility = facility
        self._timeout, self._ttl = timeout, ttl
        self._policy = RetryPolicy(retries, backoff)
        self._sleep, self._clock = sleep, clock

    def __repr__(self) -> str:
        return f"AlertmanagerNotifier(id={self.id!r}, url={self.url!r})"

    def send(self, n: Notification) -> Delivery:
        return deliver(self.id, n.key, self._clock, lambda: self._post(n))

    def _post(self, n: Notification) -> Outcome:
        body = json.dumps([alertmanager_alert(n, self.facility, self._ttl)]).encode()
        return post_with_retry(
            f"{self.url}/api/v2/alerts",
            body,
            lambda: {"Content-Type": "application/json", "User-Agent": "facstat-notify/1"},
            policy=self._policy,
            timeout=self._timeout,
            sleep=self._sleep,
        )
