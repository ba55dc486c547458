"""The systemd journal through systemd-python: the local journal, journal files, or a directory.

Uses the low-level reader (``_next``/``_get``) and fetches only the fields the parsers need; the
high-level ``Reader.get_next()`` converts every field of every entry and is several times slower.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from ..entry import Entry


def open_reader(files: list[str] | None = None, directory: str | None = None):
    from systemd import journal

    if files:
        return journal.Reader(files=files)
    if directory:
        return journal.Reader(path=directory)
    return journal.Reader()


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
                 until: datetime | None = None, cursor: str | None = None) -> None:
        self.reader = open_reader(files, directory)
        self.skipped: Counter[str] = Counter()
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

    def __iter__(self) -> Iterator[Entry]:
        r = self.reader
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
            yield self.entry(r, ts, seq := seq + 1)

    def entry(self, r, ts: int, seq: int) -> Entry:
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
