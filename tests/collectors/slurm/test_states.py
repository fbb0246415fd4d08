"""The one table from Slurm node states and flags to facstat categories."""

from __future__ import annotations

import pytest

from collectors.slurm.states import UNUSABLE, USABLE, Category, categorize


@pytest.mark.parametrize(
    ("base", "flags", "category"),
    [
        ("IDLE", [], Category.IDLE),
        ("ALLOCATED", [], Category.ALLOCATED),
        ("MIXED", [], Category.MIXED),
        ("IDLE", ["DRAIN"], Category.DRAINED),
        ("MIXED", ["DRAIN"], Category.DRAINING),
        ("ALLOCATED", ["DRAIN"], Category.DRAINING),
        ("DOWN", [], Category.DOWN),
        ("DOWN", ["DRAIN"], Category.DOWN),
        ("IDLE", ["NOT_RESPONDING"], Category.DOWN),
        ("ALLOCATED", ["NOT_RESPONDING"], Category.DOWN),
        ("IDLE", ["MAINTENANCE", "RESERVED"], Category.MAINT),
        ("IDLE", ["RESERVED"], Category.RESERVED),
        ("MIXED", ["RESERVED"], Category.MIXED),
        ("IDLE", ["POWERED_DOWN"], Category.POWERED_DOWN),
        ("DOWN", ["REBOOT_ISSUED"], Category.DOWN),
        ("IDLE", ["REBOOT_ISSUED"], Category.REBOOTING),
        ("FUTURE", [], Category.FUTURE),
        ("UNKNOWN", [], Category.UNKNOWN),
        ("SOMETHING_NEW", ["WHATEVER"], Category.UNKNOWN),
        ("idle", ["drain"], Category.DRAINED),
    ],
)
def test_each_slurm_state_maps_to_one_category(
    base: str, flags: list[str], category: Category
) -> None:
    assert categorize(base, flags) is category


def test_every_category_is_either_usable_or_has_a_reason_code() -> None:
    assert set(Category) == USABLE | set(UNUSABLE)
    assert not USABLE & set(UNUSABLE)
