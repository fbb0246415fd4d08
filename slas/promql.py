"""PromQL expressions for SLA rules: the SLI from `facstat_resource_state`, and local time.

Prometheus has no time zones, so local wall-clock time is `time()` plus the
zone's UTC offset written out as a step function: the offset at the start of a
horizon and one term per transition (DST change) inside it, taken from the
IANA database. Past the horizon the offset stays at its last value, and the
rules must be regenerated (an alert says so).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from facility import metric_names as names
from facility.model import State
from slas.definitions import ServiceHours, SlaDefinition

Horizon = tuple[int, int]  # years [from, to)


def number(x: float) -> str:
    """A float without binary noise: 0.07200000000000001 -> 0.072."""
    return format(x, ".12g")


def members_selector(sla: SlaDefinition, metric: str, state: State | None = None) -> str:
    ids = [r.replace(".", "\\\\.") for r in sla.members]
    match = f'resource="{sla.members[0]}"' if len(ids) == 1 else f'resource=~"{"|".join(ids)}"'
    if state is not None:
        match += f', state="{state.value}"'
    return f"{metric}{{{match}}}"


def _any(sla: SlaDefinition, state: State) -> str:
    """1 when any member is in `state`, else 0."""
    return f"max({members_selector(sla, names.RESOURCE_STATE, state)})"


def bad_expr(sla: SlaDefinition) -> str:
    """The share of the service counted as down right now (worst member state wins)."""
    down, degraded = _any(sla, State.DOWN), _any(sla, State.DEGRADED)
    terms = [down, f"(1 - {down}) * {degraded} * {_degraded_share(sla)}"]
    if sla.unknown == "down":
        terms.append(f"(1 - {down}) * (1 - {degraded}) * {_any(sla, State.UNKNOWN)}")
    return "\n+ ".join(terms)


def eligible_expr(sla: SlaDefinition) -> str:
    """1 unless the worst state is maintenance (or unknown, when unknown is excluded)."""
    down, degraded = _any(sla, State.DOWN), _any(sla, State.DEGRADED)
    unknown, maintenance = _any(sla, State.UNKNOWN), _any(sla, State.MAINTENANCE)
    worse = f"(1 - {down}) * (1 - {degraded})"
    terms = ["1", f"{maintenance} * {worse} * (1 - {unknown})"]
    if sla.unknown == "excluded":
        terms.append(f"{unknown} * {worse}")
    return "\n- ".join(terms)


def _degraded_share(sla: SlaDefinition) -> str:
    fixed = number(1 - sla.degraded.weight)
    if sla.degraded.count == "weight":
        return fixed
    capacity = f"min({members_selector(sla, names.RESOURCE_CAPACITY)})"
    return f"(clamp(1 - {capacity}, 0, 1) or vector({fixed}))"


def gated(sla: SlaDefinition) -> bool:
    """Whether the SLA's service hours are not simply every hour of every day."""
    h = sla.service_hours
    return h.calendar != "24x7" or bool(h.holidays)


def local_time_expr(tz: str, horizon: Horizon) -> str:
    """Local wall-clock time as seconds since 1970-01-01 00:00 local."""
    base, steps = offsets(tz, horizon)
    terms = [f"{delta:+d} * (time() >= bool {at})" for at, delta in steps]
    head = f"time() {base:+d}" if base else "time()"
    return "vector(" + "\n  ".join([head, *terms]) + ")"


def service_hours_expr(hours: ServiceHours, local: str) -> str:
    """1 during service hours, 0 outside, from the local-time series `local`."""
    factors = []
    if len(hours.days) < 7:
        first, last = (min(hours.days) + 1) % 7, (max(hours.days) + 1) % 7  # Sunday is 0
        factors.append(
            f"(day_of_week({local}) >= bool {first}) * (day_of_week({local}) <= bool {last})"
        )
    if hours.day_length < timedelta(days=1):
        start = hours.day_start.hour * 60 + hours.day_start.minute
        minute = f"(hour({local}) * 60 + minute({local}))"
        end = start + int(hours.day_length.total_seconds()) // 60
        factors.append(f"({minute} >= bool {start}) * ({minute} < bool {end})")
    if hours.holidays:
        factors.append(f"(1 - ({_holidays(hours, local)}))")
    return "\n* ".join(factors) or f"({local} * 0 + 1)"


def _holidays(hours: ServiceHours, local: str) -> str:
    days = [int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) for d in hours.holidays]
    return " + ".join(f"({local} >= bool {d}) * ({local} < bool {d + 86400})" for d in days)


def offsets(tz: str, horizon: Horizon) -> tuple[int, list[tuple[int, int]]]:
    """The UTC offset (s) at the horizon's start, and (instant, change) of each transition."""
    zone, (y0, y1) = ZoneInfo(tz), horizon
    t, end = datetime(y0, 1, 1, tzinfo=UTC), datetime(y1, 1, 1, tzinfo=UTC)
    base = prev = _offset(zone, t)
    steps = []
    while t < end:
        nxt = t + timedelta(days=1)
        if _offset(zone, nxt) != prev:
            at = _transition(zone, t, nxt)
            steps.append((int(at.timestamp()), _offset(zone, at) - prev))
            prev = _offset(zone, at)
        t = nxt
    return base, steps


def _offset(zone: ZoneInfo, t: datetime) -> int:
    off = t.astimezone(zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _transition(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """The first second in (lo, hi] whose offset differs from lo's (bisection)."""
    before, a, b = _offset(zone, lo), int(lo.timestamp()), int(hi.timestamp())
    while b - a > 1:
        mid = (a + b) // 2
        a, b = (mid, b) if _offset(zone, datetime.fromtimestamp(mid, UTC)) == before else (a, mid)
    return datetime.fromtimestamp(b, UTC)


def window_name(w: timedelta) -> str:
    """Prometheus duration syntax: 5m, 1h, 1d, 3d."""
    secs = int(w.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def window_ratio(metric_bad: str, metric_eligible: str, sla_id: str, w: timedelta) -> str:
    sel, name = f'{{sla="{sla_id}"}}', window_name(w)
    return (
        f"sum_over_time({metric_bad}{sel}[{name}])\n/ sum_over_time({metric_eligible}{sel}[{name}])"
    )


def horizon_end(horizon: Horizon) -> int:
    """The instant (epoch seconds) the horizon ends: 1 January of its last year, UTC."""
    return int(datetime(horizon[1], 1, 1, tzinfo=UTC).timestamp())
