"""Hypothesis fuzzing of facstat's inputs: clear errors only, nothing stored from
rejected input.

- the facility file: any text, any YAML document, and the test facility with random
  parts changed give a `FacilityConfig` or a `ConfigError`, never another exception;
- the iCalendar importer: the parser is fuzzed in `tests/slas/test_ical.py` (any text
  or bytes, and a real calendar mangled line by line); here the same kind of mangling
  goes through `POST /api/v1/maintenance/import`, which answers 200 or a 4xx problem
  and keeps the source's windows as they were when it refuses;
- observation ingest: `POST /api/v1/observations` with any JSON, and with batches of
  observation-shaped objects whose fields take random values, answers 200 or a 4xx
  problem naming the bad field, never a 5xx, and a rejected batch stores nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.runtime import Runtime
from facility.config import FacilityConfig, parse_facility
from facility.errors import ConfigError
from tests.api.helpers import PROBLEM, RESOURCES
from tests.conftest import AUTH, OPERATOR, SMALL, Clock, make_settings
from tests.slas.test_ical import FRAGMENTS, GOOD, calendar

SMALL_DOC: dict[str, Any] = yaml.safe_load(SMALL.read_text())
# The app under fuzzing is reused across examples (its store only grows), and the rate
# limit is off: it has its own tests, and here it would answer 429 to everything.
REUSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "up", "down", "2026-11-21T12:00:00Z", "scratch", "1e400", "-0"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=25,
)


# -- the facility file ------------------------------------------------------------------


def parsed_or_refused(text: str) -> FacilityConfig | None:
    try:
        return parse_facility(text, "fuzz")
    except ConfigError as exc:
        assert exc.issues, "a ConfigError names at least one problem"
        return None


def outcome(config: FacilityConfig | None) -> None:
    event("parsed" if config is not None else "refused")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_is_a_facility_or_a_config_error(text: str) -> None:
    outcome(parsed_or_refused(text))


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_any_yaml_document_is_a_facility_or_a_config_error(doc: Any) -> None:
    outcome(parsed_or_refused(yaml.safe_dump(doc, allow_unicode=True)))


def _slots(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a parsed YAML document: mapping keys and list indexes."""
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        yield (*path, key)
        yield from _slots(value, (*path, key))


SLOTS = list(_slots(SMALL_DOC))


def _mutate(doc: dict[str, Any], path: tuple[Any, ...], how: str, value: Any) -> None:
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    else:
        parent[last] = value


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_test_facility_with_random_parts_changed_is_a_facility_or_a_config_error(
    data: st.DataObject,
) -> None:
    doc = copy.deepcopy(SMALL_DOC)
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        path = data.draw(st.sampled_from(SLOTS), label="where")
        how = data.draw(st.sampled_from(["replace", "delete", "duplicate"]), label="how")
        try:
            _mutate(doc, path, how, data.draw(json_values, label="value"))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced this place
    outcome(parsed_or_refused(yaml.safe_dump(doc, allow_unicode=True)))


def test_the_unchanged_test_facility_parses() -> None:
    assert parsed_or_refused(yaml.safe_dump(SMALL_DOC)) is not None


# -- over HTTP ----------------------------------------------------------------------------


@pytest.fixture
def rt(db_url: str, clock: Clock) -> Iterator[Runtime]:
    runtime = Runtime.build(make_settings(db_url, rate_limit_per_minute=0), clock=clock)
    yield runtime
    runtime.store.close()


@pytest.fixture
def api(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=rt, start=False), raise_server_exceptions=False) as c:
        yield c


def assert_clear_refusal(r: Any) -> None:
    """A 4xx RFC 9457 problem (never a 5xx)."""
    assert 400 <= r.status_code < 500, f"{r.status_code}: {r.text[:500]}"
    assert r.headers["content-type"] == PROBLEM, r.text[:500]
    body = r.json()
    assert body["status"] == r.status_code and body["detail"], body


def ingest(api: TestClient, rt: Runtime, content: bytes) -> int:
    """Post `content` as a batch; the answer's status, once checked."""
    before = rt.store.count("observation")
    headers = {**AUTH, "Content-Type": "application/json"}
    r = api.post("/api/v1/observations", content=content, headers=headers)
    after = rt.store.count("observation")
    if r.status_code == 200:
        assert after == before + r.json()["accepted"]
        return 200
    assert_clear_refusal(r)
    assert after == before, f"a refused batch stored {after - before} observation(s)"
    return int(r.status_code)


@settings(max_examples=60, deadline=None, suppress_health_check=REUSED)
@given(json_values)
def test_any_json_posted_as_observations_is_stored_or_clearly_refused(
    api: TestClient, rt: Runtime, doc: Any
) -> None:
    event(f"HTTP {ingest(api, rt, json.dumps(doc).encode())}")


@settings(max_examples=60, deadline=None, suppress_health_check=REUSED)
@given(st.binary(max_size=200))
def test_any_bytes_posted_as_observations_are_clearly_refused(
    api: TestClient, rt: Runtime, raw: bytes
) -> None:
    event(f"HTTP {ingest(api, rt, raw)}")


