"""The incident policy: priority points, people, teams, receivers, routes, escalation.

One YAML file (named by the facility file's `operations.incidents`), validated by the
models below (every field carries a description) and read by
`slas.incident_policy_file.load_incident_policy`. Every section may be left out. Example::

    priority: {thresholds: {P1: 90, P2: 60, P3: 30}}     # every number has a default
    people:
      - {id: ada, name: Ada Lovelace, email: ada@example.org, phone: "+1 555 0100"}
      - {id: bob, name: Bob Noyce, email: bob@example.org}
    teams:
      - id: storage-team
        name: Storage
        systems: [storage]                # the team owns these systems' resources
        timezone: America/New_York
        rotation: {members: [ada, bob], start: 2026-01-05T09:00, length: 7d}
        secondary: true                   # the next person in the rotation is level 2
        escalate_to: [bob]                # levels 3 and up
        overrides: [{person: bob, start: 2026-12-24T09:00, end: 2026-12-27T09:00}]
    receivers:
      - {id: ops-hook, kind: webhook, url: "http://127.0.0.1:9000/hook", secret_env: HOOK_SECRET}
      - {id: mail, kind: email, smtp_host: 127.0.0.1, smtp_port: 1025, sender: facstat@example.org}
    routes:                               # first match wins unless `continue: true`
      - {match: {priorities: [P1, P2]}, receivers: [ops-hook], continue: true}
      - {match: {time: {days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00",
                        timezone: America/New_York}}, receivers: [mail]}
    escalation:
      P1: {ack_within: 5m, repeat_every: 15m, max_repeats: 3}
      cooldown: 30m
      maintenance_pages: false

Local date-times without a UTC offset (rotation starts, overrides) are wall-clock times
in the team's time zone. Write times of day in quotes: YAML reads `18:00` as a number.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from facility.config import Duration, Identifier
from slas.escalation import EscalationPolicy, EscalationStep
from slas.priority import LEVELS, Level, PriorityPolicy

__all__ = [
    "LEVELS",
    "WEEKDAYS",
    "EscalationPolicy",
    "EscalationStep",
    "IncidentPolicy",
    "Level",
    "Match",
    "Override",
    "Person",
    "PriorityPolicy",
    "Receiver",
    "Rotation",
    "Route",
    "Team",
    "TimeWindow",
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def _time_of_day(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            'write a time of day in quotes, e.g. "18:00" (YAML reads 18:00 as a number)'
        )
    return value


def _date_only(value: Any) -> Any:
    """A string that is only a date stays a date (pydantic would read it as midnight)."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        return date.fromisoformat(value.strip())
    return value


