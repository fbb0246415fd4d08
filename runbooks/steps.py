"""A runbook's body: the summary paragraph and the numbered steps. Pure.

The body (after the front matter) starts with a short context paragraph: its first
paragraph is the runbook's `summary`. The steps are an ordered list under a
`## Steps` heading, ending at the next heading::

    ## Steps
    1. [ ] {#check-reasons} Look at the drain reasons: `sinfo -R -p <partition>`.
    2. [ ] {#check-node} Look at one node in detail:
       ```
       scontrol show node <node>
       ```
    3. [ ] Tell the users.

- A step starts at column 0 with its number and a dot; numbers run 1, 2, 3 … .
- `[ ]` (a checkbox, also `[x]`) is optional; so is `{#id}`.
- The id is explicit (`{#check-reasons}`: lower-case words joined by `-`) or derived
  from the first words of the text (`tell-the-users`). Explicit ids stay stable when
  the wording changes: shipped runbooks use them. Ids are unique in a runbook.
- Lines indented by at least one space (and blank lines) continue the step: more
  text, a command in a fenced block. They are kept, dedented, in the step's text.
- Anything else in the section (text at column 0 that is not a step) is an error.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from runbooks.errors import StepError
from runbooks.model import Step

HEADING = re.compile(r"^#{1,6}\s")
STEPS_HEADING = re.compile(r"^##\s+Steps\s*$", re.IGNORECASE)
ITEM = re.compile(r"^(\d+)\.\s+(?:\[[ xX]\]\s*)?(?:\{#([^}]*)\}\s*)?(.*)$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
WORDS_IN_ID = 6


@dataclass(frozen=True, slots=True)
class Body:
    summary: str
    steps: tuple[Step, ...]
    markdown: str


@dataclass
class _Draft:
    number: int
    explicit: str | None
    first: str
    line: int
    more: list[str]


def read(body: str, first_line: int, path: str) -> Body:
    """`body` begins on file line `first_line`; errors name the file line."""
    lines = body.splitlines()
    summary = _summary(lines, first_line, path)
    start = next((i for i, line in enumerate(lines) if STEPS_HEADING.match(line)), None)
    if start is None:
        raise StepError(path, "no '## Steps' section", None, "steps")
    drafts = _drafts(lines, start + 1, first_line, path)
    if not drafts:
        raise StepError(path, "the '## Steps' section has no steps", first_line + start, "steps")
    return Body(summary, _steps(drafts, path), body.strip("\n"))


def _summary(lines: list[str], first_line: int, path: str) -> str:
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    para: list[str] = []
    for line in lines[start:]:
        if not line.strip() or HEADING.match(line):
            break
        para.append(line.strip())
    if not para:
        raise StepError(
            path, "no context paragraph before the first heading", first_line + start, "summary"
        )
    return " ".join(para)


def _drafts(lines: list[str], start: int, first_line: int, path: str) -> list[_Draft]:
    drafts: list[_Draft] = []
    for i in range(start, len(lines)):
        line, at = lines[i], first_line + i
        if HEADING.match(line):
            break
        item = ITEM.match(line)
        if item:
            number, explicit, text = int(item[1]), item[2], item[3].strip()
            drafts.append(_Draft(number, explicit, text, at, []))
        elif not line.strip() or line[0].isspace():
            if drafts:
                drafts[-1].more.append(line)
            elif line.strip():
                raise StepError(path, "indented text before the first step", at, "steps")
        else:
            message = "expected a numbered step ('1. …'); indent the lines that continue a step"
            raise StepError(path, message, at, "steps")
    return drafts


def _steps(drafts: list[_Draft], path: str) -> tuple[Step, ...]:
    seen: dict[str, int] = {}
    out = []
    for expected, d in enumerate(drafts, 1):
        if d.number != expected:
            raise StepError(path, f"step numbered {d.number}, expected {expected}", d.line)
        text = _text(d)
        if not text:
            raise StepError(path, f"step {d.number} has no text", d.line)
        step_id = _id(d, text, path)
        if step_id in seen:
            raise StepError(
                path, f"step id {step_id!r} is already used on line {seen[step_id]}", d.line
            )
        seen[step_id] = d.line
        out.append(Step(step_id, d.number, text))
    return tuple(out)


def _text(d: _Draft) -> str:
    more = textwrap.dedent("\n".join(d.more)).strip("\n")
    return f"{d.first}\n{more}".strip() if more else d.first


def _id(d: _Draft, text: str, path: str) -> str:
    if d.explicit is None:
        return derived_id(text, d.number)
    if not SLUG.match(d.explicit):
        message = f"step id {d.explicit!r} must be lower-case words joined by '-'"
        raise StepError(path, message, d.line)
    return d.explicit


def derived_id(text: str, number: int) -> str:
    """The id of a step without `{#id}`: its first words (code spans left out)."""
    first_line = re.sub(r"`[^`]*`", " ", text.splitlines()[0]).lower()
    words = re.findall(r"[a-z0-9]+", first_line)[:WORDS_IN_ID]
    return "-".join(words) or f"step-{number}"
