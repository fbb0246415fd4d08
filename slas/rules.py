"""Prometheus recording and alerting rules for SLAs, over facstat's own metrics.

One rule group per SLA, evaluated in order (later rules read earlier ones at
the same instant)::

    facstat:sla_local_time:seconds     local wall clock      (non-24x7 or holidays only)
    facstat:sla_service_hours:active   1 in service hours    (idem)
    facstat:sla_bad:ratio              share counted as down now: down, the degraded
                                       share, unknown when it counts as down
    facstat:sla_eligible:ratio         1, minus maintenance (and unknown when excluded)
    facstat:sla_error_ratio:rate5m     Σ bad / Σ eligible over the window (5m … 3d)
    FacstatSlaErrorBudgetBurn          one alert per window pair (see `slas.burn`)

The SLI is the interval engine's, sampled at the evaluation interval. An
overrun is plain down or degraded to Prometheus, which counts exactly as the
engine counts it; only the engine can put it in its own bucket. Every series
carries `sla` and `service` labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import yaml

from facility import metric_names as names
from slas import promql
from slas.burn import STANDARD_WINDOWS, WINDOWS, BurnWindow
from slas.calendars import period_days
from slas.definitions import SlaDefinition

LOCAL_TIME = "facstat:sla_local_time:seconds"
SERVICE_HOURS = "facstat:sla_service_hours:active"
BAD = "facstat:sla_bad:ratio"
ELIGIBLE = "facstat:sla_eligible:ratio"
OBJECTIVE = "facstat:sla_objective:ratio"
ERROR_RATIO = "facstat:sla_error_ratio:rate{window}"
BURN_ALERT = "FacstatSlaErrorBudgetBurn"
MEMBERS_ALERT = "FacstatSlaMembersMissing"
HORIZON_ALERT = "FacstatSlaRulesOutdated"
DEFAULT_HORIZON: promql.Horizon = (2024, 2036)
Rule = dict[str, Any]


def rule_groups(
    slas: Sequence[SlaDefinition], horizon: promql.Horizon = DEFAULT_HORIZON
) -> dict[str, Any]:
    """The rule file, as data: one group per SLA (and one for the horizon alert)."""
    groups = [{"name": f"facstat-sla-{s.id}", "rules": sla_rules(s, horizon)} for s in slas]
    if any(promql.gated(s) for s in slas):  # local time is only known up to the horizon
        groups.append({"name": "facstat-sla-meta", "rules": [_horizon_alert(horizon)]})
    return {"groups": groups}


def render_rules(slas: Sequence[SlaDefinition], horizon: promql.Horizon = DEFAULT_HORIZON) -> str:
    """The rule file as YAML, for `promtool check rules` and Prometheus."""
    return yaml.dump(
        rule_groups(slas, horizon), Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True
    )


def sla_rules(sla: SlaDefinition, horizon: promql.Horizon) -> list[Rule]:
    labels = {"sla": sla.id, "service": sla.service}
    objective = f"vector({promql.number(sla.objective / 100)})"
    return [
        *_service_hours(sla, horizon, labels),
        _record(OBJECTIVE, objective, labels),
        _record(BAD, _gate(sla, promql.bad_expr(sla)), labels),
        _record(ELIGIBLE, _gate(sla, promql.eligible_expr(sla)), labels),
        *(_ratio(sla, w, labels) for w in WINDOWS),
        *(_burn_alert(sla, p, labels) for p in STANDARD_WINDOWS),
        _members_alert(sla, labels),
    ]


def _record(name: str, expr: str, labels: dict[str, str]) -> Rule:
    return {"record": name, "expr": expr, "labels": dict(labels)}


def _service_hours(
    sla: SlaDefinition, horizon: promql.Horizon, labels: dict[str, str]
) -> list[Rule]:
    if not promql.gated(sla):
        return []
    local = f'{LOCAL_TIME}{{sla="{sla.id}"}}'
    return [
        _record(LOCAL_TIME, promql.local_time_expr(sla.timezone, horizon), labels),
        _record(SERVICE_HOURS, promql.service_hours_expr(sla.service_hours, local), labels),
    ]


def _gate(sla: SlaDefinition, expr: str) -> str:
    """Only service hours count: multiply by the service-hours series when there is one."""
    if not promql.gated(sla):
        return expr
    return f'(\n{expr}\n)\n* on() {SERVICE_HOURS}{{sla="{sla.id}"}}'


def _ratio(sla: SlaDefinition, w: timedelta, labels: dict[str, str]) -> Rule:
    expr = promql.window_ratio(BAD, ELIGIBLE, sla.id, w)
    return _record(ERROR_RATIO.format(window=promql.window_name(w)), expr, labels)


def _burn_alert(sla: SlaDefinition, p: BurnWindow, labels: dict[str, str]) -> Rule:
    burn = p.threshold(period_days(sla))
    limit = promql.number(burn * sla.budget_ratio)
    long, short = promql.window_name(p.long), promql.window_name(p.short)
    rate = [f'{ERROR_RATIO.format(window=w)}{{sla="{sla.id}"}} > {limit}' for w in (long, short)]
    expr = "\nand\n".join(rate)
    return {
        "alert": BURN_ALERT,
        "expr": expr,
        "labels": {**labels, "severity": p.severity, "long_window": long, "short_window": short},
        "annotations": {
            "summary": f"SLA {sla.id} ({sla.service}): error budget burning over "
            f"{promql.number(burn)}× ({long} and {short})",
            "description": f"The error ratio is above {limit} over the last {long} and {short}: "
            f"at this rate {p.budget_fraction:.0%} of the budget goes in {long}.",
        },
    }


def _members_alert(sla: SlaDefinition, labels: dict[str, str]) -> Rule:
    """No data is not availability: say so when a member's state is not exported."""
    states = promql.members_selector(sla, names.RESOURCE_STATE) + " == 1"
    return {
        "alert": MEMBERS_ALERT,
        "expr": f"(count({states}) or vector(0)) < {len(sla.members)}",
        "for": "10m",
        "labels": {**labels, "severity": "ticket"},
        "annotations": {"summary": f"SLA {sla.id}: the state of a member is not exported"},
    }


def _horizon_alert(horizon: promql.Horizon) -> Rule:
    end = promql.horizon_end(horizon)
    return {
        "alert": HORIZON_ALERT,
        "expr": f"vector(time()) > {end}",
        "labels": {"severity": "ticket"},
        "annotations": {
            "summary": f"SLA rules know time zones until {horizon[1]}: regenerate them",
        },
    }


class _Dumper(yaml.SafeDumper):
    """Block style (`|`) for multi-line expressions, so rule files read like PromQL."""


def _str(dumper: yaml.SafeDumper, s: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None)


_Dumper.add_representer(str, _str)
