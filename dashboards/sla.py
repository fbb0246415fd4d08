"""SLAs and error budgets: what facstat's SLA engine exports (`facstat_sla_*`: availability
this period, budget left, burn rate per window) and what Prometheus computes from the
recording rules of `facstat rules` (`facstat:sla_*`): burn rates per alerting window pair.

The engine's figures account planned maintenance and service hours from the intervals;
the rules sample the state at each evaluation. Both should tell the same story.
"""

from __future__ import annotations

from typing import Any

from dashboards import panels as P
from dashboards.page import Page
from dashboards.panels import Query
from dashboards.promql import sel, var
from facility import metric_names as names
from facility.config import FacilityConfig
from slas import rules
from slas.burn import STANDARD_WINDOWS, BurnWindow
from slas.promql import number, window_name

SLA = var("sla")
ALERTS = "ALERTS"  # Prometheus's own series of pending and firing alerts
MONTH_DAYS = 30  # a calendar month counts as 30 days for burn thresholds (slas.burn)
PCT = "percentunit"
ON_BUDGET = "1 = the budget lasts exactly the period."
BUDGET_STEPS = P.steps(("red", None), ("orange", 0), ("green", 0.25))


def pages(config: FacilityConfig) -> list[Page]:
    if config.operations.slas is None:
        return []
    board = P.Board()
    _engine(board)
    _rules(board)
    page = Page(
        "slas",
        "SLAs and error budgets",
        "Availability and error budgets from facstat's SLA engine; burn rates from the "
        "Prometheus rules of `facstat rules` (load them for the second row).",
        board,
        [P.query_var("sla", "SLA", names.SLA_OBJECTIVE, "sla")],
        ("sla",),
    )
    return [page]


def _engine(board: P.Board) -> None:
    def of(metric: str) -> list[Query]:
        return [(sel(metric, sla=SLA), "{{sla}}")]

    hours = "Planned maintenance excluded; only service hours count."
    budget, overspent = of(names.SLA_BUDGET_REMAINING), "Negative once overspent."
    burn = [(sel(names.SLA_BURN_RATE, sla=SLA), "{{sla}} {{window}}")]
    board.row("This period (facstat's SLA engine)")
    board.add_all(
        [
            P.stat("Availability", of(names.SLA_AVAILABILITY), PCT, hours, decimals=3),
            P.stat("Objective", of(names.SLA_OBJECTIVE), PCT, decimals=2),
            P.stat("Error budget left", budget, PCT, overspent, steps=BUDGET_STEPS, decimals=1),
        ]
    )
    board.add_all(
        [
            P.timeseries("Error budget left", budget, PCT, overspent),
            P.timeseries("Burn rate by window", burn, description=ON_BUDGET),
        ],
        w=12,
    )


def _rules(board: P.Board) -> None:
    board.row("Burn rates from the Prometheus rules (facstat rules)")
    for pair in STANDARD_WINDOWS:
        board.add(_pair(pair), w=6)
    bad, eligible = sel(rules.BAD, sla=SLA), sel(rules.ELIGIBLE, sla=SLA)
    board.add(
        P.timeseries(
            "Share counted as down, and eligible",
            [(bad, "{{sla}} down"), (eligible, "{{sla}} eligible")],
            "percentunit",
            "Eligible is 0 out of service hours and in planned maintenance.",
            ratio=True,
        ),
        w=12,
    )
    firing = sel(ALERTS, alertname=rules.BURN_ALERT, alertstate="firing", sla=SLA)
    alerts = f"count({firing}) or vector(0)"
    board.add(
        P.stat("Burn alerts firing", [(alerts, "alerts")], description=rules.BURN_ALERT), w=12
    )


def _pair(pair: BurnWindow) -> Any:
    long, short = window_name(pair.long), window_name(pair.short)
    return P.timeseries(
        f"Burn rate, {long} and {short}",
        [(_burn(long), "{{sla}} " + long), (_burn(short), "{{sla}} " + short)],
        description=f"{pair.severity} when both exceed {number(pair.threshold(MONTH_DAYS))} "
        "for a 30-day or monthly SLA.",
    )


def _burn(window: str) -> str:
    ratio = sel(rules.ERROR_RATIO.format(window=window), sla=SLA)
    return f"{ratio} / on(sla, service) (1 - {sel(rules.OBJECTIVE, sla=SLA)})"
