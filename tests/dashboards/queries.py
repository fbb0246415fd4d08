"""What the generated dashboards ask Prometheus: every panel query and variable, and the
expressions as Grafana would send them once its variables are replaced."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")
LABEL_VALUES = re.compile(r"^label_values\((?P<match>.+), *(?P<label>\w+)\)$", re.S)


@dataclass(frozen=True)
class PanelQuery:
    file: str
    panel: str
    ref: str
    expr: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.panel}:{self.ref}"


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel but rows, nested ones included."""
    for p in dashboard["panels"]:
        if p["type"] == "row":
            yield from p.get("panels", [])
        else:
            yield p


def panel_queries(built: Mapping[str, Mapping[str, Any]]) -> list[PanelQuery]:
    return [
        PanelQuery(name, p["title"], t["refId"], t["expr"])
        for name, d in built.items()
        for p in panels(d)
        for t in p["targets"]
    ]


def variables(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(dashboard["templating"]["list"])


def custom_values(variable: Mapping[str, Any]) -> list[str]:
    return [o["value"] for o in variable["options"] if o["value"] != "$__all"]


def label_values(variable: Mapping[str, Any]) -> tuple[str, str]:
    """(series selector, label) of a `label_values(…)` query variable."""
    m = LABEL_VALUES.match(variable["query"])
    assert m, f"not a label_values query: {variable['query']}"
    return m["match"], m["label"]


def substitute(expr: str, values: Mapping[str, list[str]], rate_interval: str) -> str:
    """`$var` as Grafana sends it for a multi-value variable with All selected:
    the regex of every value; `$__rate_interval` as a fixed window."""

    def one(m: re.Match[str]) -> str:
        name = m[1] or m[2]
        if name == "__rate_interval":
            return rate_interval
        assert name in values, f"unknown variable ${name} in {expr}"
        return "(" + "|".join(v.replace(".", "\\\\.") for v in values[name]) + ")"

    return VARIABLE.sub(one, expr)
