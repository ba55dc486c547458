"""The systemd journal through systemd-python: the local journal, journal files, or a directory.

Uses the low-level reader (``_next``/``_get``) and fetches only the fields the parsers need; the
high-level ``Reader.get_next()`` converts every field of every entry and is several times slower.

One ``Journal`` serves both uses: iterated, it reads a window (backfill: ``window(since, until)``);
followed, ``seek()`` positions it at a saved cursor (or the head or tail), ``next()`` gives one entry at a
time, and ``wait()`` blocks until the journal changed (inotify, ~40 ms), a timeout, or a signal.
"""

from __future__ import annotations

import glob
import logging
import os
import select
from collections.abc import Callable, Iterator

from ..entry import Entry, SourceBase, make_entry, pid_of

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


def has_journal_files(directory: str) -> bool:
    """Does the directory (or a machine-id directory in it, as /var/log/journal has) hold journal files?"""
    for _root, _dirs, names in os.walk(directory):
        if any(n.endswith((".journal", ".journal~")) for n in names):
            return True
    return False


SYSTEM_JOURNAL_GLOBS = ("/var/log/journal/*/system*.journal", "/run/log/journal/*/system*.journal")


def system_journal_unreadable(globs: tuple[str, ...] | None = None) -> str | None:
    """Why this process cannot read the local system journal, or None if it can (or there is none).

    sd_journal silently leaves unreadable files out of "the local journal", so a user outside the
    systemd-journal group sees only their own entries. Tested by opening the files, not by group lists: under
    ``PrivateUsers=`` the groups show as ``nobody`` although the kernel still grants ``systemd-journal``'s
    access."""
    denied = None
    for path in sorted(p for g in globs or SYSTEM_JOURNAL_GLOBS for p in glob.glob(g)):
        try:
            os.close(os.open(path, os.O_RDONLY | os.O_CLOEXEC))
            return None
        except PermissionError:
            denied = path
        except OSError:
            continue
    if denied is None:
        return None
    return (f"cannot read {denied}: this user (uid {os.getuid()}) sees only its own entries; let it read "
            "the journal (group systemd-journal)")


def _field(reader, name: str) -> bytes | None:
    try:
        return reader._get(name)
    except (KeyError, OSError):
        return None


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


class Journal(SourceBase):
    """A journal (local, files or a directory) matched on one unit (None: every entry)."""

    format = "journal"

    def __init__(self, files: list[str] | None = None, directory: str | None = None,
                 unit: str | None = "ollama.service", keep: Callable[[bytes], bool] | None = None,
                 host: str | None = None) -> None:
        super().__init__(", ".join(map(str, files)) if files else str(directory or "the local journal"), unit)
        self.reader = open_reader(files, directory)
        self.local = not files and not directory
        self.host = host  # --host: the host tag of every entry
        # keep(raw MESSAGE) -> bool, the parsers' cheap pre-filter: a rejected entry (noise) costs one
        # field fetch and is only counted, in `prefiltered`
        self.keep = keep
        if unit:
            add_unit_matches(self.reader, unit)
        self.seq = 0  # entries from the start of the journal, as a backfill numbers them
        self.cursor: str | None = None  # of the last entry returned
        self.ts_us: int | None = None  # its journal time

    @property
    def source(self) -> str:
        return self.name

    # -- a window (backfill) ---------------------------------------------------------------------
    def entries(self) -> Iterator[Entry]:
        r = self.reader
        if self.since_us is not None:
            r.seek_realtime(self.since_us)  # µs: exact (a datetime goes through strftime("%s"))
        else:
            r.seek_head()
        until, keep = self.until_us, self.keep
        seq = 0
        while r._next():
            ts = r._get_realtime()
            if until is not None and ts > until:
                return
            seq += 1
            self.unit_entries = 1  # the match keeps only the unit's entries
            raw = _field(r, "MESSAGE")
            # the noise rule of entry.py's contract, inline so that each field is fetched once (a fetch costs ~1 µs)
            if keep is not None and raw is not None and not keep(raw):
                pid = _field(r, "_PID")
                if pid != b"1":
                    self.prefiltered += 1
                    continue
            else:
                pid = _field(r, "_PID")
            yield self._entry(ts, seq, raw, pid)

    def __iter__(self) -> Iterator[Entry]:
        return self.entries()  # the window is applied by seeking, not by filtering

    def _entry(self, ts: int, seq: int, message: bytes | None, pid_raw: bytes | None) -> Entry:
        """The Entry at the reader's current position (its MESSAGE and _PID already fetched)."""
        r = self.reader
        pid = pid_of(pid_raw)
        return make_entry(ts, message or b"", self.host or _text(_field(r, "_HOSTNAME")), pid,
                          _text(_field(r, "_SYSTEMD_UNIT")), _text(_field(r, "UNIT")) if pid == 1 else "",
                          _text(_field(r, "SYSLOG_IDENTIFIER")), r._get_cursor(), seq)

    def nothing_found_hint(self) -> str:
        problem = system_journal_unreadable() if self.local else None
        if problem:
            return f" ({problem}, or run it as root, e.g. with sudo)"
        try:
            units = sorted(u.decode("utf-8", "replace") if isinstance(u, bytes) else str(u)
                           for u in self.reader.query_unique("_SYSTEMD_UNIT"))
        except (OSError, ValueError):
            return ""
        ollama = [u for u in units if "ollama" in u.lower()]
        if ollama:
            return f" (units that look like Ollama's: {', '.join(ollama[:5])}; --unit)"
        return f" ({len(units)} units in it, none named like ollama; --unit)" if units else " (it has no entries)"

    # -- following (the service) -------------------------------------------------------------------
    def seek(self, cursor: str | None = None, seq: int = 0, start_at: str = "head") -> str:
        """Position the reader; returns "resumed", "lost" (cursor gone: at the head), "head" or "tail".

        At a saved cursor its own entry is stepped past; ``seq`` continues from the saved one, so a resumed
        run numbers entries as an uninterrupted one."""
        r = self.reader
        r.fileno()  # sets up inotify now: changes from here on wake ``wait()``
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
        e = self._entry(r._get_realtime(), self.seq, _field(r, "MESSAGE"), _field(r, "_PID"))
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


JournalFollower = Journal  # the name the service and its tests know it by