Zone = Annotated[str, AfterValidator(_zone)]
LocalTime = Annotated[time, BeforeValidator(_time_of_day)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Person(_Model):
    id: Identifier
    name: str = Field(description="display name")
    email: Email = Field(description="e-mail address pages are sent to")
    phone: str | None = Field(None, description="phone number, shown to colleagues")


class Rotation(_Model):
    members: tuple[str, ...] = Field(min_length=1, description="person ids, in hand-off order")
    start: Annotated[datetime | date, BeforeValidator(_date_only)] = Field(
        description="first hand-off: a local date-time in the team's zone (or a date with `handoff`)"
    )
    length: Duration = Field(
        timedelta(days=7), gt=timedelta(0), description="shift length, e.g. 7d or 12h"
    )
    handoff: LocalTime | None = Field(
        None, description='local time of day of the hand-off, e.g. "09:00", when `start` is a date'
    )

    @property
    def first_handoff(self) -> datetime:
        """The first hand-off as a wall-clock time (naive, or aware if given with an offset)."""
        if isinstance(self.start, datetime):
            return self.start
        return datetime.combine(self.start, self.handoff or time(0))

    @model_validator(mode="after")
    def _one_handoff_time(self) -> Rotation:
        if isinstance(self.start, datetime) and self.handoff not in (None, self.start.time()):
            raise ValueError("give the hand-off time once: in `start` or in `handoff`")
        return self


class Override(_Model):
    person: str = Field(description="person id on call instead of the rotation")
    start: datetime = Field(description="start, local in the team's zone unless it has an offset")
    end: datetime = Field(description="end, local in the team's zone unless it has an offset")

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if (self.start.tzinfo is None) != (self.end.tzinfo is None):
            raise ValueError("give both start and end with a UTC offset, or neither")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Team(_Model):
    id: Identifier
    name: str = Field(description="display name")
    systems: tuple[str, ...] = Field((), description="system ids whose resources the team owns")
    resource_types: tuple[str, ...] = Field(
        (), description="if given, the team owns only resources of these types on its systems"
    )
    timezone: Zone = Field("UTC", description="IANA time zone of the rotation and overrides")
    rotation: Rotation = Field(description="who is on call when")
    secondary: bool = Field(False, description="the next person in the rotation is level 2")
    escalate_to: tuple[str, ...] = Field((), description="person ids paged at levels 3 and up")
    overrides: tuple[Override, ...] = Field((), description="shifts that replace the rotation")


class Receiver(_Model):
    id: Identifier
    kind: Literal["webhook", "email", "alertmanager"] = Field(description="how pages are sent")
    url: str | None = Field(
        None, pattern=r"^https?://", description="webhook or Alertmanager URL (http or https)"
    )
    secret_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="name of the environment variable holding the webhook's HMAC secret",
    )
    smtp_host: str | None = Field(None, description="SMTP relay host (email)")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP relay port (email)")
    sender: Email | None = Field(None, description="From: address (email)")
    to: tuple[Email, ...] = Field((), description="fixed addresses; default: the paged people")
    starttls: bool = Field(False, description="upgrade the SMTP connection with STARTTLS")

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Receiver:
        if self.kind == "email" and not (self.smtp_host and self.sender):
            raise ValueError("an email receiver needs smtp_host and sender")
        if self.kind != "email" and not self.url:
            raise ValueError(f"a {self.kind} receiver needs a url")
        if self.kind != "webhook" and self.secret_env:
            raise ValueError("secret_env is only for webhook receivers")
        return self


class TimeWindow(_Model):
    days: tuple[Weekday, ...] = Field(WEEKDAYS, description="days on which the window starts")
    start: LocalTime = Field(alias="from", description='local start, e.g. "08:00"')
    end: LocalTime = Field(
        alias="to", description='local end, e.g. "18:00"; before `from`: overnight'
    )
    timezone: Zone = Field("UTC", description="IANA time zone of the window")

    @model_validator(mode="after")
    def _not_empty(self) -> TimeWindow:
        if self.start == self.end:
            raise ValueError("from and to must differ (leave out `time` to match at any time)")
        return self


class Match(_Model):
    priorities: tuple[Level, ...] | None = Field(None, description="any of these levels")
    teams: tuple[str, ...] | None = Field(None, description="any of these owning teams")
    systems: tuple[str, ...] | None = Field(None, description="any of these systems")
    resource_types: tuple[str, ...] | None = Field(None, description="any of these types")
    resources: tuple[str, ...] | None = Field(None, description="any of these resource ids")
    time: TimeWindow | None = Field(None, description="only inside this weekly time window")

    @property
    def matches_everything(self) -> bool:
        return all(getattr(self, name) is None for name in type(self).model_fields)


class Route(_Model):
    match: Match = Field(default_factory=Match, description="what it matches; empty: everything")
    receivers: tuple[str, ...] = Field(description="receiver ids; none: matched pages are dropped")
    continue_: bool = Field(False, alias="continue", description="also try the routes after it")


class IncidentPolicy(_Model):
    priority: PriorityPolicy = Field(default_factory=PriorityPolicy, description="priority")
    people: tuple[Person, ...] = Field((), description="everyone who can be paged")
    teams: tuple[Team, ...] = Field((), description="teams, what they own, their rotations")
    receivers: tuple[Receiver, ...] = Field((), description="where pages are sent")
    routes: tuple[Route, ...] = Field((), description="ordered routes to receivers")
    escalation: EscalationPolicy = Field(
        default_factory=EscalationPolicy, description="acknowledgement, repeats, cooldown"
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, value: Any) -> Any:
        """A section written with nothing under it (`priority:`) takes its defaults."""
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if v is not None}
        return value

    def people_by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    def team(self, team_id: str) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def receiver(self, receiver_id: str) -> Receiver | None:
        return next((r for r in self.receivers if r.id == receiver_id), None)
