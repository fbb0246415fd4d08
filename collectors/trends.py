"""Small pure helpers over the recent history of a measured value."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise


def growing(values: Sequence[int], cycles: int) -> bool:
    """Whether the value rose at every one of the last `cycles` readings."""
    return len(values) >= cycles and all(b > a for a, b in pairwise(values[-cycles:]))
