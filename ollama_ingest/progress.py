"""Progress of a backfill on stderr (tqdm), only when stderr is a terminal: entries read and their rate, and
for a file its percentage and ETA. Nothing at all otherwise, and then no cost: the sources are not wrapped."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Iterator

from .entry import Entry

UPDATE_EVERY_S = 0.25
CHECK_EVERY = 512  # entries between two looks at the clock


class Progress:
    def __init__(self, stream=None, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            try:
                enabled = self.stream.isatty()
            except (AttributeError, ValueError):
                enabled = False
        self.enabled = enabled
        self._bar = None

    def track(self, source, label: str) -> Iterable[Entry]:
        """``source`` itself when disabled; else an iterator over it that draws the bar."""
        if not self.enabled:
            return source
        return _Tracked(self, source, label)

    @contextlib.contextmanager
    def logging(self):
        """Log lines go above the bar instead of through it."""
        if not self.enabled:
            yield
            return
        from tqdm.contrib.logging import logging_redirect_tqdm

        with logging_redirect_tqdm():
            yield

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class _Tracked:
    """An iterator over a source's entries that keeps a tqdm bar current. The source's own attributes (its
    counters) stay on the source: the pipeline reads ``skipped`` and ``prefiltered`` from this wrapper."""

    def __init__(self, progress: Progress, source, label: str) -> None:
        self.progress, self.source, self.label = progress, source, label

    def __getattr__(self, name: str):
        return getattr(self.source, name)  # the rest of the Source contract (entry.py) is the source's own

    def __iter__(self) -> Iterator[Entry]:
        from tqdm import tqdm

        src = self.source
        position = src.position
        pos = position()
        common = {"desc": self.label, "leave": False, "file": self.progress.stream, "mininterval": UPDATE_EVERY_S,
                  **_width(self.progress.stream)}
        if pos is not None:
            bar = tqdm(total=pos[1], unit="B", unit_scale=True, unit_divisor=1024, **common)
        else:
            bar = tqdm(unit=" entries", unit_scale=True, **common)
        self.progress.close()
        self.progress._bar = bar
        t0 = time.monotonic()
        next_at = t0 + UPDATE_EVERY_S
        built = 0
        try:
            for e in src:
                built += 1
                if not built % CHECK_EVERY and time.monotonic() >= next_at:
                    next_at = time.monotonic() + UPDATE_EVERY_S
                    self._update(bar, position, built, t0)
                yield e
            self._update(bar, position, built, t0)
        finally:
            self.progress.close()

    def _update(self, bar, position, built: int, t0: float) -> None:
        entries = built + self.source.prefiltered
        pos = position()
        if pos is not None:
            bar.update(pos[0] - bar.n)
            rate = entries / max(time.monotonic() - t0, 1e-6)
            bar.set_postfix_str(f"{entries:,} entries, {rate:,.0f} entries/s", refresh=False)
        else:
            bar.update(entries - bar.n)


def _width(stream) -> dict:
    """Follow the terminal's size; a terminal that reports none (a serial console, ``script``) gets 100 columns
    and 24 rows (tqdm would draw nothing in 0 columns or 0 rows)."""
    import os

    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        size = os.terminal_size((0, 0))
    return {**({"dynamic_ncols": True} if size.columns else {"ncols": 100}),
            **({} if size.lines else {"nrows": 24})}  # tqdm hides a bar below the last row: 0 rows hides all
