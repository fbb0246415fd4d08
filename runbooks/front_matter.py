"""A runbook's front matter: the `---` YAML block at the top of the file, validated.

```yaml
---
id: partition-drained            # lower-case words joined by '-', unique in the library
title: Partition has drained nodes
applies_to:                      # at least one list must name something
  resource_types: ["urn:facstat:partition"]   # facility resource types
  resources: []                  # explicit resource ids
  reason_codes: [nodes_drained]  # reason codes (see docs/reason-codes.md)
  alerts: []                     # Alertmanager alert names
  collector_kinds: []            # collector kinds (slurm, lustre, rabbitmq, …)
severity: P2                     # P1 … P4, the priority it typically addresses
---
```

Problems are located by file line: YAML errors by the parser's mark, field errors
by the line of the key (or list item) the field path names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from facility.config import RESOURCE_TYPES
from runbooks.errors import FrontMatterError, RunbookFieldError
from runbooks.model import AppliesTo

FENCE = "---"
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
CODE = r"^[a-z][a-z0-9_]*$"
ALERT = r"^[A-Za-z_][A-Za-z0-9_]*$"
MESSAGES = {"extra_forbidden": "unknown field", "missing": "missing (required)"}
PATTERNS = {
    SLUG: "must be lower-case words joined by '-' (e.g. partition-drained)",
    CODE: "must be a reason code: lower-case letters, digits and '_' (e.g. nodes_drained)",
    ALERT: "must be an alert name: letters, digits and '_' (e.g. FacstatSlaErrorBudgetBurn)",
}


def _resource_type(value: str) -> str:
    if value not in RESOURCE_TYPES:
        raise ValueError(f"unknown resource type {value!r} (known: {', '.join(RESOURCE_TYPES)})")
    return value


ResourceType = Annotated[str, Field(strict=True), AfterValidator(_resource_type)]
Name = Annotated[str, Field(strict=True, min_length=1)]


class AppliesToModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    resource_types: list[ResourceType] = Field(default_factory=list, description="resource types")
    resources: list[Name] = Field(default_factory=list, description="explicit resource ids")
    reason_codes: list[Annotated[str, Field(strict=True, pattern=CODE)]] = Field(
        default_factory=list, description="reason codes"
    )
    alerts: list[Annotated[str, Field(strict=True, pattern=ALERT)]] = Field(
        default_factory=list, description="Alertmanager alert names"
    )
    collector_kinds: list[Name] = Field(default_factory=list, description="collector kinds")

    @model_validator(mode="after")
    def _names_something(self) -> AppliesToModel:
        if not any(getattr(self, name) for name in type(self).model_fields):
            raise ValueError("names nothing: give a resource type, resource, code, alert or kind")
        return self

    def as_value(self) -> AppliesTo:
        return AppliesTo(
            tuple(self.resource_types),
            tuple(self.resources),
            tuple(self.reason_codes),
            tuple(self.alerts),
            tuple(self.collector_kinds),
        )


class FrontMatterModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(strict=True, pattern=SLUG, description="unique id of the runbook")
    title: str = Field(strict=True, min_length=1, description="one-line title")
    applies_to: AppliesToModel = Field(description="when the runbook helps")
    severity: Literal["P1", "P2", "P3", "P4"] = Field(description="typical priority addressed")


@dataclass(frozen=True, slots=True)
class FrontMatter:
    fields: FrontMatterModel
    lines: dict[str, int]  # field path (`applies_to.reason_codes[2]`) -> 1-based file line
    body: str  # the text after the closing fence
    body_line: int  # file line of the body's first line

    def line_of(self, field: str) -> int | None:
        return _nearest(self.lines, field)


def read(text: str, path: str) -> FrontMatter:
    """Split `text` into validated front matter and body; raise located errors."""
    lines = text.splitlines()
    if not lines or lines[0].rstrip() != FENCE:
        raise FrontMatterError(path, "no front matter: the file must start with a '---' line", 1)
    end = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() == FENCE), None)
    if end is None:
        raise FrontMatterError(path, "the front matter is not closed by a '---' line", 1)
    yaml_text = "\n".join(lines[1:end])
    node = _compose(yaml_text, path)
    where = _lines(node, "", path, {})
    fields = _validate(yaml.safe_load(yaml_text), where, path)
    return FrontMatter(fields, where, "\n".join(lines[end + 1 :]), end + 2)


def _compose(yaml_text: str, path: str) -> yaml.Node:
    try:
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise FrontMatterError(path, f"invalid YAML: {problem}", line) from exc
    if not isinstance(node, yaml.MappingNode):
        raise FrontMatterError(path, "the front matter must be a YAML mapping (key: value)", 2)
    return node


def _lines(node: yaml.Node, prefix: str, path: str, out: dict[str, int]) -> dict[str, int]:
    """Field path -> file line of every key and list item under `node` (the YAML starts on
    file line 2); a key given twice is an error, not silently the last one."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = f"{prefix}.{key.value}" if prefix else str(key.value)
            if name in out:
                raise RunbookFieldError(path, "given twice", key.start_mark.line + 2, name)
            out[name] = key.start_mark.line + 2
            _lines(value, name, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[f"{prefix}[{i}]"] = item.start_mark.line + 2
            _lines(item, f"{prefix}[{i}]", path, out)
    return out


def _validate(data: Any, where: dict[str, int], path: str) -> FrontMatterModel:
    try:
        return FrontMatterModel.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_path(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        message = MESSAGES.get(first["type"], message)
        if first["type"] == "string_pattern_mismatch":
            message = PATTERNS.get(first.get("ctx", {}).get("pattern", ""), message)
        raise RunbookFieldError(path, message, _nearest(where, field) or 1, field) from exc


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _nearest(where: dict[str, int], field: str) -> int | None:
    """The line of `field`, else of the closest enclosing field that has one."""
    while field:
        if field in where:
            return where[field]
        cut = max(field.rfind("."), field.rfind("["))
        field = field[:cut] if cut > 0 else ""
    return None
