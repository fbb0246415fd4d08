"""Small pure helpers over the recent history of a measured value."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from itertools import pairwise


def growing(values: Sequence[int], cycles: int) -> bool:
    """Whether the value rose at every one of the last `cycles` readings."""
    return len(values) >= cycles and all(b > a for a, b in pairwise(values[-cycles:]))


class History:
    """The last `size` readings per name; a missing reading (None) forgets that name's past."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: dict[str, deque[int]] = {}
        self._lock = threading.Lock()

    def add(self, readings: Iterable[tuple[str, int | None]]) -> dict[str, Sequence[int]]:
        """Record this cycle's readings; return every name's history, this cycle included."""
        with self._lock:
            for name, value in readings:
                past = self._values.setdefault(name, deque(maxlen=self._size))
                if value is None:
                    past.clear()
                else:
                    past.append(value)
            return {name: tuple(past) for name, past in self._values.items()}
