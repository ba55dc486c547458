"""Small builders shared by the tests."""

from __future__ import annotations

from collections import Counter

from ollama_ingest.entry import Entry, Outcome
from ollama_ingest.parse import ParseStats, parse_entry


def entry(message: str | bytes, ts_us: int = 1_754_690_557_187_000, **kw) -> Entry:
    kw.setdefault("host", "gpu-host")
    kw.setdefault("pid", 1617)
    kw.setdefault("ident", "ollama")
    kw.setdefault("unit", "ollama.service")
    return Entry(ts_us=ts_us, message=message, **kw)


def parse_one(message: str | bytes, **kw):
    """Parse one line; assert it gave exactly one event and no skip."""
    st = ParseStats()
    evs = parse_entry(entry(message, **kw), st)
    assert not st.skipped, st.skipped
    assert len(evs) == 1, (evs, st.as_dict())
    return evs[0]


class ListSink:
    """A sink that keeps the points in a list (the ``Sink`` contract of entry.py, as the real sinks)."""

    def __init__(self) -> None:
        self.points: list = []
        self.written = self.dropped = 0
        self.write_errors: Counter[str] = Counter()

    def add(self, pts) -> None:
        self.points.extend(pts)
        self.written += len(pts)

    pending = 0  # kept (counted) at once: nothing is ever held
    retry_at = None
    outage_s = 0.0

    def due(self) -> bool:
        return False

    def due_in(self) -> None:
        return None

    def full(self) -> bool:
        return False

    def step(self, timeout_s=None) -> Outcome:
        return Outcome("ack")

    def probe(self, point=None, timeout_s=None) -> Outcome:
        if point is not None:
            self.add([point])
        return Outcome("ack", int(point is not None))

    def close(self) -> None:
        pass
