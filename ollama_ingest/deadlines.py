"""The service's timers: named deadlines on the monotonic clock, one small scheduler instead of a field per
timer. The loop asks which are due, and sleeps until the earliest of those that matter in its state."""

from __future__ import annotations

import math
from collections.abc import Iterable


class Deadlines:
    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def at(self, name: str, when: float) -> None:
        """``name`` is due at ``when`` (``time.monotonic()``); ``math.inf``: never."""
        self._at[name] = when

    def after(self, name: str, seconds: float, now: float) -> None:
        self._at[name] = now + seconds

    def when(self, name: str) -> float:
        return self._at.get(name, math.inf)

    def due(self, name: str, now: float) -> bool:
        return now >= self._at.get(name, math.inf)

    def every(self, name: str, interval: float, now: float) -> bool:
        """Due now? Then due again ``interval`` later (``interval`` ≤ 0: never again)."""
        if now < self._at.get(name, math.inf):
            return False
        self._at[name] = now + interval if interval > 0 else math.inf
        return True

    def next_in(self, now: float, names: Iterable[str]) -> float:
        """Seconds until the earliest of ``names`` (≥ 0; ``math.inf`` when none is set)."""
        return max(0.0, min((self._at.get(n, math.inf) for n in names), default=math.inf) - now)
