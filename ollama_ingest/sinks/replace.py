"""A backfill owns the window it covers, per host: what an earlier backfill wrote there is deleted before
this one's points land, so any sequence of backfills leaves what the last one says (docs/design.md §9, for
users docs/schema.md).

Why not an identity that never changes: the same history read from another form has other timestamps (the
short text forms have whole seconds, so every request start moves), and a name learned later (``--models-dir``)
changes the ``model`` tag: both make new series next to the old ones, which the timeline draws on top of each
other. Deleting is the only way the last run's view can replace the earlier one.

The window of a host is, per measurement, the span of the entries of that host read so far (first to last,
whatever they gave), widened to whole seconds (``widen``). It grows while the input is read; before a batch is
written, only the growth is deleted, so nothing this run wrote is ever deleted by it.

A point outside that span (a long request that started before the input's first entry: its start is its end
− latency) does not widen the window: a window stretched back by a 30-minute request would delete 30 minutes
of an earlier backfill's points that this run does not write again. Such a point gets a delete of its own
instead, ±1 s around it and narrowed by the tags that do not depend on naming (a request's endpoint, method
and status; an event's kind), so the same point from another form or with a name learned later still
replaces the earlier copy. Points of this run written outside the span are never deleted afterwards, not even
when the span grows over them (entries out of order). Only the five journal measurements are touched:
``ollama_model_inventory`` and ``ollama_ingest`` (written by ``run`` and ``check``) are never deleted.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Iterable

from ..entry import Outcome
from ..schema.point import Point
from .influx import InfluxSink
from .tls import rfc3339_ns

log = logging.getLogger("ollama_ingest.replace")

JOURNAL_MEASUREMENTS = ("ollama_request", "ollama_load", "ollama_session", "ollama_event", "ollama_vram")


def predicate(measurement: str, host: str, narrow: dict[str, str] | None = None) -> str:
    """A v2 delete predicate: ``_measurement="m" AND host="h"`` [``AND tag="v"`` …] (double quotes and
    backslashes escaped)."""
    def q(v: str) -> str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

    terms = [f"_measurement={q(measurement)}", f"host={q(host)}"]
    terms += [f"{k}={q(v)}" for k, v in sorted((narrow or {}).items())]
    return " AND ".join(terms)


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


# the tags of a point that a later run writes the same whatever it knows about names (model, series change)
STABLE_TAGS = {"ollama_request": ("endpoint", "method", "status"), "ollama_event": ("kind",), "ollama_vram": ("gpu",)}


def _subtract(lo: int, hi: int, done: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """[lo, hi] minus the sorted, disjoint intervals of ``done`` (all inclusive)."""
    out, at = [], lo
    for a, b in done:
        if b < at:
            continue
        if a > hi:
            break
        if a > at:
            out.append((at, a - 1))
        at = max(at, b + 1)
    if at <= hi:
        out.append((at, hi))
    return out


def _merge(done: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted([*done, (lo, hi)]):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


class ReplacingSink:
    """Wraps an ``InfluxSink``: deletes the growth of the covered window before every write. The deletes are
    requests of ``step`` like the writes (one at a time, classified, paced by the same retry clock)."""

    def __init__(self, sink: InfluxSink, spans: dict[str, list[int]]) -> None:
        self.sink = sink
        self.spans = spans  # host → [first, last] µs of the entries read so far (the Pipeline keeps it)
        self.done: dict[tuple[str, str], list[tuple[int, int]]] = {}  # (host, measurement) → deleted, ns
        self.kept: dict[tuple[str, str], set[int]] = {}  # times of this run's points written outside them
        self._outside: list[Point] = []  # points outside the span when added: each gets its own delete
        self._cleared: dict[str, tuple[int, int]] = {}  # host → the span clear_ahead last saw
        self._deletes: deque[tuple[str, str, str]] = deque()  # (start, stop, predicate) to send before writing

    # -- the Sink contract (entry.py) ----------------------------------------------------------------------
    def add(self, points: Iterable[Point]) -> None:
        pts = points if isinstance(points, list) else list(points)
        spans = self.spans
        for p in pts:
            span = spans.get(p.tags.get("host", ""))
            if span is None:
                self._outside.append(p)
                continue
            lo, hi = widen(p.measurement, span[0] * 1000, span[1] * 1000)
            if not lo <= p.time_ns <= hi:
                self._outside.append(p)
        self.sink.add(pts)

    def due(self) -> bool:
        return self.sink.due()

    def due_in(self) -> float | None:
        return self.sink.due_in()

    def full(self) -> bool:
        return self.sink.full()

    def probe(self, point: Point | None = None, timeout_s: float | None = None) -> Outcome:
        return self.sink.probe(point, timeout_s)

    @property
    def pending(self) -> int:
        """Points held, deletes to make, and 1 while the window grew since the last ``step`` (a run that writes
        nothing there still deletes what an earlier one wrote)."""
        grown = bool(self._outside) or any(self._cleared.get(h) != (s[0], s[1]) for h, s in self.spans.items())
        return self.sink.pending + len(self._deletes) + grown

    @property
    def retry_at(self) -> float | None:
        return self.sink.retry_at

    def step(self, timeout_s: float | None = None) -> Outcome:
        """One request: the next delete while any is due (the window grew), else the inner sink's write."""
        self.clear_ahead()
        if self._deletes:
            o = self.sink.delete_step(*self._deletes[0], timeout_s)
            if o.ok:
                self._deletes.popleft()
            return o
        return self.sink.step(timeout_s)

    def close(self) -> None:
        self.sink.close()

    @property
    def written(self) -> int:
        return self.sink.written

    @property
    def dropped(self) -> int:
        return self.sink.dropped

    @property
    def write_errors(self) -> Counter[str]:
        return self.sink.write_errors

    @property
    def outage_s(self) -> float:
        return self.sink.outage_s

    # -- the window ----------------------------------------------------------------------------------------
    def window(self) -> dict[str, tuple[int, int]]:
        """host → (first, last) ns of the window deleted and rewritten, over every measurement."""
        out: dict[str, tuple[int, int]] = {}
        for (host, _m), done in self.done.items():
            if not done:
                continue
            lo, hi = done[0][0], done[-1][1]
            a, b = out.get(host, (lo, hi))
            out[host] = (min(a, lo), max(b, hi))
        return out

    def clear_ahead(self) -> None:
        """Queue the deletes of what the window grew by since the last write, and around each point outside it."""
        for host, (first, last) in sorted(self.spans.items()):
            self._cleared[host] = (first, last)
            for m in JOURNAL_MEASUREMENTS:
                key = (host, m)
                lo, hi = widen(m, first * 1000, last * 1000)
                done = self.done.get(key, [])
                for a, b in _subtract(lo, hi, done):
                    self._delete(key, a, b, {})
                self.done[key] = _merge(done, lo, hi)
        for p in self._outside:
            key = (p.tags.get("host", ""), p.measurement)
            t = p.time_ns
            if any(a <= t <= b for a, b in self.done.get(key, ())) or t in self.kept.get(key, ()):
                continue
            narrow = {k: p.tags[k] for k in STABLE_TAGS.get(p.measurement, ()) if p.tags.get(k)}
            for a, b in _subtract(t - SECOND_NS, t + SECOND_NS, self.done.get(key, [])):
                self._delete(key, a, b, narrow)
            self.kept.setdefault(key, set()).add(t)
        self._outside.clear()

    def _delete(self, key: tuple[str, str], lo: int, hi: int, narrow: dict[str, str]) -> None:
        """Queue the delete of [lo, hi] of one host's measurement, stepping around this run's points written
        outside the span (their exact times)."""
        host, measurement = key
        kept = sorted(t for t in self.kept.get(key, ()) if lo <= t <= hi)
        for a, b in _subtract(lo, hi, [(t, t) for t in kept]):
            log.debug("deleting %s host=%s %s %s … %s", measurement, host, narrow or "", rfc3339_ns(a), rfc3339_ns(b))
            self._deletes.append((rfc3339_ns(a), rfc3339_ns(b), predicate(measurement, host, narrow)))
