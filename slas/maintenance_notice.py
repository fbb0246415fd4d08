"""Notice policy: how early a maintenance window must be announced, per service tier. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from slas.maintenance import MaintenanceWindow

NoticePolicy = Mapping[str, timedelta]
DEFAULT_NOTICE: dict[str, timedelta] = {
    "24x7": timedelta(days=7),
    "16x5": timedelta(days=3),
    "8x5": timedelta(days=1),
}


@dataclass(frozen=True, slots=True)
class Notice:
    """The notice a window needed (`required`), had (`given`, None if unknown), and the verdict."""

    required: timedelta
    given: timedelta | None
    short: bool
    message: str


def notice_check(
    window: MaintenanceWindow, tier_of_resources: Mapping[str, str | None], policy: NoticePolicy
) -> Notice:
    """Whether the window was announced early enough for the tiers of the resources it affects.

    The requirement is the largest among the window's resources (a resource without a tier,
    or with a tier the policy does not name, needs none). Unknown notice counts as short."""
    needs = [
        (policy.get(tier_of_resources.get(r) or "", timedelta(0)), r) for r in window.resources
    ]
    required, driver = max(needs, key=lambda n: n[0])
    given = None if window.notice_given_at is None else window.start - window.notice_given_at
    short = not window.cancelled and required > timedelta(0) and (given is None or given < required)
    tier = tier_of_resources.get(driver)
    return Notice(required, given, short, _notice_message(required, given, short, driver, tier))


def _notice_message(
    required: timedelta, given: timedelta | None, short: bool, driver: str, tier: str | None
) -> str:
    if required == timedelta(0):
        return "no notice required"
    need = f"{human(required)} notice required ({driver}, tier {tier})"
    had = "no notice time recorded" if given is None else f"{human(given)} given"
    return f"{need}; {had}" + ("; notice is short" if short else "")


def human(span: timedelta) -> str:
    """`7d`, `2d 3h`, `45m`, `-1h` — a span for people."""
    sign, seconds = ("-" if span < timedelta(0) else ""), abs(int(span.total_seconds()))
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m")]
    shown = [f"{n}{unit}" for n, unit in parts if n]
    return sign + (" ".join(shown) if shown else "0m")
