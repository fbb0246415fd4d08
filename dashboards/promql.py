"""PromQL for the dashboards: selectors with template variables, and a state as a number.

Metric names are never written here: callers pass the `MetricSpec` or
`facility.metric_names` constant. Grafana replaces `$name` with the selected
values of a variable (as a regex for multi-value ones) and `$__rate_interval`
with a window of at least four scrape intervals.
"""

from __future__ import annotations

from collections.abc import Iterable

from facility import metric_names as names
from facility.model import SEVERITY, State

RATE = "$__rate_interval"


class Re(str):
    """A label value matched as a regular expression (`=~`)."""

    __slots__ = ()


class Not(str):
    """A label value that must not match (`!=`)."""

    __slots__ = ()


def var(name: str) -> Re:
    """The values selected in the dashboard variable `name`."""
    return Re(f"${name}")


def one_of(values: Iterable[str]) -> Re:
    """A regex for exactly these values (ids may hold dots, which are escaped)."""
    return Re("|".join(v.replace(".", "\\\\.") for v in values))


def sel(metric: str, **labels: str) -> str:
    """`metric{a="x", b=~"$v", c!="y"}`: a `Re` value is a regex, a `Not` one excluded."""
    if not labels:
        return metric
    matchers = [f'{k}{_op(v)}"{v}"' for k, v in labels.items()]
    return f"{metric}{{{', '.join(matchers)}}}"


def _op(value: str) -> str:
    return "=~" if isinstance(value, Re) else "!=" if isinstance(value, Not) else "="


def rate(selector: str) -> str:
    """Per second over Grafana's rate interval."""
    return f"rate({selector}[{RATE}])"


def state_code(by: str = "resource", **labels: str) -> str:
    """The effective state as its severity (up 0 … down 4) from the one-hot
    `facstat_resource_state`: per resource, or the worst per `by` (e.g. system)."""
    terms = [
        f"({sel(names.RESOURCE_STATE, **labels, state=s.value)} == 1) * {SEVERITY[s]}"
        for s in sorted(State, key=SEVERITY.__getitem__)
    ]
    return f"max by ({by}) (\n  " + "\n  or ".join(terms) + "\n)"
