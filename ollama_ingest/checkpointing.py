"""When the service saves its checkpoint (docs/design.md §10): only once everything fed so far is acknowledged
(nothing pending in the sink), only when the cursor moved, at most once per ``flush_interval_s`` (its
deadline ``commit``) unless forced at the stop. A checkpoint that cannot be saved (disk full, read-only) is
said once and the data keeps flowing: a restart re-reads from the last one saved, which rewrites the same
points."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

from . import checkpoint as ckpt
from .deadlines import Deadlines

log = logging.getLogger("ollama_ingest.service")


class Checkpointer:
    def __init__(self, state_dir: Path, interval_s: float, timers: Deadlines) -> None:
        self.state_dir, self.interval_s, self.timers = state_dir, interval_s, timers
        self.committed_cursor: str | None = None  # the cursor of the checkpoint on disk
        self._failing = False
        timers.at("commit", -math.inf)

    def wanted(self, cursor: str | None, pending: int) -> bool:
        return not pending and cursor is not None and cursor != self.committed_cursor

    def commit(self, cursor: str | None, pending: int, build: Callable[[], ckpt.Checkpoint], now: float,
               force: bool = False) -> bool:
        """Save ``build()`` if it is wanted and due (or ``force``); True when saved."""
        if not self.wanted(cursor, pending) or not (force or self.timers.due("commit", now)):
            return False
        self.timers.after("commit", self.interval_s, now)
        cp = build()
        try:
            size = ckpt.save(self.state_dir, cp)
        except OSError as exc:
            if not self._failing:
                self._failing = True
                log.error("cannot save the checkpoint in %s: %s (going on; a restart will re-read from the "
                          "last one saved)", self.state_dir, exc.strerror or exc)
            return False
        if self._failing:
            self._failing = False
            log.warning("checkpoint saved again")
        self.committed_cursor = cursor
        log.debug("checkpoint saved: entry %d, %d bytes, %.1f ms", cp.seq, size, (time.monotonic() - now) * 1000)
        return True
