"""SLA definitions: what is promised, over which period, in which service hours.

An SLA file is YAML validated by the models below (every field carries a
description) and read by `slas.sla_file.load_slas`. Example::

    groups:
      bl1-path: [broker, scratch]          # all needed: the worst state counts
    slas:
      - id: scratch-monthly
        service: scratch                   # a resource id or a group name
        objective: 99.5                    # percent
        period: month                      # or `30d`, or {kind: rolling, days: 30}
        timezone: Europe/Berlin            # of the period and the service hours
        service_hours: {calendar: 16x5, holidays: [2026-12-25]}
        degraded: 0.5                      # or `capacity`
        unknown: excluded                  # or `down`; never `up`
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from facility.config import Identifier

Calendar = Literal["24x7", "16x5", "8x5"]
HOURS_PER_DAY: dict[str, int] = {"24x7": 24, "16x5": 16, "8x5": 8}
DEFAULT_START: dict[str, time] = {"24x7": time(0), "16x5": time(6), "8x5": time(8)}
# Day numbers as `date.weekday()` gives them: Monday is 0.
SERVICE_DAYS: dict[str, tuple[int, ...]] = {
    "24x7": (0, 1, 2, 3, 4, 5, 6),
    "16x5": (0, 1, 2, 3, 4),
    "8x5": (0, 1, 2, 3, 4),
}
_ROLLING = re.compile(r"^\s*(\d+)\s*d\s*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceHours(_Model):
    calendar: Calendar = Field(
        "24x7", description="24x7 (every hour), 16x5 or 8x5 (that many hours, Monday to Friday)"
    )
    start: time | None = Field(
        None, description="local start of a service day; default 00:00, 06:00 (16x5), 08:00 (8x5)"
    )
    holidays: tuple[date, ...] = Field((), description="local dates without any service hours")

    @property
    def day_start(self) -> time:
        return self.start or DEFAULT_START[self.calendar]

    @property
    def day_length(self) -> timedelta:
        return timedelta(hours=HOURS_PER_DAY[self.calendar])

    @property
    def days(self) -> tuple[int, ...]:
        return SERVICE_DAYS[self.calendar]

    @field_validator("start")
    @classmethod
    def _within_one_day(cls, s: time | None, info: ValidationInfo) -> time | None:
        if s is None:
            return s
        if s.second or s.microsecond or s.tzinfo:
            raise ValueError("give a local time in whole minutes, e.g. 07:30")
        calendar = info.data.get("calendar", "24x7")
        length = timedelta(hours=HOURS_PER_DAY[calendar])
        if timedelta(hours=s.hour, minutes=s.minute) + length > timedelta(days=1):
            raise ValueError(f"a {calendar} day starting at {s:%H:%M} crosses midnight")
        return s


class CalendarMonth(_Model):
    kind: Literal["calendar_month"] = Field(description="a calendar month in the SLA's time zone")


class Rolling(_Model):
    kind: Literal["rolling"] = Field(description="the last `days` days up to now")
    days: int = Field(ge=1, le=366, description="length of the rolling window in days")


def _period(value: Any) -> Any:
    """Accept `month` and `30d` besides the mappings."""
    if value in ("month", "calendar_month"):
        return {"kind": "calendar_month"}
    if isinstance(value, str) and (m := _ROLLING.match(value)):
        return {"kind": "rolling", "days": int(m.group(1))}
    return value


def _degraded(value: Any) -> Any:
    """Accept a bare weight (`0.5`) or `capacity` besides the mapping."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"count": "weight", "weight": value}
    return {"count": "capacity"} if value == "capacity" else value


def _unknown(value: Any) -> Any:
    if value == "up":
        raise ValueError("unknown may not count as up: a status is never greener than the truth")
    return value


PeriodSpec = Annotated[
    CalendarMonth | Rolling, Field(discriminator="kind"), BeforeValidator(_period)
]


class DegradedRule(_Model):
    count: Literal["weight", "capacity"] = Field(
        "weight", description="count degraded time by a fixed weight, or by the capacity fraction"
    )
    weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="share of degraded time counted as available "
        "(also used when `capacity` is asked for but the interval has none)",
    )


class SlaDefinition(_Model):
    id: Identifier
    name: str = Field("", description="display name; the id when empty")
    description: str = Field("", description="what is promised, in words")
    service: str = Field(description="the resource id, or a group name, the SLA is about")
    resources: tuple[str, ...] | None = Field(
        None,
        description="resource ids that must all be usable (the worst state counts); "
        "filled by load_slas from `service` when not given",
    )
    objective: float = Field(description="availability promised, in percent (0 < x < 100)")
    period: PeriodSpec = Field(
        default_factory=lambda: CalendarMonth(kind="calendar_month"),
        description="`month` (calendar month) or `<N>d` (rolling N days)",
    )
    timezone: str = Field("UTC", description="IANA time zone of the period and service hours")
    service_hours: ServiceHours = Field(
        default_factory=ServiceHours, description="when the service is promised (default 24x7)"
    )
    degraded: Annotated[DegradedRule, BeforeValidator(_degraded)] = Field(
        default_factory=DegradedRule, description="how degraded time counts: a weight or `capacity`"
    )
    unknown: Annotated[Literal["excluded", "down"], BeforeValidator(_unknown)] = Field(
        "excluded", description="unknown/stale time: `excluded` from the denominator, or `down`"
    )

    @property
    def members(self) -> tuple[str, ...]:
        return self.resources or (self.service,)

    @property
    def budget_ratio(self) -> float:
        """The share of eligible time the error budget allows, e.g. 0.005 for 99.5 %."""
        return 1.0 - self.objective / 100.0

    @field_validator("objective")
    @classmethod
    def _percent(cls, v: float) -> float:
        if v == 100:
            raise ValueError("must be below 100: an objective of 100 % leaves no error budget")
        if not 0 < v < 100:
            raise ValueError("must be between 0 and 100")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v


class SlaFile(_Model):
    groups: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="named groups of resource ids, all needed"
    )
    slas: list[SlaDefinition] = Field(description="the SLAs")
