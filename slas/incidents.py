"""Incidents from status changes, one per root cause. Pure; `now` is passed in.

Every resource that is not fine is attributed to a *key*: the thing actually
broken. `correlate` turns a batch of status transitions into actions on the
open incidents (open, add or update an impact, recover an impact, resolve):

- a resource down or degraded because of a dependency is an impact of the
  dependency's incident (twenty services degraded by a scratch outage are one
  incident about scratch, listing twenty impacts);
- a resource that is `unknown` because its collector is silent or failing is an
  impact of an incident about that *collector*, not an outage of the resource;
- a resource in planned maintenance (or degraded only because a dependency is)
  is no incident; one still down after its window (overrun) is;
- a resource never observed yet (start-up) is no incident;
- an incident opens only if a resource it concerns has a service tier, and
  resolves when every resource it impacted has recovered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from facility.model import EffectiveStatus, State, Transition

Kind = Literal["outage", "collector"]
SILENT = frozenset({"stale", "collector_error", "collector_timeout"})
NEVER_SEEN = "no_data"


@dataclass(frozen=True, slots=True)
class Impact:
    resource_id: str
    state: str
    summary: str
    since: datetime


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """What correlation needs to know of an open incident."""

    key: str
    impacted: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Open:
    key: str
    kind: Kind
    subject: str  # the root resource id, or the collector's name
    impact: Impact


@dataclass(frozen=True, slots=True)
class Affect:
    key: str
    impact: Impact


@dataclass(frozen=True, slots=True)
class Recover:
    key: str
    resource_id: str
    state: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Resolve:
    key: str
    at: datetime
    why: str = "every impacted resource recovered"


Action = Open | Affect | Recover | Resolve


@dataclass
class _Book:
    """Open incidents' impacts while a batch is folded in."""

    impacted: dict[str, set[str]] = field(default_factory=dict)

    def key_of_resource(self, rid: str) -> str | None:
        return next((k for k, rs in self.impacted.items() if rid in rs), None)


def key_of(
    rid: str, statuses: Mapping[str, EffectiveStatus], depends: Mapping[str, Sequence[str]]
) -> str | None:
    """What is broken when `rid` is not fine (None: nothing to page about)."""
    s = statuses.get(rid)
    if s is None or s.state in (State.UP, State.MAINTENANCE):
        return None
    codes = {r.code for r in s.reasons}
    if s.state == State.UNKNOWN:
        return _unknown_key(rid, s, codes, statuses, depends)
    if s.root_cause is not None and s.root_cause.resource_id != rid:
        root = statuses.get(s.root_cause.resource_id)
        if root is not None and root.state == State.MAINTENANCE:
            return None if codes <= {"dependency"} else f"resource:{rid}"
        return key_of(s.root_cause.resource_id, statuses, depends) or f"resource:{rid}"
    return f"resource:{rid}"


def _unknown_key(
    rid: str,
    s: EffectiveStatus,
    codes: set[str],
    statuses: Mapping[str, EffectiveStatus],
    depends: Mapping[str, Sequence[str]],
) -> str | None:
    if NEVER_SEEN in codes:
        return None
    for dep in depends.get(rid, ()):  # e.g. partitions unknown because slurmctld is down
        d = statuses.get(dep)
        if d is not None and d.state in (State.DOWN, State.DEGRADED):
            return key_of(dep, statuses, depends)
    if codes & SILENT or s.source:
        # a pushing process names itself before a slash (`facstat collect --name`): all
        # its resources going silent is one incident about it, not one per adapter
        return f"collector:{(s.source or 'unknown').split('/', 1)[0]}"
    return f"resource:{rid}"


def correlate(
    transitions: Iterable[Transition],
    open_incidents: Iterable[OpenIncident],
    statuses: Mapping[str, EffectiveStatus],
    depends: Mapping[str, Sequence[str]],
    tiers: Mapping[str, str | None],
    now: datetime,
) -> list[Action]:
    """The actions a batch of transitions causes on the open incidents."""
    book = _Book({i.key: set(i.impacted) for i in open_incidents})
    actions: list[Action] = []
    for t in transitions:
        actions += _fold(book, t.after, statuses, depends, tiers, now)
    for key, rs in book.impacted.items():
        if not rs and any(isinstance(a, Recover) and a.key == key for a in actions):
            actions.append(Resolve(key, now))
    return actions


def _fold(
    book: _Book,
    s: EffectiveStatus,
    statuses: Mapping[str, EffectiveStatus],
    depends: Mapping[str, Sequence[str]],
    tiers: Mapping[str, str | None],
    now: datetime,
) -> list[Action]:
    rid = s.resource_id
    old, new = book.key_of_resource(rid), key_of(rid, statuses, depends)
    out: list[Action] = []
    if old is not None and old != new:
        book.impacted[old].discard(rid)
        out.append(Recover(old, rid, s.state.value, now))
    if new is None:
        return out
    impact = Impact(rid, s.state.value, _summary(s), s.since or now)
    if new in book.impacted:
        book.impacted[new].add(rid)
        return [*out, Affect(new, impact)]
    subject = new.split(":", 1)[1]
    if tiers.get(rid) is None and tiers.get(subject) is None:
        return out  # nothing here has a service tier: not paged
    book.impacted[new] = {rid}
    kind: Kind = "collector" if new.startswith("collector:") else "outage"
    return [*out, Open(new, kind, subject, impact)]


def _summary(s: EffectiveStatus) -> str:
    why = "; ".join(r.message for r in s.reasons)
    return f"{s.state.value}: {why}" if why else s.state.value


def title_of(kind: Kind, subject: str, names: Mapping[str, str]) -> str:
    if kind == "collector":
        return f"Collector {subject} is silent or failing"
    return f"{names.get(subject, subject)} is not working normally"