FIELDS = ("resource_id", "observed_at", "source", "state", "capacity", "values", "reasons")


@st.composite
def observation_like(draw: st.DrawFn, now: str) -> dict[str, Any]:
    """A valid observation, then perhaps one field broken, dropped or one key added."""
    out: dict[str, Any] = {
        "resource_id": draw(st.sampled_from(RESOURCES)),
        "observed_at": now,
        "source": draw(st.sampled_from(["fuzz", "slurm-borealis"])),
        "state": draw(st.sampled_from(["up", "degraded", "down", "unknown"])),
    }
    if draw(st.booleans()):
        out["capacity"] = draw(st.floats(0, 1))
    if draw(st.booleans()):
        out["reasons"] = [{"code": "nodes_drained", "message": draw(st.text(max_size=80))}]
    broken = draw(st.sampled_from([None, None, *FIELDS, "extra"]))
    how = draw(st.sampled_from(["junk", "drop"]))
    if broken is not None and how == "drop":
        out.pop(broken, None)
    elif broken is not None:
        out[broken] = draw(JUNK.get(broken, json_values))
    return out


JUNK: dict[str, st.SearchStrategy[Any]] = {
    "resource_id": st.text(max_size=70) | scalars,
    "observed_at": st.sampled_from(["2026-11-21T12:00:00", "2026-13-01T00:00:00Z", "", "x"])
    | st.datetimes().map(lambda d: d.isoformat())
    | scalars,
    "source": st.text(max_size=70) | scalars,
    "state": st.sampled_from(["maintenance", "UP", ""]) | scalars,
    "capacity": st.floats() | scalars,
    "values": st.dictionaries(st.text(max_size=70), st.floats() | scalars, max_size=4),
    "reasons": st.lists(
        st.fixed_dictionaries({"code": st.text(max_size=70), "message": st.text(max_size=600)})
        | json_values,
        max_size=3,
    ),
}


@settings(max_examples=80, deadline=None, suppress_health_check=REUSED)
@given(st.data())
def test_batches_of_observation_shaped_objects_are_stored_or_refused_whole(
    api: TestClient, rt: Runtime, clock: Clock, data: st.DataObject
) -> None:
    now = clock.advance(1).isoformat()
    batch = data.draw(st.lists(observation_like(now), min_size=1, max_size=5), label="batch")
    event(f"HTTP {ingest(api, rt, json.dumps({'observations': batch}).encode())}")


GOOD_CALENDAR = calendar(*GOOD)


@settings(max_examples=40, deadline=None, suppress_health_check=REUSED)
@given(st.data())
def test_a_mangled_calendar_imported_over_http_is_read_or_refused_keeping_the_old_one(
    api: TestClient, rt: Runtime, data: st.DataObject
) -> None:
    url = "/api/v1/maintenance/import?source=fuzz"
    headers = {**OPERATOR, "Content-Type": "text/calendar"}
    first = api.post(url, content=GOOD_CALENDAR.encode(), headers=headers)
    assert first.status_code == 200 and first.json()["windows"] == 1, first.text
    kept = [w for w in rt.ops.windows() if w.source == "ical:fuzz"]
    lines = GOOD_CALENDAR.split("\r\n")
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        at = data.draw(st.integers(0, len(lines) - 1), label="line")
        new = data.draw(FRAGMENTS | st.text(max_size=40), label="text")
        if data.draw(st.booleans(), label="replace"):
            lines[at] = new
        else:
            lines.insert(at, new)
    r = api.post(url, content="\r\n".join(lines).encode("utf-8", "surrogatepass"), headers=headers)
    event(f"HTTP {r.status_code}")
    if r.status_code != 200:
        assert_clear_refusal(r)
        assert [w for w in rt.ops.windows() if w.source == "ical:fuzz"] == kept


NUL = "a\x00b"  # PostgreSQL text columns refuse NUL; SQLite stores it


@pytest.mark.parametrize(
    "change",
    [
        {"source": NUL},
        {"reasons": [{"code": "nodes_drained", "message": NUL}]},
        {"values": {NUL: 1.0}},
        {"resource_id": NUL},
    ],
    ids=["source", "reason message", "value name", "resource id"],
)
def test_a_nul_character_in_any_field_is_stored_or_refused_never_a_server_error(
    api: TestClient, rt: Runtime, clock: Clock, change: dict[str, Any]
) -> None:
    """Found by the batch property above on PostgreSQL (a 500 for `source`)."""
    obs = {"resource_id": "home", "observed_at": clock.now.isoformat(), "source": "t"}
    obs |= {"state": "up", **change}
    ingest(api, rt, json.dumps({"observations": [obs]}).encode())


def test_the_fuzzed_ingest_is_wired_to_a_store_that_counts(
    api: TestClient, rt: Runtime, clock: Clock
) -> None:
    """The property above is only as good as `count`: a real batch moves it."""
    ok = [
        {"resource_id": "home", "observed_at": clock.now.isoformat(), "source": "t", "state": "up"}
    ]
    before = rt.store.count("observation")
    ingest(api, rt, json.dumps({"observations": ok}).encode())
    assert rt.store.count("observation") == before + 1
