"""Which runbooks help with an incident, best first, and why. Pure.

A runbook matches when any list of its `applies_to` names something about the
incident. Its score adds up what it names, in tiers, so that a stronger kind of
match always outranks any number of weaker ones:

| what the runbook names                     | points                                   |
|--------------------------------------------|------------------------------------------|
| the resource itself (`resources`)          | 1 000 000                                |
| a reason code of the incident              | 100 000, plus 10 000 × (9 − position of  |
|                                            | the first one it names, 0-based, max 9)  |
| each further reason code of the incident   | 1 000 (at most 9)                        |
| an alert of the incident                   | 100                                      |
| the collector kind of the resource         | 10                                       |
| the resource type                          | 1                                        |

Reasons come in the order the status gives them, the most telling first (a
partition's own DOWN state before its drained nodes, an overrun before the rest),
so among runbooks naming a code, the one for the first reason wins. Equal scores
go by runbook id. `why` says, in words, what each point came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from facility.config import Resource
from runbooks.model import Runbook

RESOURCE = 1_000_000
REASON = 100_000
REASON_RANK = 10_000
MORE_REASONS = 1_000
ALERT = 100
COLLECTOR_KIND = 10
RESOURCE_TYPE = 1
RANKS = 9


@dataclass(frozen=True, slots=True)
class MatchInput:
    """What is known about an incident's resource and why it is unwell."""

    resource_id: str | None
    resource_type: str | None
    reason_codes: tuple[str, ...] = ()
    alert_names: tuple[str, ...] = ()
    collector_kind: str | None = None

    @classmethod
    def for_resource(
        cls, resource: Resource, reason_codes: Sequence[str], alert_names: Sequence[str] = ()
    ) -> MatchInput:
        kind = resource.collector.kind if resource.collector is not None else None
        return cls(resource.id, resource.type, tuple(reason_codes), tuple(alert_names), kind)


@dataclass(frozen=True, slots=True)
class Match:
    runbook: Runbook
    score: int
    why: tuple[str, ...]


def match(runbooks: Iterable[Runbook], what: MatchInput) -> list[Match]:
    """Every runbook that applies, best first."""
    found = [m for m in (score(r, what) for r in runbooks) if m.score > 0]
    return sorted(found, key=lambda m: (-m.score, m.runbook.id))


def best(runbooks: Iterable[Runbook], what: MatchInput) -> Match | None:
    """The best runbook for the incident, or None when none applies."""
    found = match(runbooks, what)
    return found[0] if found else None


def score(runbook: Runbook, what: MatchInput) -> Match:
    """How well `runbook` fits (0: not at all), with the reasons for each point."""
    a = runbook.applies_to
    parts: list[tuple[int, str]] = []
    if what.resource_id is not None and what.resource_id in a.resources:
        parts.append((RESOURCE, f"names resource {what.resource_id}"))
    parts += _reasons(a.reason_codes, what.reason_codes)
    parts += [(ALERT, f"covers alert {name}") for name in _common(a.alerts, what.alert_names)[:1]]
    if what.collector_kind is not None and what.collector_kind in a.collector_kinds:
        parts.append((COLLECTOR_KIND, f"is for {what.collector_kind} collectors"))
    if what.resource_type is not None and what.resource_type in a.resource_types:
        parts.append((RESOURCE_TYPE, f"is for resources of type {what.resource_type}"))
    why = tuple(f"{text} (+{points})" for points, text in parts)
    return Match(runbook, sum(points for points, _ in parts), why)


def _reasons(listed: Sequence[str], given: Sequence[str]) -> list[tuple[int, str]]:
    hits = _common(given, listed)  # in the incident's order
    if not hits:
        return []
    position = list(given).index(hits[0])
    rank = RANKS - min(position, RANKS)
    first = f"covers reason {hits[0]}, reason {position + 1} of {len(given)}"
    out = [(REASON + REASON_RANK * rank, first)]
    return out + [(MORE_REASONS, f"also covers reason {code}") for code in hits[1 : 1 + RANKS]]


def _common(ordered: Sequence[str], other: Sequence[str]) -> list[str]:
    """The items of `ordered` also in `other`, once each, in `ordered`'s order."""
    return [x for i, x in enumerate(ordered) if x in other and x not in ordered[:i]]
