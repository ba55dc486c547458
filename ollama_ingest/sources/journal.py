"""The systemd journal through systemd-python: the local journal, journal files, or a directory.

Uses the low-level reader (``_next``/``_get``) and fetches only the fields the parsers need; the
high-level ``Reader.get_next()`` converts every field of every entry and is several times slower.

``JournalReader`` reads a window (backfill); ``JournalFollower`` follows live from a cursor (the service):
one entry at a time, and a wait that wakes on new entries (inotify, ~40 ms) or on a signal.
"""

from __future__ import annotations

import logging
import select
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from ..entry import Entry

log = logging.getLogger("ollama_ingest.journal")


class JournalOpenError(Exception):
    """The journal (or the given files) cannot be opened; the message says which and why."""


def open_reader(files: list[str] | None = None, directory: str | None = None):
    from systemd import journal

    try:
        if files:
            return journal.Reader(files=[str(f) for f in files])
        if directory:
            return journal.Reader(path=str(directory))
        return journal.Reader()
    except OSError as exc:
        what = ", ".join(map(str, files)) if files else directory or "the local journal"
        raise JournalOpenError(f"cannot open {what}: {exc.strerror or exc}") from None


def add_unit_matches(reader, unit: str) -> None:
    """The unit's own lines, or systemd's (PID 1) lines about it."""
    reader.add_match(f"_SYSTEMD_UNIT={unit}")
    reader.add_disjunction()
    reader.add_match(f"UNIT={unit}", "_PID=1")


def _field(reader, name: str) -> bytes | None:
    try:
        return reader._get(name)
    except (KeyError, OSError):
        return None


class JournalReader:
    """Iterate a journal from ``since`` (or a cursor) to ``until``, matching one unit (None: all)."""

    def __init__(self, files: list[str] | None = None, directory: str | None = None,
                 unit: str | None = "ollama.service", since: datetime | None = None,
                 until: datetime | None = None, cursor: str | None = None, keep=None) -> None:
        self.reader = open_reader(files, directory)
        self.skipped: Counter[str] = Counter()
        # keep(raw MESSAGE) -> bool, the parsers' cheap pre-filter: a rejected entry (noise) costs one
        # field fetch and is only counted, in `prefiltered`
        self.keep = keep
        self.prefiltered = 0
        self.until_us = int(until.timestamp() * 1_000_000) if until else None
        self.resumed_at_cursor = False
        if unit:
            add_unit_matches(self.reader, unit)
        if cursor:
            try:
                self.reader.seek_cursor(cursor)
                self.resumed_at_cursor = True
            except OSError:
                self.reader.seek_head()
        elif since:
            self.reader.seek_realtime(since)
        else:
            self.reader.seek_head()
        self.cursor_to_skip = cursor

    def position(self) -> tuple[int, int] | None:
        """Journals have no byte position to show progress by (see ``_Windowed.position``)."""
        return None

    def __iter__(self) -> Iterator[Entry]:
        r = self.reader
        keep = self.keep
        seq = 0
        first = True
        while r._next():
            if first and self.cursor_to_skip:
                first = False
                # systemd returns the cursor's own entry first: step past it
                if r.test_cursor(self.cursor_to_skip):
                    continue
            first = False
            ts = r._get_realtime()
            if self.until_us is not None and ts > self.until_us:
                return
            seq += 1
            if keep is not None:
                raw = _field(r, "MESSAGE")
                if raw is not None and not keep(raw) and _field(r, "_PID") != b"1":
                    self.prefiltered += 1
                    continue
            yield self.entry(r, ts, seq)

    def entry(self, r, ts: int, seq: int) -> Entry:
        return make_entry(r, ts, seq)


def make_entry(r, ts: int, seq: int) -> Entry:
    """The Entry at the reader's current position."""
    raw = _field(r, "MESSAGE")
    msg: str | bytes
    if raw is None:
        msg = ""
    else:
        try:
            msg = raw.decode()
        except UnicodeDecodeError:
            msg = raw
    pid = _field(r, "_PID")
    unit = _field(r, "UNIT") or _field(r, "_SYSTEMD_UNIT")
    return Entry(
        ts_us=ts,
        message=msg,
        host=(_field(r, "_HOSTNAME") or b"").decode("utf-8", "replace"),
        pid=int(pid) if pid and pid.isdigit() else 0,
        unit=unit.decode("utf-8", "replace") if unit else "",
        ident=(_field(r, "SYSLOG_IDENTIFIER") or b"").decode("utf-8", "replace"),
        cursor=r._get_cursor(),
        seq=seq,
    )


class JournalFollower:
    """Follow a journal (local, files or a directory) from a cursor, one unit (None: every entry).

    ``seek()`` positions it: at a saved cursor (its own entry is stepped past), else at the head or tail.
    ``next()`` gives the next entry or None when there is nothing more right now; ``wait()`` blocks until
    the journal changed, the timeout passed, or ``wake_fd`` became readable (``signal.set_wakeup_fd``).
    ``seq`` numbers the entries from the start of the journal as a backfill would (it is saved with the
    cursor, so a resumed run numbers them as an uninterrupted one).
    """

    def __init__(self, files: list[str] | None = None, directory: str | None = None,
                 unit: str | None = "ollama.service") -> None:
        self.reader = open_reader(files, directory)
        self.source = ", ".join(map(str, files)) if files else str(directory or "the local journal")
        if unit:
            add_unit_matches(self.reader, unit)
        self.reader.fileno()  # sets up inotify now: changes from here on wake ``wait()``
        self.seq = 0
        self.cursor: str | None = None  # of the last entry returned
        self.ts_us: int | None = None  # its journal time

    def seek(self, cursor: str | None = None, seq: int = 0, start_at: str = "head") -> str:
        """Position the reader; returns "resumed", "lost" (cursor gone: at the head), "head" or "tail"."""
        r = self.reader
        if cursor:
            found = False
            try:
                r.seek_cursor(cursor)
                found = bool(r._next()) and bool(r.test_cursor(cursor))
            except OSError:
                found = False
            if found:
                self.seq, self.cursor, self.ts_us = seq, cursor, r._get_realtime()
                return "resumed"
            r.seek_head()
            self.seq, self.cursor, self.ts_us = 0, None, None
            return "lost"
        self.seq, self.cursor, self.ts_us = 0, None, None
        if start_at == "tail":
            r.seek_tail()
            if r._previous():  # positioned on the newest entry: the next one is new
                self.cursor, self.ts_us = r._get_cursor(), r._get_realtime()
            return "tail"
        r.seek_head()
        return "head"

    def next(self) -> Entry | None:
        r = self.reader
        if not r._next():
            return None
        self.seq += 1
        e = make_entry(r, r._get_realtime(), self.seq)
        self.cursor, self.ts_us = e.cursor, e.ts_us
        return e

    def wait(self, timeout: float | None, wake_fd: int | None = None) -> bool:
        """Block until new entries may be there (True), or the timeout / a wake-up (False)."""
        r = self.reader
        limit = r.get_timeout_ms()  # for journals on file systems without reliable inotify
        if limit is not None and limit >= 0:
            timeout = limit / 1000 if timeout is None else min(timeout, limit / 1000)
        fds = [r.fileno()] + ([wake_fd] if wake_fd is not None else [])
        try:
            select.select(fds, [], [], None if timeout is None else max(0.0, timeout))
        except InterruptedError:
            pass
        return r.process() != 0  # NOP=0, APPEND=1, INVALIDATE=2; must be called after every wake-up

    def close(self) -> None:
        self.reader.close()
