"""Every reason code facstat can emit, and every alert it defines, has a runbook."""

from __future__ import annotations

from collectors.reason_codes import all_reason_codes
from collectors.registry import KINDS
from facility.config import load_facility
from facility.settings import demo_facility_file
from runbooks.library import shipped
from runbooks.matching import MatchInput, best
from slas.rules import BURN_ALERT, HORIZON_ALERT, MEMBERS_ALERT

CODES = all_reason_codes()
BOOKS = shipped(CODES)  # refuses a runbook naming a code nothing emits
ALERTS = {BURN_ALERT, MEMBERS_ALERT, HORIZON_ALERT}


def test_every_reason_code_a_collector_the_engine_or_the_runner_emits_has_a_runbook() -> None:
    covered = {code for rb in BOOKS for code in rb.applies_to.reason_codes}
    missing = {code: module for code, (module, _) in CODES.items() if code not in covered}
    assert missing == {}, "write or extend a runbook for these"


def test_every_reason_code_alone_is_matched_to_a_runbook_that_names_it() -> None:
    for code in CODES:
        found = best(BOOKS, MatchInput("some-resource", None, (code,)))
        assert found is not None and code in found.runbook.applies_to.reason_codes, code


def test_every_alert_facstat_defines_has_a_runbook_and_runbooks_name_only_those() -> None:
    named = {alert for rb in BOOKS for alert in rb.applies_to.alerts}
    assert named == ALERTS


def test_runbooks_name_only_collector_kinds_facstat_has() -> None:
    named = {kind for rb in BOOKS for kind in rb.applies_to.collector_kinds}
    assert named <= set(KINDS)


def test_every_resource_of_the_demo_facility_has_a_runbook_when_its_collector_goes_silent() -> None:
    for r in load_facility(demo_facility_file()).resources:
        found = best(BOOKS, MatchInput.for_resource(r, ("stale",)))
        assert found is not None and found.runbook.id == "collector-silent", r.id


def test_shipped_runbooks_are_generic_and_name_no_resource_of_a_particular_facility() -> None:
    assert all(rb.applies_to.resources == () for rb in BOOKS)
