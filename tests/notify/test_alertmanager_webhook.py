"""Alertmanager's webhook payload (version 4) parsed without the daemon: the bodies the real
Alertmanager 0.25 sent (tests/data/alertmanager/, recorded by test_alertmanager.py), variants
of them, and hostile bodies."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slas.notify import AlertmanagerPayloadError, ReceivedAlert, parse_alertmanager_webhook
from slas.notify_received import MAX_ALERTS, MAX_BYTES

RECORDINGS = Path(__file__).parents[1] / "data" / "alertmanager"


def recorded(name: str = "firing.json") -> dict[str, Any]:
    return dict(json.loads((RECORDINGS / name).read_bytes()))


def body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def rejected(raw: bytes) -> AlertmanagerPayloadError:
    with pytest.raises(AlertmanagerPayloadError) as err:
        parse_alertmanager_webhook(raw)
    return err.value


def test_the_recorded_firing_notification_parses_into_our_incident() -> None:
    [alert] = parse_alertmanager_webhook((RECORDINGS / "firing.json").read_bytes())
    assert isinstance(alert, ReceivedAlert)
    assert (alert.status, alert.name, alert.fingerprint) == (
        "firing",
        "FacstatIncident",
        "6e6ff09907bc6e61",
    )
    assert dict(alert.labels) == {
        "alertname": "FacstatIncident",
        "facility": "ls1",
        "incident": "inc-12",
        "priority": "P1",
        "resource": "lustre-home",
        "severity": "page",
    }
    assert alert.annotations["runbook_url"] == "https://facstat.example/runbooks/lustre-down"
    assert alert.starts_at.tzinfo is UTC and alert.starts_at.year == 2026
    assert alert.ends_at is None  # Go's zero time: no end yet
    assert alert.generator_url == "https://facstat.example/incidents/inc-12"


def test_the_recorded_resolved_notification_has_an_end() -> None:
    [alert] = parse_alertmanager_webhook((RECORDINGS / "resolved.json").read_bytes())
    assert alert.status == "resolved"
    assert alert.ends_at is not None and alert.ends_at >= alert.starts_at


def test_labels_cannot_be_changed_through_the_result() -> None:
    [alert] = parse_alertmanager_webhook((RECORDINGS / "firing.json").read_bytes())
    with pytest.raises(TypeError):
        alert.labels["priority"] = "P4"  # type: ignore[index]


def test_a_group_of_prometheus_alerts_with_nanosecond_times_and_offsets_parses() -> None:
    doc = recorded()
    second = copy.deepcopy(doc["alerts"][0])
    second.update(
        labels={"alertname": "NodeDown", "instance": "n17:9100", "job": "node"},
        annotations={},
        startsAt="2026-11-21T13:52:26.739266876+02:00",
        endsAt="2026-11-21T12:10:00.5Z",
        status="resolved",
        fingerprint="1a30ba71cca2921f",
        generatorURL="http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
    )
    doc["alerts"].append(second)
    first, node = parse_alertmanager_webhook(body(doc))
    assert first.name == "FacstatIncident"
    assert node.name == "NodeDown"
    assert node.starts_at == datetime(2026, 11, 21, 11, 52, 26, 739266, tzinfo=UTC)
    assert node.ends_at == datetime(2026, 11, 21, 12, 10, 0, 500000, tzinfo=UTC)
    assert dict(node.annotations) == {}


def test_fields_alertmanager_may_add_later_are_ignored() -> None:
    doc = recorded()
    doc["orgId"] = 1
    doc["alerts"][0]["silenceURL"] = "http://vm:9093/#/silences/new"
    doc["alerts"][0]["values"] = {"B": 44.2}
    assert len(parse_alertmanager_webhook(body(doc))) == 1


def test_a_payload_without_truncated_alerts_from_an_older_alertmanager_parses() -> None:
    doc = recorded()
    del doc["truncatedAlerts"]
    assert len(parse_alertmanager_webhook(body(doc))) == 1


def test_an_empty_alert_list_is_no_alerts() -> None:
    doc = recorded()
    doc["alerts"] = []
    assert parse_alertmanager_webhook(body(doc)) == []


def _without(path: tuple[str | int, ...]) -> dict[str, Any]:
    doc = recorded()
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return doc


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("alerts", 0, "startsAt"), "alerts[0].startsAt"),
        (("alerts", 0, "endsAt"), "alerts[0].endsAt"),
        (("alerts", 0, "fingerprint"), "alerts[0].fingerprint"),
        (("alerts", 0, "labels"), "alerts[0].labels"),
        (("alerts", 0, "status"), "alerts[0].status"),
        (("alerts",), "alerts"),
        (("version",), "version"),
        (("groupKey",), "groupKey"),
        (("commonLabels",), "commonLabels"),
        (("externalURL",), "externalURL"),
    ],
)
def test_a_missing_field_is_named(path: tuple[str | int, ...], field: str) -> None:
    error = rejected(body(_without(path)))
    assert error.field == field
    assert "required" in error.reason.lower()


def _with(path: tuple[str | int, ...], value: Any) -> bytes:
    doc = recorded()
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return body(doc)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("version",), "3", "version"),
        (("version",), 4, "version"),
        (("status",), "pending", "status"),
        (("alerts", 0, "status"), "FIRING", "alerts[0].status"),
        (("alerts", 0, "startsAt"), "2026-11-21T12:00:00", "alerts[0].startsAt"),
        (("alerts", 0, "startsAt"), "yesterday", "alerts[0].startsAt"),
        (("alerts", 0, "startsAt"), 1700000000, "alerts[0].startsAt"),
        (("alerts", 0, "startsAt"), "0001-01-01T00:00:00+02:00", "alerts[0].startsAt"),
        (("alerts", 0, "endsAt"), None, "alerts[0].endsAt"),
        (("alerts", 0, "labels", "priority"), 1, "alerts[0].labels.priority"),
        (("alerts", 0, "labels", "bad-name"), "x", "alerts[0].labels.bad-name (the name)"),
        (("alerts", 0, "labels", "alertname"), "", "alerts[0].labels.alertname"),
        (("alerts", 0, "annotations"), ["summary"], "alerts[0].annotations"),
        (("alerts", 0, "fingerprint"), "not hex!", "alerts[0].fingerprint"),
        (("alerts", 0, "fingerprint"), "", "alerts[0].fingerprint"),
        (("alerts", 0), "an alert", "alerts[0]"),
        (("alerts",), {"0": {}}, "alerts"),
        (("truncatedAlerts",), -1, "truncatedAlerts"),
    ],
)
def test_a_wrong_value_is_named_with_its_path(
    path: tuple[str | int, ...], value: Any, field: str
) -> None:
    assert rejected(_with(path, value)).field == field


def test_a_missing_alertname_is_named() -> None:
    error = rejected(body(_without(("alerts", 0, "labels", "alertname"))))
    assert (error.field, error.reason) == (
        "alerts[0].labels.alertname",
        "required, and must not be empty",
    )


def test_the_error_message_names_the_field_and_counts_the_others() -> None:
    doc = recorded()
    del doc["alerts"][0]["startsAt"]
    del doc["receiver"]
    error = rejected(body(doc))
    assert str(error).startswith("receiver: Field required (and 1 more)")
    assert [i.path for i in error.issues] == ["receiver", "alerts[0].startsAt"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"null",
        b"[]",
        b'"a string"',
        b'{"version": "4"',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    ],
)
def test_garbage_is_rejected_with_an_error_not_a_crash(raw: bytes) -> None:
    error = rejected(raw)
    assert error.field


def test_a_body_over_the_size_cap_is_rejected_before_it_is_read() -> None:
    doc = recorded()
    doc["alerts"][0]["annotations"]["description"] = "x" * MAX_BYTES
    error = rejected(body(doc))
    assert error.field == "body"
    assert "bytes, more than 1048576" in error.reason
    assert len(parse_alertmanager_webhook(body(recorded()), max_bytes=10_000)) == 1
    assert rejected_with_cap(body(recorded()), 100).field == "body"


def rejected_with_cap(raw: bytes, cap: int) -> AlertmanagerPayloadError:
    with pytest.raises(AlertmanagerPayloadError) as err:
        parse_alertmanager_webhook(raw, max_bytes=cap)
    return err.value


def test_more_alerts_than_the_cap_are_rejected() -> None:
    doc = recorded()
    one = doc["alerts"][0]
    doc["alerts"] = [one] * MAX_ALERTS
    assert len(parse_alertmanager_webhook(body(doc))) == MAX_ALERTS
    doc["alerts"] = [one] * (MAX_ALERTS + 1)
    error = rejected(body(doc))
    assert error.field == "alerts"
    assert "at most 1000" in error.reason


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_either_parse_or_raise_the_payload_error(raw: bytes) -> None:
    with contextlib.suppress(AlertmanagerPayloadError):
        parse_alertmanager_webhook(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["version", "status", "alerts", "groupLabels", "externalURL"]), json_values)
def test_any_value_in_a_top_level_field_parses_or_raises_the_payload_error(
    field: str, value: Any
) -> None:
    doc = recorded()
    doc[field] = value
    try:
        parse_alertmanager_webhook(body(doc))
    except AlertmanagerPayloadError as error:
        assert error.field.startswith(field)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        ["status", "labels", "annotations", "startsAt", "endsAt", "fingerprint", "generatorURL"]
    ),
    json_values,
)
def test_any_value_in_an_alert_field_parses_or_raises_the_payload_error(
    field: str, value: Any
) -> None:
    doc = recorded()
    doc["alerts"][0][field] = value
    try:
        parse_alertmanager_webhook(body(doc))
    except AlertmanagerPayloadError as error:
        assert error.field.startswith(f"alerts[0].{field}")
