"""The incident store on SQLite and PostgreSQL: one open incident per key, whoever opens it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from facility.store import Store
from slas.incident_store import IncidentStore
from tests.conftest import T0


def values(key: str, at: datetime = T0) -> dict[str, Any]:
    return {
        "key": key, "kind": "alert", "subject": "burn", "title": "Budget burning",
        "status": "triggered", "priority": "P3", "priority_score": 30.0, "explanation": {},
        "impacted": {}, "team": None, "runbooks": [], "opened_at": at, "updated_at": at,
    }  # fmt: skip


def opened(at: datetime = T0) -> dict[str, Any]:
    return {"at": at, "kind": "opened", "actor": "system", "text": "opened", "public": True}


def test_a_second_open_incident_with_the_same_key_is_refused_and_the_first_kept(
    store: Store,
) -> None:
    incidents = IncidentStore(store.engine)
    first = incidents.create(values("burn:sla-a"), opened())
    assert first is not None
    assert incidents.create(values("burn:sla-a"), opened()) is None  # e.g. another process
    assert [i.id for i in incidents.open_incidents()] == [first]
    other = incidents.create(values("burn:sla-b"), opened())
    assert other is not None and other != first


def test_once_resolved_the_key_can_open_again(store: Store) -> None:
    incidents = IncidentStore(store.engine)
    first = incidents.create(values("burn:sla-a"), opened())
    assert first is not None
    incidents.update(first, {"status": "resolved", "resolved_at": T0, "resolved_by": "x"})
    again = incidents.create(values("burn:sla-a"), opened())
    assert again is not None and again != first
    assert incidents.open_by_key("burn:sla-a") is not None
