"""View-models of SLA reports (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from api.views import ts
from slas.burn import STANDARD_WINDOWS, window_label
from slas.calendars import period_days
from slas.definitions import SlaDefinition
from slas.sla import SlaReport

CSV_BUCKETS = (
    "service_s",
    "up_s",
    "degraded_s",
    "degraded_down_s",
    "down_s",
    "maintenance_s",
    "overrun_s",
    "overrun_down_s",
    "unknown_s",
)


def report_out(sla: SlaDefinition, r: SlaReport) -> dict[str, Any]:
    days = period_days(sla)
    return {
        "sla": sla.id,
        "name": sla.name or sla.id,
        "description": sla.description,
        "service": sla.service,
        "resources": list(sla.resources or ()),
        "objective_percent": sla.objective,
        "period": {"start": ts(r.period.start), "end": ts(r.period.end)},
        "measured_until": ts(r.measured_until),
        "availability": r.availability,
        "met": r.met,
        "buckets": asdict(r.buckets),
        "error_budget": asdict(r.budget),
        "burn_rates": [
            {"window": window_label(b.window.total_seconds()), "rate": b.rate} for b in r.burn_rates
        ],
        "burn_thresholds": [
            {
                "long": window_label(w.long.total_seconds()),
                "short": window_label(w.short.total_seconds()),
                "threshold": w.threshold(days),
                "severity": w.severity,
            }
            for w in STANDARD_WINDOWS
        ],
        "time_to_exhaustion_s": r.time_to_exhaustion_s,
    }


def reports_csv(sla: SlaDefinition, reports: list[SlaReport]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(
        [
            "sla",
            "period_start",
            "period_end",
            "measured_until",
            "availability",
            "objective",
            "met",
            *CSV_BUCKETS,
            "budget_total_s",
            "budget_used_s",
            "budget_remaining_s",
        ]
    )
    for r in reports:
        b = asdict(r.buckets)
        w.writerow(
            [
                sla.id,
                ts(r.period.start),
                ts(r.period.end),
                ts(r.measured_until),
                "" if r.availability is None else f"{r.availability:.6f}",
                round(sla.objective / 100, 6),
                "" if r.met is None else str(r.met).lower(),
                *(f"{b[k]:.0f}" for k in CSV_BUCKETS),
                f"{r.budget.total_s:.0f}",
                f"{r.budget.used_s:.0f}",
                f"{r.budget.remaining_s:.0f}",
            ]
        )
    return out.getvalue()
