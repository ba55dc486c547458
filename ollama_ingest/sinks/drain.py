"""Write everything a sink holds, the caller doing the waiting: the sink makes one request per ``step`` and
says when the next may go; ``wait`` is the caller's (a plain sleep, or one that prints a status line,
gives up after an outage bound, or feeds a watchdog)."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..entry import Sink


def drain(sink: Sink, wait: Callable[[float], None] = time.sleep, deadline: float | None = None) -> bool:
    """Step ``sink`` until nothing is pending; between attempts ``wait(seconds)`` as each outcome says (it may
    raise to give up). With ``deadline`` (``time.monotonic()``), no request outlives it and no pause reaches
    past it: False when it came first (the points stay buffered), True when everything was acknowledged (or
    dropped as refused)."""
    now = time.monotonic()
    pause = max(0.0, sink.retry_at - now) if sink.retry_at is not None else 0.0  # a failed attempt before
    while sink.pending:
        if pause > 0:
            if deadline is not None and time.monotonic() + pause >= deadline:
                return False
            wait(pause)
        timeout = None
        if deadline is not None:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                return False
        pause = sink.step(timeout).delay_s
    return True
