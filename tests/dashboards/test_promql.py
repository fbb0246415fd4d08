"""Every query of every generated panel, run by a real Prometheus that scrapes a real
facstat: the demo facility served by uvicorn with its collectors running (simulated
sources behind the real collectors), Prometheus scraping it every second and evaluating
the SLA rules of `facstat rules` every second. Variables are replaced as Grafana does
with All selected (the regex of every value; query variables are asked of Prometheus),
`$__rate_interval` by a fixed window, and each query must return data: at least one
series with a number (a series may be NaN, e.g. a burn rate outside service hours)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

import pytest

from api.runtime import Runtime
from dashboards.build import build
from facility.config import load_facility
from facility.settings import demo_facility_file
from slas.rules import render_rules
from slas.sources import slas_of
from tests.conftest import free_port, make_settings, start_server, stop_server
from tests.dashboards import queries as Q
from tests.dashboards.prometheus import Prometheus

DEMO = demo_facility_file()
CONFIG = load_facility(DEMO)
BUILT = build(CONFIG)
PANEL_QUERIES = Q.panel_queries(BUILT)
QUERY_VARIABLES = [
    (name, v) for name, d in BUILT.items() for v in Q.variables(d) if v["type"] == "query"
]
RATE_INTERVAL = "10s"  # ten scrapes; Grafana would use four (datasource timeInterval 1s)
SAMPLES = 5  # scrapes Prometheus must have before the queries run
T = TypeVar("T")
PATIENCE = 30.0  # seconds a query may take to have data (the first Slurm cycle, rules…)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    tmp = tmp_path_factory.mktemp("promql")
    settings = make_settings(
        f"sqlite:///{tmp / 'facstat.db'}", DEMO, demo=True, run_collectors=True
    )
    rt = Runtime.build(settings)
    rt.start()
    live = start_server(rt, free_port())
    rules = render_rules(slas_of(CONFIG, DEMO.parent))
    prom = Prometheus(tmp, live.url.removeprefix("http://"), rules, free_port())
    try:
        checked = prom.check_config()
        assert checked.returncode == 0, checked.stdout + checked.stderr
        prom.start()
        _wait_for_samples(prom)
        yield prom
    finally:
        prom.stop()
        stop_server(live)
        rt.stop()


def _wait_for_samples(prom: Prometheus) -> None:
    expr = f'count_over_time(up{{job="facstat"}}[1m]) >= {SAMPLES} and up{{job="facstat"}} == 1'
    deadline = time.monotonic() + 30
    while not prom.query(expr):
        assert time.monotonic() < deadline, f"Prometheus never scraped facstat:\n{prom.log()}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def values(prometheus: Prometheus) -> dict[str, dict[str, list[str]]]:
    """Per dashboard file, the values of each variable: the facility file's for custom
    variables, Prometheus's for query ones."""
    out: dict[str, dict[str, list[str]]] = {}
    for name, d in BUILT.items():
        out[name] = {}
        for v in Q.variables(d):
            if v["type"] == "custom":
                out[name][v["name"]] = Q.custom_values(v)
            else:
                match, label = Q.label_values(v)
                out[name][v["name"]] = _eventually(partial(prometheus.label_values, label, match))
    return out


def _eventually(ask: Callable[[], list[T]]) -> list[T]:
    """What `ask` returns once it is not empty; empty after PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while not (found := ask()):
        if time.monotonic() > deadline:
            return []
        time.sleep(0.5)
    return found


def test_promtool_accepts_the_prometheus_config_with_the_sla_rules(
    prometheus: Prometheus,
) -> None:
    checked = prometheus.check_config()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout and "rules found" in checked.stdout


@pytest.mark.parametrize(
    ("name", "variable"), QUERY_VARIABLES, ids=[f"{n}:${v['name']}" for n, v in QUERY_VARIABLES]
)
def test_every_query_variable_finds_values_in_prometheus(
    values: dict[str, dict[str, list[str]]], name: str, variable: dict[str, object]
) -> None:
    assert values[name][str(variable["name"])], variable["query"]


def _numbers(prometheus: Prometheus, expr: str) -> list[Any]:
    return [s for s in prometheus.query(expr) if s["value"][1] != "NaN"]


@pytest.mark.parametrize("query", PANEL_QUERIES, ids=[q.id for q in PANEL_QUERIES])
def test_every_panel_query_returns_data_from_prometheus_scraping_facstat(
    prometheus: Prometheus, values: dict[str, dict[str, list[str]]], query: Q.PanelQuery
) -> None:
    expr = Q.substitute(query.expr, values[query.file], RATE_INTERVAL)
    numbers = _eventually(partial(_numbers, prometheus, expr))
    assert numbers, f"no data (or only NaN) for {query.id}:\n{expr}"
