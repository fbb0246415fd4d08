"""Runbook files: the shipped ones parse; bad ones are refused with the file, line and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runbooks.errors import (
    DuplicateRunbookError,
    FrontMatterError,
    RunbookError,
    RunbookFieldError,
    RunbookLibraryError,
    StepError,
)
from runbooks.library import SHIPPED, load, load_directory, parse, shipped
from runbooks.model import AppliesTo, Step
from runbooks.steps import derived_id

GOOD = """\
---
id: partition-drained
title: Partition has drained nodes
applies_to:
  resource_types: ["urn:facstat:partition"]
  resources: []
  reason_codes: [nodes_drained]
  alerts: []
severity: P2
---
Nodes are drained: Slurm
starts no new jobs on them.

Second paragraph.

## Steps
1. [ ] {#check-reasons} Look at the drain reasons: `sinfo -R -p <partition>`.
2. [ ] Read one node in detail:
   ```
   scontrol show node <node>
   ```

   Then decide.
3. Resume it: `scontrol update nodename=<node> state=resume`.

## Background
More text.
"""
PATH = Path("runbooks/x.md")


def bad(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def error_of(text: str, known: set[str] | None = None) -> RunbookError:
    with pytest.raises(RunbookError) as caught:
        parse(text, PATH, known)
    return caught.value


# --- a good runbook ------------------------------------------------------------------------


def test_a_runbook_file_becomes_its_fields_summary_and_numbered_steps() -> None:
    rb = parse(GOOD, PATH)
    assert (rb.id, rb.title, rb.severity, rb.path) == (
        "partition-drained",
        "Partition has drained nodes",
        "P2",
        PATH,
    )
    assert rb.applies_to == AppliesTo(("urn:facstat:partition",), (), ("nodes_drained",), ())
    assert rb.summary == "Nodes are drained: Slurm starts no new jobs on them."
    assert rb.steps[0] == Step(
        "check-reasons", 1, "Look at the drain reasons: `sinfo -R -p <partition>`."
    )
    assert [s.number for s in rb.steps] == [1, 2, 3]
    assert rb.body_markdown.startswith("Nodes are drained") and "## Background" in rb.body_markdown


def test_indented_lines_continue_a_step_and_are_kept_dedented() -> None:
    step = parse(GOOD, PATH).steps[1]
    assert step.text == (
        "Read one node in detail:\n```\nscontrol show node <node>\n```\n\nThen decide."
    )


def test_a_step_without_an_explicit_id_gets_one_from_its_first_words() -> None:
    rb = parse(GOOD, PATH)
    assert [s.id for s in rb.steps] == ["check-reasons", "read-one-node-in-detail", "resume-it"]
    assert rb.step("resume-it") is rb.steps[2]
    assert derived_id("`sdiag -r` …", 4) == "step-4"


def test_the_checkbox_is_optional_and_may_be_ticked() -> None:
    rb = parse(bad("1. [ ] {#check-reasons}", "1. [x] {#check-reasons}"), PATH)
    assert rb.steps[0].id == "check-reasons"


# --- bad front matter ------------------------------------------------------------------------


def test_a_file_without_front_matter_is_refused_at_line_1() -> None:
    e = error_of("# Partition drained\n\n## Steps\n1. Do it.\n")
    assert isinstance(e, FrontMatterError)
    assert str(e) == "runbooks/x.md:1: no front matter: the file must start with a '---' line"


def test_front_matter_that_is_never_closed_is_refused() -> None:
    e = error_of("---\nid: x\ntitle: y\n")
    assert isinstance(e, FrontMatterError) and "not closed" in str(e)


def test_yaml_that_does_not_parse_is_refused_with_its_file_line() -> None:
    e = error_of(bad("  reason_codes: [nodes_drained]", "  reason_codes: [nodes_drained"))
    assert isinstance(e, FrontMatterError)
    assert e.path == "runbooks/x.md" and e.line is not None and 7 <= e.line <= 9
    assert str(e).startswith(f"runbooks/x.md:{e.line}: invalid YAML")


def test_front_matter_that_is_not_a_mapping_is_refused() -> None:
    e = error_of("---\n- a\n- b\n---\ntext\n")
    assert isinstance(e, FrontMatterError) and "mapping" in str(e)


def test_an_unknown_field_is_refused_with_its_name_and_line() -> None:
    e = error_of(bad("severity: P2\n", "severity: P2\nowner: hpc-ops\n"))
    assert isinstance(e, RunbookFieldError)
    assert str(e) == "runbooks/x.md:10: owner: unknown field"


def test_an_unknown_field_under_applies_to_is_named_by_its_path() -> None:
    e = error_of(bad("  alerts: []", "  alert: []"))
    assert (e.field, e.line, e.reason) == ("applies_to.alert", 8, "unknown field")


def test_a_field_given_twice_is_refused_not_silently_overwritten() -> None:
    e = error_of(bad("severity: P2\n", "severity: P2\ntitle: Other\n"))
    assert isinstance(e, RunbookFieldError)
    assert (e.field, e.line, e.reason) == ("title", 10, "given twice")


def test_a_missing_required_field_is_named() -> None:
    e = error_of(bad("title: Partition has drained nodes\n", ""))
    assert isinstance(e, RunbookFieldError) and e.field == "title"
    assert "missing" in str(e)


def test_a_bad_severity_is_refused_at_its_line() -> None:
    e = error_of(bad("severity: P2", "severity: urgent"))
    assert (e.field, e.line) == ("severity", 9)
    assert "P1" in e.reason


def test_an_id_that_is_not_a_slug_is_refused() -> None:
    e = error_of(bad("id: partition-drained", "id: Partition Drained"))
    assert (e.field, e.line) == ("id", 2)


def test_an_unknown_resource_type_is_refused_at_its_list_item() -> None:
    e = error_of(bad('["urn:facstat:partition"]', '["urn:facstat:partition", "partition"]'))
    assert (e.field, e.line) == ("applies_to.resource_types[1]", 5)
    assert "unknown resource type 'partition'" in e.reason


def test_a_runbook_that_applies_to_nothing_is_refused() -> None:
    text = bad("  reason_codes: [nodes_drained]", "  reason_codes: []")
    e = error_of(text.replace('["urn:facstat:partition"]', "[]"))
    assert (e.field, e.line) == ("applies_to", 4)
    assert "names nothing" in e.reason


def test_a_reason_code_nothing_emits_is_refused_when_the_known_codes_are_given() -> None:
    text = bad("[nodes_drained]", "[nodes_drained, nodes_draning]")
    assert parse(text, PATH).applies_to.reason_codes == ("nodes_drained", "nodes_draning")
    e = error_of(text, {"nodes_drained", "nodes_down"})
    assert (e.field, e.line) == ("applies_to.reason_codes[1]", 7)
    assert "unknown reason code 'nodes_draning'" in e.reason


# --- bad body ---------------------------------------------------------------------------------


def test_a_repeated_step_id_is_refused_naming_both_lines() -> None:
    e = error_of(bad("2. [ ] Read one node", "2. [ ] {#check-reasons} Read one node"))
    assert isinstance(e, StepError)
    assert str(e) == "runbooks/x.md:18: step id 'check-reasons' is already used on line 17"


def test_steps_must_be_numbered_from_one_without_gaps() -> None:
    e = error_of(bad("3. Resume it", "4. Resume it"))
    assert isinstance(e, StepError)
    assert (e.line, e.reason) == (24, "step numbered 4, expected 3")


def test_a_runbook_without_a_steps_section_is_refused() -> None:
    e = error_of(bad("## Steps", "## Actions"))
    assert isinstance(e, StepError) and "no '## Steps' section" in str(e)


def test_unindented_text_between_steps_is_refused_at_its_line() -> None:
    e = error_of(bad("   Then decide.", "Then decide."))
    assert isinstance(e, StepError) and e.line == 23
    assert "indent" in e.reason


def test_an_explicit_step_id_must_be_a_slug() -> None:
    e = error_of(bad("{#check-reasons}", "{#Check Reasons}"))
    assert isinstance(e, StepError) and e.line == 17


def test_a_runbook_needs_a_context_paragraph_before_its_steps() -> None:
    body = GOOD.split("---\n", 2)[2]
    e = error_of(GOOD.replace(body, body[body.index("## Steps") :]))
    assert isinstance(e, StepError) and e.field == "summary" and e.line == 11


# --- directories ---------------------------------------------------------------------------------


def test_two_files_with_one_runbook_id_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD)
    (tmp_path / "b.md").write_text(GOOD)
    with pytest.raises(RunbookLibraryError) as caught:
        load_directory(tmp_path)
    (dup,) = caught.value.errors
    assert isinstance(dup, DuplicateRunbookError)
    assert (
        str(dup)
        == f"{tmp_path / 'b.md'}:2: id: runbook id 'partition-drained' is already used by {tmp_path / 'a.md'}"
    )


def test_a_directory_with_bad_files_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("no front matter\n")
    (tmp_path / "b.md").write_text(bad("severity: P2", "severity: P9"))
    (tmp_path / "c.md").write_bytes(b"---\xff\n")
    (tmp_path / "d.md").write_text(bad("id: partition-drained", "id: fine"))
    with pytest.raises(RunbookLibraryError) as caught:
        load_directory(tmp_path)
    errors = caught.value.errors
    assert [Path(e.path).name for e in errors] == ["a.md", "b.md", "c.md"]
    assert "3 runbook problem(s)" in str(caught.value)
    assert "cannot read the file" in str(errors[2])


def test_a_single_file_loads_from_disk(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD)
    assert load(tmp_path / "a.md").path == tmp_path / "a.md"


# --- the shipped runbooks -----------------------------------------------------------------------


def test_every_shipped_runbook_parses() -> None:
    files = sorted(SHIPPED.glob("*.md"))
    books = shipped()
    assert len(books) == len(files) >= 18
    assert [b.path for b in books] == files


def test_every_shipped_runbook_has_a_summary_and_four_to_ten_steps() -> None:
    for rb in shipped():
        assert rb.title and len(rb.summary) > 80, rb.id
        assert 4 <= len(rb.steps) <= 10, rb.id


def test_every_shipped_step_has_an_explicit_id_so_links_to_it_stay_valid() -> None:
    for rb in shipped():
        items = [ln for ln in rb.body_markdown.splitlines() if re.match(r"^\d+\.\s", ln)]
        assert len(items) == len(rb.steps), rb.id
        assert all(re.match(r"^\d+\. \[ \] \{#[a-z0-9-]+\} ", ln) for ln in items), rb.id


def test_most_shipped_steps_give_the_command_to_run() -> None:
    for rb in shipped():
        with_command = [s for s in rb.steps if "`" in s.text]
        assert len(with_command) >= 0.6 * len(rb.steps), rb.id
