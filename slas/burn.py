"""Multi-window burn rates, and the burn alerts they raise for the incident engine.

A burn rate is the error ratio over a window divided by the error budget ratio:
at 1.0 the budget lasts exactly the period. Windows are wall-clock stretches
ending at `now`; only their service hours count (a window with none burns 0).

The standard pairs are those for a 30-day period: 1h/5m at 14.4×, 6h/30m at
6× (page), 1d/2h at 3×, 3d/6h at 1× (ticket). What is kept for other periods
is the share of the budget each pair lets go before alerting (2 %, 5 %, 10 %,
10 %); the windows stay and the threshold follows the period:

    threshold = budget_fraction × period_length / long_window

A calendar month counts as 30 days here, so monthly and 30-day SLAs alert
alike; a 7-day SLA pages at 3.36× on the 1h/5m pair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from facility.model import Interval
from slas.calendars import aware, period_days, service_clock
from slas.definitions import SlaDefinition
from slas.ledger import Buckets, Ledger, ledger

Severity = Literal["page", "ticket"]


@dataclass(frozen=True, slots=True)
class BurnWindow:
    """A long/short window pair and the share of the budget it may spend unseen."""

    long: timedelta
    short: timedelta
    budget_fraction: float
    severity: Severity

    def threshold(self, days: float) -> float:
        return self.budget_fraction * days * 86400 / self.long.total_seconds()


STANDARD_WINDOWS = (
    BurnWindow(timedelta(hours=1), timedelta(minutes=5), 0.02, "page"),
    BurnWindow(timedelta(hours=6), timedelta(minutes=30), 0.05, "page"),
    BurnWindow(timedelta(days=1), timedelta(hours=2), 0.10, "ticket"),
    BurnWindow(timedelta(days=3), timedelta(hours=6), 0.10, "ticket"),
)
WINDOWS = tuple(sorted({w for p in STANDARD_WINDOWS for w in (p.long, p.short)}))
LONGEST = WINDOWS[-1]
CURRENT = timedelta(hours=1)  # the window whose burn "time to exhaustion" extrapolates


def window_label(seconds: float) -> str:
    """A window as its label: `5m`, `1h`, `3d`."""
    s = int(seconds)
    if s % 86400 == 0:
        return f"{s // 86400}d"
    return f"{s // 3600}h" if s % 3600 == 0 else f"{s // 60}m"


@dataclass(frozen=True, slots=True)
class BurnRate:
    window: timedelta
    rate: float


@dataclass(frozen=True, slots=True)
class BurnAlert:
    """One window pair of one SLA at `at`: firing when both windows burn above threshold."""

    sla_id: str
    service: str
    severity: Severity
    long_window: timedelta
    short_window: timedelta
    long_rate: float
    short_rate: float
    threshold: float
    firing: bool
    at: datetime


class BurnAlertSink(Protocol):
    """Where burn alerts go (the incident engine, Alertmanager…); adapters implement it."""

    def publish(self, alerts: Sequence[BurnAlert]) -> None: ...


def burn_rate(b: Buckets, sla: SlaDefinition) -> float:
    """Error ratio of `b` over the budget ratio; 0 without eligible time."""
    eligible = b.eligible_s(sla.unknown)
    return b.bad_s(sla.unknown) / eligible / sla.budget_ratio if eligible > 0 else 0.0


def burn_rates(book: Ledger, sla: SlaDefinition, now: datetime) -> tuple[BurnRate, ...]:
    """The burn rate over each standard window ending at `now` (shortest first)."""
    return tuple(BurnRate(w, burn_rate(book.buckets(now - w, now), sla)) for w in WINDOWS)


def alerts_from(sla: SlaDefinition, rates: Sequence[BurnRate], now: datetime) -> list[BurnAlert]:
    """One alert per standard pair, firing or not, from rates `burn_rates` gave."""
    by_window = {r.window: r.rate for r in rates}
    days = period_days(sla)
    return [
        _alert(sla, p, by_window[p.long], by_window[p.short], p.threshold(days), now)
        for p in STANDARD_WINDOWS
    ]


def _alert(
    sla: SlaDefinition, p: BurnWindow, long: float, short: float, threshold: float, now: datetime
) -> BurnAlert:
    return BurnAlert(
        sla_id=sla.id,
        service=sla.service,
        severity=p.severity,
        long_window=p.long,
        short_window=p.short,
        long_rate=long,
        short_rate=short,
        threshold=threshold,
        firing=long > threshold and short > threshold,
        at=now,
    )


def burn_alerts(
    sla: SlaDefinition, timelines: Mapping[str, Sequence[Interval]], now: datetime
) -> list[BurnAlert]:
    """The burn alerts of `sla` at `now`, from its members' timelines."""
    lo = aware(now) - LONGEST
    clock = service_clock(sla.service_hours, sla.timezone, lo, now)
    return alerts_from(sla, burn_rates(ledger(sla, timelines, lo, now, clock), sla, now), now)
