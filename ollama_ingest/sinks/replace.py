"""A backfill owns the window it covers, per host: what an earlier backfill wrote there is deleted before
this one's points land, so any sequence of backfills leaves what the last one says (docs/schema.md).

Why not an identity that never changes: the same history read from another form has other timestamps (the
short text forms have whole seconds, so every request start moves), and a name learned later (``--models-dir``)
changes the ``model`` tag: both make new series next to the old ones, which the timeline draws on top of each
other. Deleting is the only way the last run's view can replace the earlier one.

The window of a host is, per measurement, the hull of
- the entries of that host read so far (first to last, whatever they gave), and
- the points of that host and measurement about to be written (a request starts before its ``[GIN]`` line,
  so the first requests of an input may begin before its first entry),
widened to whole seconds (``widen``).
It grows while the input is read; before a batch is written, only the growth is deleted, so nothing this run
wrote is ever deleted by it (all of it lies inside what was deleted before it was written). Only the five
journal measurements are touched: ``ollama_model_inventory`` and ``ollama_ingest`` (written by ``run`` and
``check``) are never deleted by a backfill.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .influx import InfluxSink
from .lineprotocol import Point
from .tls import rfc3339_ns

log = logging.getLogger("ollama_ingest.replace")

JOURNAL_MEASUREMENTS = ("ollama_request", "ollama_load", "ollama_session", "ollama_event", "ollama_vram")


def predicate(measurement: str, host: str) -> str:
    """A v2 delete predicate: ``_measurement="m" AND host="h"`` (double quotes and backslashes escaped)."""
    def q(v: str) -> str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return f"_measurement={q(measurement)} AND host={q(host)}"


SECOND_NS = 1_000_000_000


def widen(measurement: str, lo: int, hi: int) -> tuple[int, int]:
    """The window to whole seconds: the short text forms have whole-second times, so the same history read as
    an export lies up to a second later. A request's start is its end − latency, so a request in a text form
    starts up to a second earlier than the same request in an export: its window opens a second earlier still.
    Windows split on whole seconds (``--until 00:00`` then ``--since 00:00``) never overlap."""
    lo -= lo % SECOND_NS
    if measurement == "ollama_request":
        lo -= SECOND_NS
    return lo, hi - hi % SECOND_NS + SECOND_NS - 1


class ReplacingSink:
    """Wraps an ``InfluxSink``: deletes the growth of the covered window before every write."""

    def __init__(self, sink: InfluxSink, spans: dict[str, list[int]]) -> None:
        self.sink = sink
        self.spans = spans  # host → [first, last] µs of the entries read so far (the Pipeline keeps it)
        self._wanted: dict[tuple[str, str], list[int]] = {}  # (host, measurement) → [lo, hi] ns of points
        self.deleted: dict[tuple[str, str], tuple[int, int]] = {}  # what was deleted so far, inclusive ns
        self.deletes = 0

    # -- the sink interface --------------------------------------------------------------------------------
    def add(self, points: Iterable[Point]) -> None:
        pts = points if isinstance(points, list) else list(points)
        wanted = self._wanted
        for p in pts:
            key = (p.tags.get("host", ""), p.measurement)
            w = wanted.get(key)
            if w is None:
                wanted[key] = [p.time_ns, p.time_ns]
            elif p.time_ns < w[0]:
                w[0] = p.time_ns
            elif p.time_ns > w[1]:
                w[1] = p.time_ns
        if self.sink.pending + len(pts) >= self.sink.batch_size:  # the sink writes inside add()
            self.clear_ahead()
        self.sink.add(pts)

    def due(self) -> bool:
        return self.sink.due()

    def flush(self) -> None:
        self.clear_ahead()
        self.sink.flush()

    def close(self) -> None:
        self.clear_ahead()
        self.sink.close()

    @property
    def written(self) -> int:
        return self.sink.written

    @property
    def dropped(self) -> int:
        return self.sink.dropped

    # -- the window ----------------------------------------------------------------------------------------
    def window(self) -> dict[str, tuple[int, int]]:
        """host → (first, last) ns deleted and rewritten, over every measurement."""
        out: dict[str, tuple[int, int]] = {}
        for (host, _m), (lo, hi) in self.deleted.items():
            a, b = out.get(host, (lo, hi))
            out[host] = (min(a, lo), max(b, hi))
        return out

    def clear_ahead(self) -> None:
        """Delete what the window grew by since the last write (none of this run's points are in there)."""
        keys = set(self._wanted)
        for host in self.spans:
            keys.update((host, m) for m in JOURNAL_MEASUREMENTS)
        for host, m in sorted(keys):
            lo = hi = None
            span = self.spans.get(host)
            if span is not None:
                lo, hi = span[0] * 1000, span[1] * 1000
            w = self._wanted.get((host, m))
            if w is not None:
                lo = w[0] if lo is None else min(lo, w[0])
                hi = w[1] if hi is None else max(hi, w[1])
            if lo is None:
                continue
            lo, hi = widen(m, lo, hi)
            done = self.deleted.get((host, m))
            if done is None:
                self._delete(m, host, lo, hi)
            else:
                if lo < done[0]:
                    self._delete(m, host, lo, done[0] - 1)
                if hi > done[1]:
                    self._delete(m, host, done[1] + 1, hi)
                lo, hi = min(lo, done[0]), max(hi, done[1])
            self.deleted[(host, m)] = (lo, hi)

    def _delete(self, measurement: str, host: str, lo: int, hi: int) -> None:
        log.debug("deleting %s host=%s %s … %s", measurement, host, rfc3339_ns(lo), rfc3339_ns(hi))
        self.sink.delete(rfc3339_ns(lo), rfc3339_ns(hi), predicate(measurement, host))
        self.deletes += 1
