"""sources → parse → correlate → sink, and the counts a run reports.

The sink only buffers; ``writer`` writes what it holds once it is due (``drain.drain``: one request after
another, pausing as each outcome says; ``backfill`` passes its own pause, which reports an outage and bounds
it). The service passes no writer: its loop writes, and waits in ``select`` meanwhile.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from itertools import islice

from .correlate.contract import Correlator
from .entry import Entry, Sink, Source
from .events import Event
from .parse import ParseStats, parse_entry
from .sinks.drain import drain

log = logging.getLogger("ollama_ingest.pipeline")


class Pipeline:
    def __init__(self, timeline: Correlator, sink: Sink, unit: str | None = "ollama.service",
                 writer: Callable[[Sink], object] | None = drain) -> None:
        self.timeline = timeline
        self.sink = sink
        self.writer = writer  # writes what the sink holds (None: the caller does)
        self.unit = unit
        self.stem = unit.removesuffix(".service").lower() if unit else None
        self.stats = ParseStats()
        self.source_skips: Counter[str] = Counter()
        self.other_unit = 0
        self.other_units: Counter[str] = Counter()  # which units the other_unit entries were of
        self.points = 0
        # host → [first, last] µs of the entries read: the window a backfill covers (and replaces)
        self.spans: dict[str, list[int]] = {}
        self.by_measurement: Counter[str] = Counter()
        self.models: set[str] = set()  # model labels in the points: names, or sha256:<prefix> when unnamed
        self.inputs: list[dict] = []  # per source: format, host, assumptions, what could not be read

    def wanted(self, e: Entry) -> bool:
        """The unit's own lines and systemd's lines about it; text input has no UNIT field."""
        if self.unit is None:
            return True
        if e.unit:
            return e.unit == self.unit
        if e.ident == "systemd" and self.stem:
            msg = e.message if isinstance(e.message, str) else ""
            return self.stem in msg.lower()
        return True

    def feed(self, entries: Iterable[Entry]) -> None:
        stats, feed, add, wanted, spans = self.stats, self.timeline.feed, self._add, self.wanted, self.spans
        writer = self.writer
        due = self.sink.due if writer is not None else None
        for e in entries:
            if not wanted(e):
                self.other_unit += 1
                self.other_units[e.unit] += 1
                continue
            span = spans.get(e.host)
            if span is None:
                spans[e.host] = [e.ts_us, e.ts_us]
            elif e.ts_us > span[1]:
                span[1] = e.ts_us
            elif e.ts_us < span[0]:
                span[0] = e.ts_us
            evs = parse_entry(e, stats)
            if evs:
                for event in evs:
                    try:
                        pts = feed(event)
                    except Exception as exc:  # a correlator bug must cost one event, not the service
                        self._correlate_error(event.kind, exc)
                        continue
                    if pts:
                        add(pts)
            if due is not None and due():
                writer(self.sink)

    def run(self, sources: Iterable[Source]) -> dict:
        from .sources.report import input_report

        st = self.stats
        for src in sources:
            entries, noise, others = st.entries, st.noise, self.other_units.copy()
            it = iter(src)
            first = list(islice(it, 3))  # what an input without Ollama lines starts with, to say so
            self.feed(first)
            self.feed(it)
            self.source_skips.update(src.skipped)
            st.entries += src.prefiltered  # noise the reader counted without building
            st.noise += src.prefiltered
            other = self.other_units - others
            self.inputs.append(input_report(
                src, entries=st.entries - entries + sum(other.values()), ollama=(st.entries - entries)
                - (st.noise - noise), other_unit=other, unit=self.unit, first=[e.text[:120] for e in first]))
        self.finish()
        if self.writer is not None:
            self.writer(self.sink)
        return self.summary()

    # -- the correlator's input that is not an entry's (the service): through the same guard and counts --
    def feed_event(self, event: Event) -> None:
        """An event no entry gave (an /api/ps poll): correlated like a parsed one."""
        try:
            pts = self.timeline.feed(event)
        except Exception as exc:
            self._correlate_error(event.kind, exc)
            return
        if pts:
            self._add(pts)

    def advance(self, now_ns: int) -> None:
        """The input is complete up to ``now_ns`` (a quiet journal): what waited for evidence is decided."""
        try:
            pts = self.timeline.advance(now_ns)
        except Exception as exc:
            self._correlate_error("advance", exc)
            return
        if pts:
            self._add(pts)

    def upsert_open_sessions(self) -> None:
        """The sessions still open, written again as they stand (their end: the host's last activity)."""
        try:
            pts = self.timeline.open_sessions()
        except Exception as exc:
            self._correlate_error("open sessions", exc)
            return
        if pts:
            self._add(pts)

    def _correlate_error(self, what: str, exc: Exception) -> None:
        """A correlator bug costs one event (or one tick), counted by reason, logged once per reason."""
        reason = f"correlate {what}: {type(exc).__name__}"
        if reason not in self.stats.skipped:
            log.error("could not correlate %s (counted, going on)", what, exc_info=exc)
        self.stats.skipped[reason] += 1

    def finish(self) -> None:
        """End of input: whatever the correlator still holds (held requests, open sessions)."""
        pts = self.timeline.finish()
        if pts:
            self._add(pts)

    def _add(self, pts: list) -> None:
        self.points += len(pts)
        count, models = self.by_measurement, self.models
        for p in pts:
            count[p.measurement] += 1
            m = p.tags.get("model")
            if m:
                models.add(m)
        self.sink.add(pts)

    def counts(self) -> dict[str, int]:
        """The service's self-monitoring counts of what was read (selfmon.py): every entry read, including
        other units'; the events parsed; the lines skipped (by any reason); the noise lines."""
        st = self.stats
        return {"entries": st.entries + self.other_unit, "events": st.events,
                "unparsed": sum(st.skipped.values()), "noise": st.noise}

    def summary(self) -> dict:
        d = self.stats.as_dict()
        d["skipped"] += sum(self.source_skips.values())
        d["skip_reasons"].update(self.source_skips)
        d["other_unit"] = self.other_unit
        d["inputs"] = self.inputs
        d["points"] = self.points
        d["written"] = self.sink.written
        d["dropped"] = self.sink.dropped
        return d
