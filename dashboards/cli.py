"""What `facstat dashboards build` runs (the command itself lives in `api.cli`)."""

from __future__ import annotations

from pathlib import Path

from dashboards.build import write
from facility.config import load_facility
from facility.settings import demo_facility_file


def build_command(facility: Path | None, out: Path) -> list[Path]:
    """Write the dashboards and provisioning files of `facility` (the demo facility if
    None) under `out`; returns the files written. A bad facility file raises ConfigError."""
    return write(load_facility(facility or demo_facility_file()), out)
