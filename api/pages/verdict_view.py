"""View-models of the readiness page: the form as typed, its checks, and the verdict.

Pure. The form is a plain GET (`/readiness?beamline=…&start=…&end=…`, or one
`need=resource[:key=value,…]` per line), so a verdict's URL can be shared and
reloaded. Times without an offset are read in the facility's time zone; a missing
start is now, a missing end is start + 8 h (as `GET /api/v1/readiness`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from urllib.parse import urlencode

from api.pages.time_view import input_value, local, span
from facility.config import FacilityConfig
from slas.beamtime import Beamtime
from slas.readiness import Assessment

DEFAULT_LENGTH = timedelta(hours=8)
MAX_NEEDS = 100
MAX_TEXT = 200
WORDS = {"go": "Go", "at_risk": "At risk", "no_go": "No go"}


@dataclass(frozen=True, slots=True)
class FormError:
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class ReadinessForm:
    """The form as typed, to fill it in again."""

    beamline: str = ""
    needs: tuple[str, ...] = ()
    start: str = ""
    end: str = ""
    submitted: bool = False

    @property
    def needs_text(self) -> str:
        return "\n".join(self.needs)


@dataclass(frozen=True, slots=True)
class ReadinessQuery:
    beamline: str | None
    needs: tuple[str, ...]
    start: datetime
    end: datetime


def read_form(
    beamline: str | None, needs: Iterable[str], start: str | None, end: str | None
) -> ReadinessForm:
    """Blank fields are absent; needs are split on whitespace (one per line or repeated)."""
    listed = tuple(n for text in needs for n in text.split())
    submitted = any(v is not None for v in (beamline, start, end)) or bool(listed)
    return ReadinessForm(
        (beamline or "").strip(), listed, (start or "").strip(), (end or "").strip(), submitted
    )


def parse_time(text: str, tz: tzinfo, field: str) -> datetime | FormError:
    if len(text) > MAX_TEXT:
        return FormError(field, "is too long")
    try:
        value = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        return FormError(field, f"{text!r} is not a date and time such as 2026-12-08T08:00")
    return (value.replace(tzinfo=tz) if value.tzinfo is None else value).astimezone(UTC)


def check_form(form: ReadinessForm, tz: tzinfo, now: datetime) -> ReadinessQuery | list[FormError]:
    """The query the form asks, or every problem with it (each naming its field)."""
    errors = _subject_errors(form)
    start = parse_time(form.start, tz, "start") if form.start else now
    if isinstance(start, FormError):
        return [*errors, start]
    end = parse_time(form.end, tz, "end") if form.end else start + DEFAULT_LENGTH
    if isinstance(end, FormError):
        errors.append(end)
    elif end <= start:
        errors.append(FormError("end", "must be after the start"))
    if errors or isinstance(end, FormError):
        return errors
    return ReadinessQuery(form.beamline or None, form.needs, start, end)


def _subject_errors(form: ReadinessForm) -> list[FormError]:
    if form.beamline and form.needs:
        return [FormError("beamline", "choose a beamline or list needs, not both")]
    if not form.beamline and not form.needs:
        return [FormError("beamline", "choose a beamline, or list what you need")]
    if len(form.beamline) > MAX_TEXT or len(form.needs) > MAX_NEEDS:
        return [FormError("need", f"at most {MAX_NEEDS} needs of {MAX_TEXT} characters")]
    return []


@dataclass(frozen=True, slots=True)
class CheckLine:
    name: str
    verdict: str
    message: str


@dataclass(frozen=True, slots=True)
class ResourceLine:
    resource_id: str
    name: str
    verdict: str
    word: str
    note: str
    checks: tuple[CheckLine, ...]


@dataclass(frozen=True, slots=True)
class VerdictView:
    verdict: str  # go | at_risk | no_go
    word: str  # Go | At risk | No go
    subject: str  # "beamline tomo-2bm" / "3 needs"
    window: str
    checked: str
    lines: tuple[ResourceLine, ...]


def verdict_view(
    a: Assessment, subject: str, names: Mapping[str, str], tz: tzinfo, now: datetime
) -> VerdictView:
    lines = tuple(
        ResourceLine(
            ln.resource_id,
            names.get(ln.resource_id, ln.resource_id),
            ln.verdict.value,
            WORDS[ln.verdict.value],
            ln.note,
            tuple(CheckLine(c.name, c.verdict.value, c.message) for c in ln.checks),
        )
        for ln in a.lines
    )
    v = a.verdict.value
    return VerdictView(v, WORDS[v], subject, span(a.start, a.end, tz), local(now, tz), lines)


@dataclass(frozen=True, slots=True)
class BeamlineGroup:
    facility: str
    beamlines: tuple[tuple[str, str], ...]  # (id, "id: name")


def beamline_groups(config: FacilityConfig) -> list[BeamlineGroup]:
    return [
        BeamlineGroup(ef.name, tuple((bl.id, f"{bl.id}: {bl.name}") for bl in ef.beamlines))
        for ef in config.experiment_facilities
    ]


@dataclass(frozen=True, slots=True)
class BeamtimeLink:
    title: str
    beamline: str
    when: str
    url: str


def share_links(q: ReadinessQuery) -> dict[str, str]:
    """The page's and the API's URL for the same question, with explicit offsets."""
    params = [("beamline", q.beamline)] if q.beamline else [("need", n) for n in q.needs]
    times = [("start", _iso(q.start)), ("end", _iso(q.end))]
    query = urlencode([*params, *times])
    return {"page": f"/readiness?{query}", "api": f"/api/v1/readiness?{query}"}


def beamtime_links(
    beamtimes: Sequence[Beamtime], tz: tzinfo, now: datetime, limit: int = 8
) -> list[BeamtimeLink]:
    """Beamtimes not yet over, soonest first, each a link to its readiness."""
    ahead = sorted((b for b in beamtimes if b.end > now), key=lambda b: (b.start, b.id))
    return [
        BeamtimeLink(
            b.title,
            b.beamline,
            span(b.start, b.end, tz),
            share_links(ReadinessQuery(b.beamline, (), b.start, b.end))["page"],
        )
        for b in ahead[:limit]
    ]


def form_values(form: ReadinessForm, query: ReadinessQuery | None, tz: tzinfo) -> dict[str, str]:
    """The inputs' values: what was asked (in facility time), else what was typed."""
    if query is None:
        return {"start": form.start, "end": form.end}
    return {"start": input_value(query.start, tz), "end": input_value(query.end, tz)}


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")
