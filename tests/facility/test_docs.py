"""The facility file reference is generated from the models and kept current."""

from __future__ import annotations

from pathlib import Path

from facility.docs import SECTIONS, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "facility-file.md"


def test_every_facility_file_field_carries_a_description() -> None:
    missing = [
        f"{title}.{name}"
        for title, model in SECTIONS
        for name, f in model.model_fields.items()
        if not f.description
    ]
    assert missing == []


def test_the_committed_reference_matches_the_models() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "run `facstat config-docs` and commit the result"
    )
