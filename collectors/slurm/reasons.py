"""Why a job is in its state: Slurm's reason codes (`Resources`, `JobHeldUser`, …), as
JSON gives them (`squeue --json`, slurmrestd, pyslurm), from what `squeue -O Reason`
prints. squeue prints slurmctld's description of the reason instead of its code when
slurmctld wrote one: most begin with the code (`ReqNodeNotAvail, UnavailableNodes:n4`),
the rest are the sentences of `DESCRIPTIONS`, each with the code slurmctld sets beside it.
"""

from __future__ import annotations

import functools
import re

# The start of each description slurmctld 22.05 writes that does not begin with its code.
DESCRIPTIONS: tuple[tuple[str, str], ...] = (
    ("Nodes required for job are DOWN, DRAINED or reserved", "Resources"),
    ("Job's QOS not permitted to use this partition", "QOSNotAllowed"),
    ("Job's QOS not known, so it can't use this partition", "QOSNotAllowed"),
    ("Job's account not permitted to use this partition", "AccountNotAllowed"),
    ("job requeued in held state", "JobHeldUser"),
    ("job requeued in special exit state", "JobHeldUser"),
    ("launch failed requeued held", "JobHeldAdmin"),
    ("Job is at or exceeds QOS", "TimeLimit"),
    ("burst_buffer/", "BurstBufferOperation"),
)
_RESERVATION_DELETED = re.compile(r"^Reservation \S+ was deleted$")
_CODE = re.compile(r"^[A-Za-z0-9_]+$")


@functools.lru_cache(maxsize=4096)  # thousands of jobs share a handful of reasons
def code(text: str) -> str:
    """The reason code of squeue's reason `text` (a code, or a description of one);
    a description this table does not know is kept whole."""
    first = text.split(",", 1)[0].strip()
    if _CODE.match(first):
        return first
    if _RESERVATION_DELETED.match(text):
        return "ReservationDeleted"
    return next((c for start, c in DESCRIPTIONS if text.startswith(start)), text)
