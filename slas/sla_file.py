"""The SLA file: reading it, validating it, and resolving each SLA's resources.

`load_slas` never raises anything but `SlaDefinitionError`, whose issues name
the YAML path and the problem, e.g. ``slas[2].objective: must be between 0 and
100`` or ``slas[0].service: unknown resource or group 'scrach'``. The models
are in `slas.definitions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from facility.config import yaml_path
from facility.errors import Issue
from slas.definitions import SlaDefinition, SlaFile
from slas.errors import SlaDefinitionError
from slas.yaml_source import parse_mapping, read_source


def load_slas(
    source: str | Path,
    resource_ids: Iterable[str],
    groups: Mapping[str, Sequence[str]] | None = None,
) -> list[SlaDefinition]:
    """Read an SLA file (a `Path`, or a one-line `str` naming a file) or YAML text.

    `groups` adds named groups (e.g. from the facility) to those of the file. Every
    `resources` field of the result is filled. Raises `SlaDefinitionError`.
    """
    name, text = _read(source)
    data = _parse(name, text)
    try:
        sla_file = SlaFile.model_validate(data)
    except ValidationError as exc:
        raise SlaDefinitionError(name, [_issue(err) for err in exc.errors()]) from exc
    known = frozenset(resource_ids)
    all_groups = {**{k: tuple(v) for k, v in (groups or {}).items()}, **sla_file.groups}
    issues = _check(sla_file, known, all_groups)
    if issues:
        raise SlaDefinitionError(name, issues)
    return [_resolved(s, known, all_groups) for s in sla_file.slas]


def _read(source: str | Path) -> tuple[str, str]:
    return read_source(source, "slas", SlaDefinitionError)


def _parse(name: str, text: str) -> Any:
    return parse_mapping(name, text, SlaDefinitionError)


def _issue(err: Any) -> Issue:
    loc = tuple(p for p in err["loc"] if p not in ("calendar_month", "rolling"))
    return Issue(yaml_path(loc), str(err["msg"]).removeprefix("Value error, "))


def _check(f: SlaFile, known: frozenset[str], groups: Mapping[str, tuple[str, ...]]) -> list[Issue]:
    issues = [
        Issue(f"groups.{g}[{j}]", f"unknown resource {rid!r}")
        for g, members in f.groups.items()
        for j, rid in enumerate(members)
        if rid not in known
    ]
    issues += [Issue(f"groups.{g}", "must not be empty") for g, m in groups.items() if not m]
    seen: set[str] = set()
    for i, sla in enumerate(f.slas):
        if sla.id in seen:
            issues.append(Issue(f"slas[{i}].id", f"duplicate SLA id {sla.id!r}"))
        seen.add(sla.id)
        issues += _check_service(i, sla, known, groups)
    return issues


def _check_service(
    i: int, sla: SlaDefinition, known: frozenset[str], groups: Mapping[str, tuple[str, ...]]
) -> list[Issue]:
    if sla.resources is not None:
        bad = [(j, r) for j, r in enumerate(sla.resources) if r not in known]
        empty = [] if sla.resources else [Issue(f"slas[{i}].resources", "must not be empty")]
        return empty + [
            Issue(f"slas[{i}].resources[{j}]", f"unknown resource {r!r}") for j, r in bad
        ]
    if sla.service in known or sla.service in groups:
        return []
    return [Issue(f"slas[{i}].service", f"unknown resource or group {sla.service!r}")]


def _resolved(
    sla: SlaDefinition, known: frozenset[str], groups: Mapping[str, tuple[str, ...]]
) -> SlaDefinition:
    """Fill `resources`: a resource id names itself, else the group's members."""
    if sla.resources is not None:
        return sla
    members = (sla.service,) if sla.service in known else groups[sla.service]
    return sla.model_copy(update={"resources": tuple(members)})
