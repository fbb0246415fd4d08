"""Errors of the runbook library.

    FacstatError                        (facility.errors)
    └── RunbookError                    a runbook file cannot be used: `path`, `line`, `field`
        ├── FrontMatterError            no front matter, an unclosed one, or YAML that does not parse
        ├── RunbookFieldError           a front-matter field is unknown, missing, repeated or invalid
        ├── StepError                   the body: no context paragraph, no `## Steps` list,
        │                               a malformed step, or a repeated step id
        ├── DuplicateRunbookError       two files declare the same runbook id (`first`: the other file)
        └── RunbookLibraryError         a directory has bad runbooks (`errors`: each problem)

Every message starts like a compiler's, `path:line: field: what is wrong`, so an
editor can jump to it; `line` is 1-based and None when the problem has no one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from facility.errors import FacstatError


class RunbookError(FacstatError):
    """Base of every error the runbook library raises on purpose."""

    def __init__(self, path: str, message: str, line: int | None = None, field: str = "") -> None:
        self.path, self.line, self.field, self.reason = path, line, field, message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class FrontMatterError(RunbookError):
    """The file does not start with a `---` block of YAML mapping, or the YAML is invalid."""


class RunbookFieldError(RunbookError):
    """A front-matter field is unknown, missing, repeated or has a bad value."""


class StepError(RunbookError):
    """The body has no context paragraph, no or a malformed `## Steps` list, or two steps
    share an id."""


class DuplicateRunbookError(RunbookError):
    def __init__(self, path: str, runbook_id: str, first: str, line: int | None = None) -> None:
        self.runbook_id, self.first = runbook_id, first
        super().__init__(path, f"runbook id {runbook_id!r} is already used by {first}", line, "id")


class RunbookLibraryError(RunbookError):
    """Loading a directory found problems; `errors` holds every one, in file order."""

    def __init__(self, directory: str, errors: Sequence[RunbookError]) -> None:
        self.errors = tuple(errors)
        listed = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(directory, f"{len(self.errors)} runbook problem(s)\n{listed}")
