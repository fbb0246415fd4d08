"""Reading a YAML file (or YAML text) of the operations layer, with errors that say
where: a path, or an anonymous `<label>` for text. Shared by the SLA file and the
incident policy loaders."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import yaml

from facility.errors import Issue


class SourceError(Protocol):
    def __call__(self, source: str, issues: list[Issue]) -> Exception: ...


def read_source(source: str | Path, label: str, error: SourceError) -> tuple[str, str]:
    """(name, text) of a `Path`, a one-line `str` naming a file, or YAML text."""
    is_path = isinstance(source, Path) or ("\n" not in source and Path(source).is_file())
    if not is_path:
        return f"<{label}>", str(source)
    try:
        return str(source), Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(str(source), [Issue("", f"cannot read file: {exc}")]) from exc


def parse_mapping(name: str, text: str, error: SourceError, empty_ok: bool = False) -> Any:
    """The YAML mapping in `text`; an error naming the line of a YAML syntax error."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error(name, [Issue("", f"invalid YAML{where}: {problem or exc}")]) from exc
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise error(name, [Issue("", "the file must be a YAML mapping")])
    return data
