"""Alertmanager's webhook payload (version 4) in, `ReceivedAlert`s out. Pure: bytes to values.

Alertmanager POSTs one alert group per notification:

    {"version": "4", "groupKey": "...", "truncatedAlerts": 0, "status": "firing",
     "receiver": "...", "groupLabels": {...}, "commonLabels": {...},
     "commonAnnotations": {...}, "externalURL": "http://...:9093",
     "alerts": [{"status": "firing", "labels": {"alertname": ...}, "annotations": {...},
                 "startsAt": "...", "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "...", "fingerprint": "1a30ba71cca2921f"}]}

Every field above is required (but `truncatedAlerts`, which older releases do not send)
and strictly typed (no "1" for 1, no naive times); fields we do not know are ignored, so
a newer Alertmanager still parses. Go's zero time (`0001-01-01T00:00:00Z`), which
Alertmanager sends as the `endsAt` of every firing alert, becomes `ends_at=None`. The body
is capped in size (`max_bytes`, checked before parsing), nesting depth (by the JSON parser)
and alert count (`MAX_ALERTS`); every rejection is an `AlertmanagerPayloadError` naming the
field, e.g. `alerts[0].startsAt`, never another exception and never the rejected input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from facility.errors import Issue
from slas.notify_errors import AlertmanagerPayloadError

MAX_BYTES = 1 << 20
MAX_ALERTS = 1000

Status = Literal["firing", "resolved"]
LabelName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]{0,199}$")]
LabelSet = dict[LabelName, str]


@dataclass(frozen=True, slots=True)
class ReceivedAlert:
    """One alert of a webhook notification; `name` is its `alertname` label."""

    fingerprint: str
    status: Status
    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Alert(_Model):
    status: Status
    labels: LabelSet
    annotations: LabelSet
    startsAt: AwareDatetime
    endsAt: AwareDatetime
    generatorURL: str
    fingerprint: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{1,64}$")]


class _Payload(_Model):
    version: Literal["4"]
    groupKey: str
    truncatedAlerts: Annotated[int, Field(ge=0)] = 0
    status: Status
    receiver: str
    groupLabels: LabelSet
    commonLabels: LabelSet
    commonAnnotations: LabelSet
    externalURL: str
    alerts: Annotated[list[_Alert], Field(max_length=MAX_ALERTS)]


def parse_alertmanager_webhook(body: bytes, *, max_bytes: int = MAX_BYTES) -> list[ReceivedAlert]:
    """The alerts of one Alertmanager webhook body, or AlertmanagerPayloadError."""
    if len(body) > max_bytes:
        raise AlertmanagerPayloadError([Issue("body", f"{len(body)} bytes, more than {max_bytes}")])
    try:
        payload = _Payload.model_validate_json(body)
    except ValidationError as exc:
        raise AlertmanagerPayloadError(_issues(exc)) from exc
    return [_received(i, alert) for i, alert in enumerate(payload.alerts)]


def _issues(exc: ValidationError) -> list[Issue]:
    return [Issue(_path(e["loc"]) or "body", e["msg"]) for e in exc.errors(include_url=False)]


def _path(loc: tuple[int | str, ...]) -> str:
    """('alerts', 0, 'startsAt') → 'alerts[0].startsAt'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            out += " (the name)"
        else:
            out += f".{part}" if out else part
    return out


def _received(index: int, alert: _Alert) -> ReceivedAlert:
    name = alert.labels.get("alertname")
    if not name:
        issue = Issue(f"alerts[{index}].labels.alertname", "required, and must not be empty")
        raise AlertmanagerPayloadError([issue])
    return ReceivedAlert(
        fingerprint=alert.fingerprint,
        status=alert.status,
        name=name,
        labels=MappingProxyType(dict(alert.labels)),
        annotations=MappingProxyType(dict(alert.annotations)),
        starts_at=_utc(alert.startsAt, f"alerts[{index}].startsAt"),
        ends_at=None if alert.endsAt.year == 1 else _utc(alert.endsAt, f"alerts[{index}].endsAt"),
        generator_url=alert.generatorURL,
    )


def _utc(at: datetime, path: str) -> datetime:
    try:
        return at.astimezone(UTC)
    except OverflowError as exc:
        raise AlertmanagerPayloadError([Issue(path, "out of the representable range")]) from exc
