"""SLA burn and Alertmanager alerts as incident inputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from facility.model import Interval, ProbeState, State
from slas.incident_alerts import burn, observation, received, resource_of
from slas.notify import parse_alertmanager_webhook
from slas.sla import report
from slas.sla_file import load_slas

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
DATA = Path(__file__).parents[1] / "data"
SLAS = """
slas:
  - {id: scratch-monthly, service: scratch, objective: 99.5, period: month}
"""


def timeline(down_minutes: int) -> dict[str, list[Interval]]:
    start = NOW - timedelta(days=20)
    cut = NOW - timedelta(minutes=down_minutes)
    return {
        "scratch": [
            Interval("scratch", start, cut, State.UP, 1.0),
            Interval("scratch", cut, NOW, State.DOWN, 0.0),
        ]
    }


def test_an_hour_of_outage_burns_fast_enough_to_page_as_p2() -> None:
    (sla,) = load_slas(SLAS, ["scratch"])
    alerts = burn([(sla, report(sla, timeline(60), NOW))], NOW)
    alert = alerts["sla:scratch-monthly"]
    assert alert.kind == "burn" and alert.priority == "P2" and alert.resource_id == "scratch"
    assert alert.name == "FacstatSlaErrorBudgetBurn" and "1h/5m" in alert.why


def test_a_healthy_service_burns_nothing() -> None:
    (sla,) = load_slas(SLAS, ["scratch"])
    assert (
        burn([(sla, report(sla, timeline(0) | {"scratch": timeline(1)["scratch"][:1]}, NOW))], NOW)
        == {}
    )


def test_a_recorded_alertmanager_alert_about_a_resource_is_an_observation() -> None:
    (alert,) = parse_alertmanager_webhook((DATA / "alertmanager" / "firing.json").read_bytes())[:1]
    assert resource_of(alert, {"home": 1}) is None
    other = received(alert)
    assert other.kind == "alert" and other.key == f"alert:{alert.fingerprint}"
    payload = json.loads((DATA / "alertmanager" / "firing.json").read_text())
    payload["alerts"][0]["labels"] |= {"resource": "home", "severity": "warning"}
    (about_home, *_) = parse_alertmanager_webhook(json.dumps(payload).encode())
    assert resource_of(about_home, {"home": 1}) == "home"
    obs = observation(about_home, "home", NOW)
    assert obs.state == ProbeState.DEGRADED and obs.reasons[0].code == "alert_firing"
