"""One journal entry as every source hands it to the parsers, the one function that builds it, the
contract every source keeps, and the contract of every sink (``Sink``, with the ``Outcome`` of a request).

The rules, in one place (``make_entry``; docs/design.md §8):

- ``message`` is ``str`` when the payload is valid UTF-8 and ``bytes`` otherwise, so nothing is lost;
- ``unit`` is the entry's own unit (``_SYSTEMD_UNIT``), except for systemd's own lines (PID 1), whose
  ``UNIT=`` names the unit they speak of ("Started ollama.service"). Only PID 1 may speak for a unit:
  the journal matches the same way (``_SYSTEMD_UNIT=u`` or ``UNIT=u`` + ``_PID=1``);
- noise: a reader may drop an entry the parsers' cheap pre-filter rejects without building it (counted
  in ``prefiltered``), but never one of systemd's (PID 1): those do not look like Ollama's lines.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .schema.point import Point


@dataclass(slots=True)
class Entry:
    """A journal entry reduced to what the parsers and the correlator need.

    ``seq`` is the entry's position in its input (or the journal seqnum): it breaks ties deterministically.
    """

    ts_us: int  # __REALTIME_TIMESTAMP: µs since the epoch, UTC
    message: str | bytes
    host: str = ""
    pid: int = 0
    unit: str = ""  # _SYSTEMD_UNIT for the service's own lines, UNIT= for systemd's lines about it
    ident: str = ""  # SYSLOG_IDENTIFIER ("ollama", "systemd", …)
    cursor: str = ""
    seq: int = 0

    @property
    def text(self) -> str:
        m = self.message
        return m if isinstance(m, str) else m.decode("utf-8", "replace")


def make_entry(ts_us: int, message: str | bytes, host: str = "", pid: int = 0, own_unit: str = "",
               unit_field: str = "", ident: str = "", cursor: str = "", seq: int = 0) -> Entry:
    """The one way to build an Entry (see the module's rules). ``own_unit`` is ``_SYSTEMD_UNIT``,
    ``unit_field`` is ``UNIT=`` (readers may leave it empty unless ``pid == 1``)."""
    if type(message) is bytes:
        try:
            message = message.decode()
        except UnicodeDecodeError:
            pass  # not UTF-8: kept as bytes
    return Entry(ts_us, message, host, pid, unit_field if pid == 1 and unit_field else own_unit, ident, cursor, seq)


def pid_of(raw: bytes | str | None) -> int:
    return int(raw) if raw and raw.isdigit() else 0


class Source(Protocol):
    """What every reader is: an iterator of entries plus what it could not read and what it assumed."""

    name: str  # the input as the user gave it ("-" is stdin; "the local journal")
    format: str  # what it is read as: journal, export, json, text, plain, docker, compose, kubectl, docker-json
    skipped: Counter[str]  # reason → records that could not be read
    prefiltered: int  # noise entries counted without being built (the noise rule above)
    assumptions: list[str]  # what was inferred or assumed (year, zone, host), to be said to the user
    unrecognised: Counter[str]  # a sample of the records it could not read: their start → count
    since_us: int | None  # the --since/--until window it reads (None: open)
    until_us: int | None
    unit_entries: int  # entries the input itself says are the unit's (its match, UNIT, its ident); ≥ 1 is enough

    def __iter__(self) -> Iterator[Entry]: ...

    def position(self) -> tuple[int, int] | None:
        """(bytes read, size) of a regular file being read, for progress; None for journals, pipes and stdin."""
        ...

    def nothing_found_hint(self) -> str:
        """When nothing of the unit was found: what the input does have (e.g. a journal's Ollama-like units)."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one request of a sink came to (``step``, ``probe``), as the writer classified the answer. The
    writer never waits: the caller waits ``delay_s`` (until ``at``, ``time.monotonic()``) before the next.

    - ``ack``: the points were taken (only then may a caller move its checkpoint);
    - ``retry``: unavailable (connection, timeout, 429, 5xx): the same points again at ``at``;
    - ``split``: too large (413): the batch was cut in halves, written next (a single point is dropped);
    - ``reject``: the batch holds a point the database refuses (400/422): halves until it is alone, then
      only it is dropped (counted in ``dropped``);
    - ``fatal``: what only the user can fix (token, bucket, org, certificate): ``why`` names the setting.
    """

    kind: str  # ack | retry | split | reject | fatal
    points: int = 0  # points the request carried
    delay_s: float = 0.0  # wait this long before the next request
    at: float = 0.0  # time.monotonic() of the next request (now + delay_s)
    why: str = ""  # one line for people (never the token)
    cause: str = ""  # the write_errors key the failed attempt was counted under ("" when not counted)

    @property
    def ok(self) -> bool:
        return self.kind == "ack"


@runtime_checkable
class Sink(Protocol):
    """Where points go: InfluxDB (sinks/influx.py), InfluxDB replacing the window a backfill covers
    (sinks/replace.py), line protocol to a file or stdout (sinks/stdout.py).

    ``add`` only buffers. ``step`` makes one request (a write, or a delete of the replacing sink) and returns
    its ``Outcome``; a fatal one raises ``SinkConfigError`` (a file that cannot be written: ``OutputError``).
    The sink never waits: its caller waits before the next step (``sinks/drain.py``, the service's loop),
    which is how the service keeps the watchdog fed and answers SIGTERM during an outage."""

    written: int  # points acknowledged (whole lines in the file)
    dropped: int  # points refused for good (400/422; a single point still too large), each counted once
    write_errors: Counter[str]  # failed attempts by cause: timeout, connection, truncated, tls, http 503 …
    retry_at: float | None  # time.monotonic() before which the next request must not go (None: any time)

    @property
    def pending(self) -> int:
        """Points held (and deletes still to make): 0 means everything added was acknowledged or dropped."""
        ...

    @property
    def outage_s(self) -> float:
        """How long writes have been failing (0 while the database answers)."""
        ...

    def add(self, points: Iterable[Point]) -> None: ...

    def due(self) -> bool:
        """Does it want a ``step`` now (a full batch, the oldest point ``flush_interval_s`` old, a retry due)?"""
        ...

    def due_in(self) -> float | None:
        """Seconds until it wants a ``step`` (None: not by time: nothing held, or it writes only when full)."""
        ...

    def full(self) -> bool:
        """Takes no more before it has written (a full batch, or a retry pending): the caller stops reading."""
        ...

    def step(self, timeout_s: float | None = None) -> Outcome:
        """One request of at most ``timeout_s`` toward emptying it (nothing held: an ``ack`` of 0 points)."""
        ...

    def probe(self, point: Point | None = None, timeout_s: float | None = None) -> Outcome:
        """First contact, one request, no retry: a write of ``point``, or (None) whether the database answers.
        Fatal outcomes are returned, not raised."""
        ...

    def close(self) -> None:
        """Release connections; what is still pending is not written (drain first)."""
        ...


class Follower(Protocol):
    """What the service follows live: the journal (sources/journal.py) or a log file (sources/follow.py).

    ``seek`` positions it (a saved cursor, else the head or tail) and says where ("resumed", "lost", "head",
    "tail"); ``next`` gives one entry or None for nothing more right now; ``wait`` blocks until there may be
    more (True), the timeout or ``wake_fd`` (False). ``cursor`` is the last returned entry's, ``seq`` numbers
    entries as a backfill would, ``ts_us`` is the last entry's time; ``source`` names what is followed."""

    source: str
    cursor: str | None
    seq: int
    ts_us: int | None

    def seek(self, cursor: str | None = None, seq: int = 0, start_at: str = "head") -> str: ...

    def next(self) -> Entry | None: ...

    def wait(self, timeout: float | None, wake_fd: int | None = None) -> bool: ...

    def close(self) -> None: ...


UNRECOGNISED_KEYS = 200  # distinct samples kept per source
UNRECOGNISED_CHARS = 120


class SourceBase:
    """The declared counters of a source and the --since/--until window for readers that cannot seek."""

    format = ""

    def __init__(self, name: str, unit: str | None = None) -> None:
        self.name = name
        self.unit = unit  # the unit asked for (None: any)
        self.unit_stem = unit.removesuffix(".service").lower() if unit else None  # its journalctl ident
        self.unit_entries = 0
        self.skipped: Counter[str] = Counter()
        self.prefiltered = 0
        self.assumptions: list[str] = []
        self.unrecognised: Counter[str] = Counter()
        self.since_us: int | None = None
        self.until_us: int | None = None
        self.stream = None  # the byte stream read, if any (for position)

    def window(self, since: datetime | None, until: datetime | None) -> SourceBase:
        self.since_us = int(since.timestamp() * 1_000_000) if since else None
        self.until_us = int(until.timestamp() * 1_000_000) if until else None
        return self

    def skip(self, reason: str, sample: bytes | str | None = None) -> None:
        """Count a record that could not be read; keep a sample of it for the summary."""
        self.skipped[reason] += 1
        if sample is not None:
            text = sample if isinstance(sample, str) else sample[:UNRECOGNISED_CHARS * 4].decode("utf-8", "replace")
            text = text[:UNRECOGNISED_CHARS]
            u = self.unrecognised
            if text in u or len(u) < UNRECOGNISED_KEYS:
                u[text] += 1

    def entries(self) -> Iterator[Entry]:
        raise NotImplementedError

    def position(self) -> tuple[int, int] | None:
        try:
            size = os.fstat(self.stream.fileno()).st_size if self.stream is not None else 0
            return (self.stream.tell(), size) if size else None
        except (OSError, ValueError, AttributeError):  # closed, or not a file
            return None

    def inside(self, ts_us: int) -> bool:
        """Is this time within --since/--until?"""
        return (self.since_us is None or ts_us >= self.since_us) and (self.until_us is None or ts_us <= self.until_us)

    def count_unit_entry(self, e: Entry) -> None:
        """Note an entry of the unit (only the first matters: the input is not silent)."""
        if (self.unit is None or e.unit == self.unit) and self.inside(e.ts_us):
            self.unit_entries = 1

    def nothing_found_hint(self) -> str:
        return ""

    def __iter__(self) -> Iterator[Entry]:
        if self.since_us is None and self.until_us is None:
            return self.entries()
        return self._windowed()

    def _windowed(self) -> Iterator[Entry]:
        lo, hi = self.since_us, self.until_us
        for e in self.entries():
            if lo is not None and e.ts_us < lo:
                continue
            if hi is not None and e.ts_us > hi:
                continue
            yield e
