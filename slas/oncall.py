"""Who is on call for a team at an instant, and whom to page at each level. Pure.

A rotation hands off at wall-clock times in the team's zone: shift k starts at
`first_handoff + k * length`, computed on the local clock, so a weekly rotation that
hands off on Mondays at 09:00 still does so after the clocks change (that shift lasts
an hour more or less). An override replaces the rotation while it runs; a rotation
shift that an override cuts short ends (or starts) where the override starts (or ends).

The escalation chain is: level 1 the primary, level 2 the secondary (if the team has
one), then the team's `escalate_to`, each person once. Times out are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from facility.errors import NotFoundError
from slas.incident_policy import Override, Person, Rotation, Team

People = Iterable[Person] | Mapping[str, Person]


@dataclass(frozen=True, slots=True)
class OnCall:
    team_id: str
    primary: Person
    secondary: Person | None
    escalate_to: tuple[Person, ...]
    source: Literal["rotation", "override"]
    shift_start: datetime  # UTC; the primary has been on call since then
    shift_end: datetime  # UTC; and stays on call until then


@dataclass(frozen=True, slots=True)
class _Shift:
    index: int
    start: datetime
    end: datetime


def on_call(team: Team, people: People, now: datetime) -> OnCall:
    """Who is on call for `team` at `now` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError(f"{now} has no time zone: pass an aware datetime")
    zone, by_id = ZoneInfo(team.timezone), _by_id(people)
    shift = _shift(team.rotation, zone, now)
    members = team.rotation.members
    override = _override_at(team.overrides, zone, now)
    primary = override.person if override else members[shift.index % len(members)]
    start, end = _bounds(team.overrides, zone, now, shift, override)
    return OnCall(
        team_id=team.id,
        primary=_person(by_id, primary),
        secondary=_secondary(team, shift.index, primary, by_id),
        escalate_to=tuple(_person(by_id, p) for p in team.escalate_to),
        source="override" if override else "rotation",
        shift_start=start,
        shift_end=end,
    )


def escalation_chain(team: Team, people: People, now: datetime) -> list[Person]:
    """Level 1 first: primary, secondary (if enabled), then `escalate_to`, each once."""
    oc = on_call(team, people, now)
    chain = [oc.primary, *([oc.secondary] if oc.secondary else []), *oc.escalate_to]
    return list({p.id: p for p in chain}.values())  # a dict keeps the first position


def _shift(rotation: Rotation, zone: ZoneInfo, now: datetime) -> _Shift:
    """The rotation's shift containing `now`: estimated on the local clock, then checked."""
    first, length = _wall(rotation.first_handoff, zone), rotation.length
    k = (now.astimezone(zone).replace(tzinfo=None) - first) // length
    while _instant(first + k * length, zone) > now:
        k -= 1
    while _instant(first + (k + 1) * length, zone) <= now:
        k += 1
    return _Shift(k, _instant(first + k * length, zone), _instant(first + (k + 1) * length, zone))


def _override_at(overrides: Iterable[Override], zone: ZoneInfo, now: datetime) -> Override | None:
    """The first override running at `now`."""
    return next((o for o in overrides if _covers(override_span(o, zone), now)), None)


def _bounds(
    overrides: tuple[Override, ...],
    zone: ZoneInfo,
    now: datetime,
    shift: _Shift,
    override: Override | None,
) -> tuple[datetime, datetime]:
    if override is not None:
        return override_span(override, zone)
    spans = [override_span(o, zone) for o in overrides]
    start = max([shift.start, *(e for _, e in spans if shift.start < e <= now)])
    end = min([shift.end, *(s for s, _ in spans if now < s < shift.end)])
    return start, end


def _secondary(team: Team, index: int, primary: str, by_id: dict[str, Person]) -> Person | None:
    """The next person in the rotation (the scheduled one if the next is the primary)."""
    members = team.rotation.members
    candidates = (members[(index + 1) % len(members)], members[index % len(members)])
    other = next((c for c in candidates if c != primary), None)
    return _person(by_id, other) if team.secondary and other else None


def override_span(o: Override, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """An override's [start, end) in UTC (naive times are local in `zone`)."""
    return _instant(o.start, zone), _instant(o.end, zone)


def _covers(span: tuple[datetime, datetime], now: datetime) -> bool:
    return span[0] <= now < span[1]


def _wall(t: datetime, zone: ZoneInfo) -> datetime:
    """`t` on the local clock of `zone`, without a zone (a naive `t` already is)."""
    return t if t.tzinfo is None else t.astimezone(zone).replace(tzinfo=None)


def _instant(t: datetime, zone: ZoneInfo) -> datetime:
    """`t` in UTC; a naive `t` is local time in `zone` (in a gap, the earlier offset)."""
    return (t.replace(tzinfo=zone) if t.tzinfo is None else t).astimezone(UTC)


def _by_id(people: People) -> dict[str, Person]:
    return dict(people) if isinstance(people, Mapping) else {p.id: p for p in people}


def _person(by_id: dict[str, Person], person_id: str) -> Person:
    try:
        return by_id[person_id]
    except KeyError:
        raise NotFoundError("person", person_id) from None
