"""The one pause policy between attempts at InfluxDB, for every retry path (writes and deletes, connection
errors, timeouts, TLS hiccups, 429 and 5xx).

- ``Retry-After`` given by the server: that, as it says (seconds or an HTTP date), within
  [``MIN_RETRY_GAP_S``, ``MAX_RETRY_AFTER_S``];
- otherwise exponential from ``FIRST_BACKOFF_S`` up to ``max_backoff_s``, each pause jittered to 50–100 %
  so that several writers that lost the database together do not come back together;
- never more than ten attempts a second, whatever the server says.
"""

from __future__ import annotations

import random

MAX_BACKOFF_S = 5.0  # the default of the setting max_backoff_s (config.py uses this one)
FIRST_BACKOFF_S = 0.5
MIN_RETRY_GAP_S = 0.1  # never more than 10 attempts a second, whatever Retry-After says
MAX_RETRY_AFTER_S = 300.0


class Backoff:
    """Pauses between failed attempts; ``reset`` once the database answers again."""

    def __init__(self, max_s: float = MAX_BACKOFF_S, rng: random.Random | None = None) -> None:
        self.max_s = max_s
        self._rng = rng or random.Random()
        self._next = FIRST_BACKOFF_S

    def reset(self) -> None:
        self._next = FIRST_BACKOFF_S

    def pause(self, retry_after: float | None = None) -> float:
        """The pause before the next attempt (and the step after it grows: a server that keeps sending
        ``Retry-After`` and then stops is not hit at the first step again)."""
        jittered = min(self._next, self.max_s) * self._rng.uniform(0.5, 1.0)
        self._next = min(self._next * 2, self.max_s)
        wait = retry_after if retry_after is not None else jittered
        return max(MIN_RETRY_GAP_S, min(wait, MAX_RETRY_AFTER_S))
