"""View-models of the SLA pages: each SLA this period, its past periods, every time
bucket, the error budget and the burn rates against their alerting thresholds.

Pure: definitions and `SlaReport`s (from `slas.sla`) in, frozen dataclasses out. The
figures are the API's (`GET /api/v1/slas/{id}`): availability over eligible time
(service hours minus planned maintenance), buckets in service seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from api.pages.time_view import human_duration, local
from slas.burn import alerts_from, window_label
from slas.definitions import CalendarMonth, SlaDefinition
from slas.sla import SlaReport

PERIODS = 6  # the current period and the five before it
BUCKETS = (  # (field, label, field of the share counted as down)
    ("up_s", "up", None),
    ("degraded_s", "degraded", "degraded_down_s"),
    ("down_s", "down (unplanned)", None),
    ("maintenance_s", "planned maintenance (excluded)", None),
    ("overrun_s", "maintenance overrun", "overrun_down_s"),
    ("unknown_s", "unknown (stale or no data)", None),
)


@dataclass(frozen=True, slots=True)
class BucketRow:
    key: str  # "up", "degraded", … (the field without `_s`)
    label: str
    seconds: float
    time: str  # "3 h 5 min"
    share: float | None  # of the service time
    counted_down: str | None  # "of which counted as down: 40 min"


@dataclass(frozen=True, slots=True)
class PeriodView:
    label: str  # "November 2026", "22 Oct – 21 Nov 2026"
    measured_until: str
    running: bool
    availability: float | None
    met: bool | None
    buckets: tuple[BucketRow, ...]
    service_time: str
    budget_total: str
    budget_used: str
    budget_remaining: str  # "-1 h 5 min" once overspent
    budget_remaining_fraction: float


@dataclass(frozen=True, slots=True)
class BurnRow:
    long: str  # "1h"
    short: str  # "5m"
    long_rate: float
    short_rate: float
    threshold: float
    severity: str  # page | ticket
    firing: bool


@dataclass(frozen=True, slots=True)
class SlaSummary:
    id: str
    name: str
    description: str
    service: str
    resources: tuple[str, ...]
    objective: float  # percent
    rules: str  # "16x5 in America/New_York; degraded counts by capacity; unknown excluded"
    current: PeriodView
    burning: bool  # a pair fires now
    time_to_exhaustion: str | None  # "in 3 d 4 h of service time at the last hour's burn"


@dataclass(frozen=True, slots=True)
class SlaDetail:
    summary: SlaSummary
    periods: tuple[PeriodView, ...]  # newest first
    rates: tuple[tuple[str, float], ...]  # ("5m", 0.0), …
    burn: tuple[BurnRow, ...]
    csv_url: str


def period_label(sla: SlaDefinition, start: datetime, end: datetime) -> str:
    tz = ZoneInfo(sla.timezone)
    a, b = start.astimezone(tz), end.astimezone(tz)
    if isinstance(sla.period, CalendarMonth):
        return f"{a:%B %Y}"
    return f"{a:%d %b %Y %H:%M %Z} – {b:%d %b %Y %H:%M %Z}"


def bucket_rows(report: SlaReport) -> tuple[BucketRow, ...]:
    b = asdict(report.buckets)
    service = b["service_s"]
    return tuple(
        BucketRow(
            key.removesuffix("_s"),
            label,
            b[key],
            human_duration(b[key]),
            b[key] / service if service > 0 else None,
            f"of which counted as down: {human_duration(b[down])}" if down and b[key] else None,
        )
        for key, label, down in BUCKETS
    )


def period_view(sla: SlaDefinition, report: SlaReport, now: datetime) -> PeriodView:
    budget, tz = report.budget, ZoneInfo(sla.timezone)
    left = human_duration(abs(budget.remaining_s))
    return PeriodView(
        label=period_label(sla, report.period.start, report.period.end),
        measured_until=local(report.measured_until, tz),
        running=report.period.end >= now,
        availability=report.availability,
        met=report.met,
        buckets=bucket_rows(report),
        service_time=human_duration(report.buckets.service_s),
        budget_total=human_duration(budget.total_s),
        budget_used=human_duration(budget.used_s),
        budget_remaining=left if budget.remaining_s >= 0 else f"-{left} (overspent)",
        budget_remaining_fraction=budget.remaining_fraction,
    )


def burn_rows(sla: SlaDefinition, report: SlaReport, now: datetime) -> tuple[BurnRow, ...]:
    """Each standard window pair against its threshold (none for a past period)."""
    if not report.burn_rates:
        return ()
    return tuple(
        BurnRow(
            window_label(a.long_window.total_seconds()),
            window_label(a.short_window.total_seconds()),
            a.long_rate,
            a.short_rate,
            a.threshold,
            a.severity,
            a.firing,
        )
        for a in alerts_from(sla, report.burn_rates, now)
    )


def exhaustion(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    if seconds <= 0:
        return "already spent"
    return f"in {human_duration(seconds)} of service time at the last hour's burn"


def rules(sla: SlaDefinition) -> str:
    d = sla.degraded
    degraded = "by capacity" if d.count == "capacity" else f"{d.weight:g} available"
    unknown = "excluded" if sla.unknown == "excluded" else "counted as down"
    hours = f"{sla.service_hours.calendar} service hours in {sla.timezone}"
    return f"{hours}; degraded time counts {degraded}; unknown time {unknown}"


def sla_summary(sla: SlaDefinition, report: SlaReport, now: datetime) -> SlaSummary:
    tte = report.time_to_exhaustion_s
    members = tuple(sla.resources or ())
    return SlaSummary(
        id=sla.id,
        name=sla.name or sla.id,
        description=sla.description or "",
        service=sla.service,
        resources=() if members == (sla.service,) else members,
        objective=sla.objective,
        rules=rules(sla),
        current=period_view(sla, report, now),
        burning=any(r.firing for r in burn_rows(sla, report, now)),
        time_to_exhaustion=exhaustion(tte),
    )


def sla_detail(sla: SlaDefinition, reports: Sequence[SlaReport], now: datetime) -> SlaDetail:
    """`reports`: the current period first, then older ones (`SlaService.past`)."""
    current = reports[0]
    return SlaDetail(
        summary=sla_summary(sla, current, now),
        periods=tuple(period_view(sla, r, now) for r in reports),
        rates=tuple((window_label(r.window.total_seconds()), r.rate) for r in current.burn_rates),
        burn=burn_rows(sla, current, now),
        csv_url=f"/api/v1/slas/{quote(sla.id, safe='')}/report.csv?periods={len(reports)}",
    )
