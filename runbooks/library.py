"""Loading runbooks: a Markdown file with front matter becomes a `Runbook`, a directory of
them the library. A directory with any bad file, or two files with one id, is refused
whole, with every problem listed (`RunbookLibraryError`).

File format: front matter (`runbooks.front_matter`), then a context paragraph and a
`## Steps` list (`runbooks.steps`). Reading the files is the only I/O here; `parse`
works on text. The runbooks facstat ships are the `*.md` files of this package
(`shipped()`).

`known_codes`, when given (e.g. `collectors.reason_codes.all_reason_codes()`), refuses
a runbook naming a reason code nothing emits, so a typo cannot hide a runbook.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from runbooks import front_matter, steps
from runbooks.errors import (
    DuplicateRunbookError,
    RunbookError,
    RunbookFieldError,
    RunbookLibraryError,
)
from runbooks.model import Runbook

SHIPPED = Path(__file__).resolve().parent


def parse(text: str, path: Path, known_codes: Collection[str] | None = None) -> Runbook:
    """The runbook `text` describes; `path` is where it came from (for errors)."""
    return _parse(text, path, known_codes)[0]


def _parse(
    text: str, path: Path, known_codes: Collection[str] | None
) -> tuple[Runbook, int | None]:
    head = front_matter.read(text, str(path))
    f = head.fields
    if known_codes is not None:
        _check_codes(f.applies_to.reason_codes, known_codes, head, str(path))
    body = steps.read(head.body, head.body_line, str(path))
    applies = f.applies_to.as_value()
    runbook = Runbook(
        f.id, f.title, applies, f.severity, body.summary, body.steps, body.markdown, path
    )
    return runbook, head.line_of("id")


def _check_codes(
    codes: list[str], known: Collection[str], head: front_matter.FrontMatter, path: str
) -> None:
    for i, code in enumerate(codes):
        if code not in known:
            field = f"applies_to.reason_codes[{i}]"
            message = f"unknown reason code {code!r} (see docs/reason-codes.md)"
            raise RunbookFieldError(path, message, head.line_of(field), field)


def load(path: Path, known_codes: Collection[str] | None = None) -> Runbook:
    """One runbook file."""
    return parse(_read(path), path, known_codes)


def load_directory(
    directory: Path, known_codes: Collection[str] | None = None
) -> tuple[Runbook, ...]:
    """Every `*.md` runbook of `directory`, by file name; all of them or an error."""
    found: list[Runbook] = []
    errors: list[RunbookError] = []
    first: dict[str, Path] = {}
    for path in sorted(directory.glob("*.md")):
        try:
            runbook, id_line = _parse(_read(path), path, known_codes)
        except RunbookError as exc:
            errors.append(exc)
            continue
        if runbook.id in first:
            other = str(first[runbook.id])
            errors.append(DuplicateRunbookError(str(path), runbook.id, other, id_line))
            continue
        first[runbook.id] = path
        found.append(runbook)
    if errors:
        raise RunbookLibraryError(str(directory), errors)
    return tuple(found)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RunbookError(str(path), f"cannot read the file: {exc}") from exc


def shipped(known_codes: Collection[str] | None = None) -> tuple[Runbook, ...]:
    """The runbooks that come with facstat."""
    return load_directory(SHIPPED, known_codes)
