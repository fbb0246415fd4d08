"""Reads the operations sources a facility file names: maintenance calendars and
beamtime schedules (local files or http(s) URLs), and the SLA file. An adapter:
the parsing is in `slas.ical`, `slas.beamtime_import` and `slas.sla_file`.

Each calendar or schedule is one import source (`ical:<name>`, `schedule:<name>`),
replaced as a whole, so that a window removed from the file disappears too. A
local file that cannot be parsed is a configuration error (nothing of it is
imported); an unreachable URL keeps what was imported from it before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from facility.config import FacilityConfig
from facility.errors import ConfigError, Issue
from slas.beamtime import Beamtime
from slas.beamtime_import import parse_beamtimes_ical, parse_beamtimes_yaml
from slas.calendar_errors import CalendarError
from slas.definitions import SlaDefinition
from slas.ical import parse_maintenance_calendar
from slas.incident_policy import IncidentPolicy
from slas.incident_policy_file import load_incident_policy
from slas.maintenance import MaintenanceWindow
from slas.operations import Operations
from slas.sla_file import load_slas

log = logging.getLogger("facstat.sources")
MAX_FETCH_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Source:
    name: str  # e.g. ical:demo-maintenance
    location: str  # a path or URL as written
    remote: bool


def _source(prefix: str, location: str, base: Path) -> Source:
    remote = urlparse(location).scheme in ("http", "https")
    stem = Path(urlparse(location).path).stem if remote else Path(location).stem
    return Source(f"{prefix}:{stem}", location if remote else str(base / location), remote)


def calendar_sources(config: FacilityConfig, base: Path) -> list[Source]:
    return [_source("ical", loc, base) for loc in config.operations.maintenance_calendars]


def schedule_sources(config: FacilityConfig, base: Path) -> list[Source]:
    return [_source("schedule", loc, base) for loc in config.operations.beamtime_schedules]


def read(src: Source, timeout: float) -> bytes:
    """The bytes of a source; `OSError`/`httpx.HTTPError` when it cannot be read."""
    if not src.remote:
        return Path(src.location).read_bytes()
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        r = client.get(src.location)
        r.raise_for_status()
        if len(r.content) > MAX_FETCH_BYTES:
            raise OSError(f"{src.location}: larger than {MAX_FETCH_BYTES} bytes")
        return r.content


def windows_of(src: Source, data: bytes, config: FacilityConfig) -> list[MaintenanceWindow]:
    known = {r.id for r in config.resources}
    return parse_maintenance_calendar(data, src.name, known)


def beamtimes_of(src: Source, data: bytes, config: FacilityConfig) -> list[Beamtime]:
    if src.location.lower().endswith((".ics", ".ical", ".ifb")):
        return parse_beamtimes_ical(data, src.name, config)
    return parse_beamtimes_yaml(data, src.name, config)


def slas_of(config: FacilityConfig, base: Path) -> list[SlaDefinition]:
    """The facility's SLAs (none without an SLA file); `ConfigError` naming each problem."""
    if config.operations.slas is None:
        return []
    return load_slas(base / config.operations.slas, [r.id for r in config.resources])


def incident_policy_of(config: FacilityConfig, base: Path) -> IncidentPolicy:
    """The facility's incident policy; the defaults (nobody paged) without a file."""
    if config.operations.incidents is None:
        return IncidentPolicy()
    return load_incident_policy(
        base / config.operations.incidents,
        [s.id for s in config.systems],
        {r.type for r in config.resources},
        [r.id for r in config.resources],
    )


def import_all(ops: Operations, base: Path, timeout: float) -> None:
    """Import every calendar and schedule the facility file names, each as one source."""
    config = ops.config
    for src in calendar_sources(config, base):
        windows = _parsed(src, windows_of, config, timeout)
        if windows is not None:
            ops.replace_source(src.name, windows)
    for src in schedule_sources(config, base):
        beamtimes = _parsed(src, beamtimes_of, config, timeout)
        if beamtimes is not None:
            ops.replace_beamtimes(src.name, beamtimes)


def _fetch(src: Source, timeout: float) -> bytes | None:
    try:
        return read(src, timeout)
    except (OSError, httpx.HTTPError) as exc:
        if not src.remote:
            raise ConfigError(src.location, [Issue("", f"cannot read: {exc}")]) from exc
        log.warning("%s unreachable, keeping what was imported before: %s", src.location, exc)
        return None


def _parsed(src: Source, parse: Any, config: FacilityConfig, timeout: float) -> Any:
    """What `parse` makes of a source, or None to keep what it gave before."""
    data = _fetch(src, timeout)
    if data is None:
        return None
    try:
        return parse(src, data, config)
    except CalendarError as exc:
        if src.remote:
            log.error("%s rejected, keeping what was imported before: %s", src.location, exc)
            return None
        raise ConfigError(src.location, [Issue(exc.field, str(exc))]) from exc


def check_all(config: FacilityConfig, base: Path) -> list[Issue]:
    """Every problem of the local operations files (for `facstat check-config`)."""
    issues: list[Issue] = []
    for check in (slas_of, incident_policy_of):
        try:
            check(config, base)
        except ConfigError as exc:
            issues += [Issue(f"{exc.source}: {i.path}", i.message) for i in exc.issues]
    checks: list[tuple[Source, Any]] = [
        *((s, windows_of) for s in calendar_sources(config, base)),
        *((s, beamtimes_of) for s in schedule_sources(config, base)),
    ]
    for src, parse in checks:
        if src.remote:
            continue
        try:
            parse(src, read(src, 10), config)
        except (OSError, CalendarError) as exc:
            issues.append(Issue(src.location, str(exc)))
    return issues
