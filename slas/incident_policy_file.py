"""The incident policy file: reading it, validating it, and checking what it names.

`load_incident_policy` never raises anything but `IncidentPolicyError` (an `SlaError`
and a facility `ConfigError`), whose issues name the YAML path and the problem, e.g.
``teams[0].rotation.members[1]: unknown person 'bbo'`` or ``routes[2].receivers[0]:
unknown receiver 'pager'``. An empty file is a valid policy (every default applies).
The models are in `slas.incident_policy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from facility.config import yaml_path
from facility.errors import ConfigError, Issue
from slas.errors import SlaError
from slas.incident_policy import IncidentPolicy, Route, Team
from slas.oncall import override_span
from slas.yaml_source import parse_mapping, read_source

_UNION_TAGS = frozenset({"datetime", "date"})


class IncidentPolicyError(SlaError, ConfigError):
    """An incident policy file failed validation; `issues` name each problem by YAML path."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        ConfigError.__init__(self, source, issues)


@dataclass(frozen=True, slots=True)
class _Known:
    systems: frozenset[str]
    resource_types: frozenset[str] | None
    resources: frozenset[str] | None


def load_incident_policy(
    source: str | Path,
    known_systems: Iterable[str],
    known_resource_types: Iterable[str] | None = None,
    known_resources: Iterable[str] | None = None,
) -> IncidentPolicy:
    """Read a policy file (a `Path`, or a one-line `str` naming a file) or YAML text.

    Names of systems, resource types and resources are checked against the `known_`
    ones (types and resources only when given). Raises `IncidentPolicyError`.
    """
    name, text = _read(source)
    try:
        policy = IncidentPolicy.model_validate(_parse(name, text))
    except ValidationError as exc:
        raise IncidentPolicyError(name, _issues(exc)) from exc
    known = _Known(frozenset(known_systems), _set(known_resource_types), _set(known_resources))
    issues = _check(policy, known)
    if issues:
        raise IncidentPolicyError(name, issues)
    return policy


def _check(policy: IncidentPolicy, known: _Known) -> list[Issue]:
    """Every reference the models alone cannot check, as issues (empty: all fine)."""
    return [
        *_duplicates(policy),
        *(i for n, t in enumerate(policy.teams) for i in _team(n, t, policy, known)),
        *_ownership(policy.teams),
        *(i for n, r in enumerate(policy.routes) for i in _route(n, r, policy, known)),
        *_unreachable(policy.routes),
    ]


def _read(source: str | Path) -> tuple[str, str]:
    return read_source(source, "incident policy", IncidentPolicyError)


def _parse(name: str, text: str) -> Any:
    return parse_mapping(name, text, IncidentPolicyError, empty_ok=True)


def _issues(exc: ValidationError) -> list[Issue]:
    """One issue per path (a union reports each of its members' errors)."""
    out: dict[str, Issue] = {}
    for err in exc.errors():
        path = yaml_path(tuple(p for p in err["loc"] if p not in _UNION_TAGS))
        out.setdefault(path, Issue(path, str(err["msg"]).removeprefix("Value error, ")))
    return list(out.values())


def _set(names: Iterable[str] | None) -> frozenset[str] | None:
    return None if names is None else frozenset(names)


def _duplicates(policy: IncidentPolicy) -> Iterator[Issue]:
    for section in ("people", "teams", "receivers"):
        seen: set[str] = set()
        for n, item in enumerate(getattr(policy, section)):
            if item.id in seen:
                yield Issue(f"{section}[{n}].id", f"duplicate id {item.id!r}")
            seen.add(item.id)


def _unknown(
    path: str, kind: str, names: Iterable[str], known: Iterable[str] | None
) -> Iterator[Issue]:
    if known is None:
        return
    allowed = frozenset(known)
    for j, name in enumerate(names):
        if name not in allowed:
            yield Issue(f"{path}[{j}]", f"unknown {kind} {name!r}")


def _team(n: int, team: Team, policy: IncidentPolicy, known: _Known) -> Iterator[Issue]:
    at, people = f"teams[{n}]", [p.id for p in policy.people]
    yield from _unknown(f"{at}.systems", "system", team.systems, known.systems)
    yield from _unknown(
        f"{at}.resource_types", "resource type", team.resource_types, known.resource_types
    )
    yield from _unknown(f"{at}.rotation.members", "person", team.rotation.members, people)
    yield from _unknown(f"{at}.escalate_to", "person", team.escalate_to, people)
    for j, o in enumerate(team.overrides):
        if o.person not in people:
            yield Issue(f"{at}.overrides[{j}].person", f"unknown person {o.person!r}")
    yield from _overlaps(at, team)


def _overlaps(at: str, team: Team) -> Iterator[Issue]:
    zone = ZoneInfo(team.timezone)
    spans = [override_span(o, zone) for o in team.overrides]
    for (i, a), (j, b) in combinations(enumerate(spans), 2):
        if a[0] < b[1] and b[0] < a[1]:
            yield Issue(f"{at}.overrides[{j}]", f"overlaps overrides[{i}]: who is on call?")


def _ownership(teams: tuple[Team, ...]) -> Iterator[Issue]:
    """Two teams may not own the same resources (a more specific `resource_types` may)."""
    for (_, a), (j, b) in combinations(enumerate(teams), 2):
        for k, system in enumerate(b.systems):
            shared = set(a.resource_types) & set(b.resource_types)
            if system in a.systems and (shared or not (a.resource_types or b.resource_types)):
                types = ", ".join(sorted(shared))
                what = (
                    f"{types} resources on system {system!r} are"
                    if shared
                    else f"system {system!r} is"
                )
                yield Issue(f"teams[{j}].systems[{k}]", f"{what} also owned by team {a.id!r}")


def _route(n: int, r: Route, policy: IncidentPolicy, known: _Known) -> Iterator[Issue]:
    at, m = f"routes[{n}]", r.match
    yield from _unknown(
        f"{at}.receivers", "receiver", r.receivers, [x.id for x in policy.receivers]
    )
    yield from _unknown(f"{at}.match.teams", "team", m.teams or (), [t.id for t in policy.teams])
    yield from _unknown(f"{at}.match.systems", "system", m.systems or (), known.systems)
    types = m.resource_types or ()
    yield from _unknown(f"{at}.match.resource_types", "resource type", types, known.resource_types)
    yield from _unknown(f"{at}.match.resources", "resource", m.resources or (), known.resources)


def _unreachable(routes: tuple[Route, ...]) -> Iterator[Issue]:
    final = next(
        (i for i, r in enumerate(routes) if r.match.matches_everything and not r.continue_), None
    )
    if final is not None and final < len(routes) - 1:
        reason = f"never reached: routes[{final}] matches everything and does not continue"
        yield Issue(f"routes[{final + 1}]", reason)
