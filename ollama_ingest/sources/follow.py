"""Follow a log file live, as ``tail -F`` does: Ollama's own output, docker/compose/kubectl logs, Docker's
json-file log (``/var/lib/docker/containers/<id>/<id>-json.log``), a logger's JSON lines.

Same interface as the journal's follower, which the service uses: ``seek()`` (a saved cursor, or the head or
tail), ``next()`` (one entry, or None for nothing more right now), ``wait()`` (until the file changed, a
timeout, or a wake-up fd), ``cursor`` (of the last entry returned), ``seq``, ``ts_us``.

The cursor is ``file:<device>:<inode>:<offset>:<length>:<crc32>``: the end of the last line whose entry was
returned, and that line's length and checksum. The file may be rotated by rename (logrotate ``create``,
Docker's ``max-size``: the old file gets a new name and a new file takes the path) or by copytruncate (a copy,
then the file cut to 0). At its end the follower checks the path: another inode there means a rename (the old
file was read to its end: go on with the new one from its start); the same inode but shorter than the offset
means a truncation (read again from 0). Resuming, the cursor's line is looked for where the offset says, in
the path's file and then in the files beside it (``<path>.1``, ``<path>-2025…``): found in a renamed file or a
copy, the rest of that file is read first, then the path's; not found anywhere (rotated away, or truncated and
grown again), the path's file is read from its start.
"""

from __future__ import annotations

import logging
import os
import select
import time
import zlib
from collections import deque
from datetime import tzinfo

from ..entry import Entry, make_entry
from .lines import MAX_LINE

log = logging.getLogger("ollama_ingest.follow")

POLL_S = 0.2  # how often a quiet file is looked at again
CHUNK = 1 << 20
FOLLOWABLE = ("plain", "docker", "compose", "kubectl", "docker-json", "json-log")


class FollowError(Exception):
    """The file cannot be followed (not there, not readable, not a format that can be followed)."""


def _cursor(st: os.stat_result, end: int, line: bytes) -> str:
    """The cursor after ``line`` (with its newline), which ends at ``end``."""
    crc = zlib.crc32(line + b"\n")
    return f"file:{st.st_dev}:{st.st_ino}:{end}:{len(line) + 1}:{crc}"


def parse_cursor(cursor: str) -> tuple[int, int, int, int, int] | None:
    """(device, inode, offset, length of the line before it, its crc32), or None if it is not a file cursor."""
    parts = cursor.split(":")
    if len(parts) != 6 or parts[0] != "file" or not all(p.isdigit() for p in parts[1:]):
        return None
    return int(parts[1]), int(parts[2]), int(parts[3]), int(parts[4]), int(parts[5])


class FileFollower:
    """Follow one file. ``fmt`` is one of FOLLOWABLE or "auto" (detected from the first bytes)."""

    def __init__(self, path: str, fmt: str = "auto", *, host: str | None = None, fallback_host: str = "localhost",
                 tz: tzinfo | None = None, unit: str | None = None) -> None:
        if fmt not in ("auto", *FOLLOWABLE):
            raise FollowError(f"--input-format {fmt} cannot be followed (only {', '.join(FOLLOWABLE)}): "
                              "follow the journal with --journal-file/--journal-dir")
        self.path = str(path)
        self.source = self.path
        self.format = fmt
        self.host, self.fallback_host, self.tz, self.unit = host, fallback_host, tz, unit
        self.file = None
        self.st: os.stat_result | None = None  # of the open file
        self.pos = 0  # offset of the first byte not yet split into lines
        self.buf = b""  # a line not complete yet
        self.dropping = False  # inside a line over the cap
        self.last_line: tuple[int, int] | None = None  # (length, crc32) of the last whole line read, with its newline
        # entries decoded, each with its cursor (the file it came from and the end offset of its line)
        self.ready: deque[tuple[Entry, str]] = deque()
        self.waiting: list = []  # lines before any time is known
        self.decoder = None
        self.seq = 0
        self.cursor: str | None = None
        self.ts_us: int | None = None
        self.skipped: dict[str, int] = {}
        self.pending_rest: list[str] = []  # a renamed file to finish before the path's

    # -- opening -------------------------------------------------------------------------------
    def _open(self, path: str, pos: int) -> bool:
        try:
            f = open(path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise FollowError(f"cannot read {path}: {exc.strerror}") from None
        if self.file is not None:
            self.file.close()
        self.file, self.st = f, os.fstat(f.fileno())
        f.seek(pos)
        self.pos, self.buf, self.dropping, self.last_line = pos, b"", False, None
        return True

    def _setup_decoder(self) -> None:
        """Pick the format from the file's first bytes and prime the zone from its head."""
        if self.decoder is not None or self.file is None:
            return
        head = os.pread(self.file.fileno(), 65536, 0)
        if not head:
            return  # nothing to detect yet
        fmt = self.format
        if fmt == "auto":
            from .detect import sniff

            fmt = sniff(head)
            if fmt not in FOLLOWABLE:
                raise FollowError(f"{self.path} looks like {fmt}, which cannot be followed: follow the journal "
                                  "itself (--journal-file/--journal-dir), or give --input-format")
        self.format = fmt
        if fmt in ("docker-json", "json-log"):
            from .jsonlog import JsonLogDecoder

            self.decoder = JsonLogDecoder(self._skip, fmt)
        else:
            from .plain import LineDecoder

            self.decoder = LineDecoder(fmt, self.host, self.fallback_host, self.tz, self.unit)
            self.decoder.prime(head.split(b"\n")[:-1] if len(head) == 65536 else head.split(b"\n"))

    def _skip(self, reason: str, sample=None) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def seek(self, cursor: str | None = None, seq: int = 0, start_at: str = "head") -> str:
        """Position the follower; returns "resumed", "lost" (the cursor's file is gone: at the head), "head" or
        "tail". A saved cursor continues ``seq`` from the saved one."""
        self.ready.clear()
        self.waiting.clear()
        self.pending_rest = []
        got = parse_cursor(cursor) if cursor else None
        if got is not None:
            dev, ino, pos, length, crc = got
            where = self._find(dev, ino, pos, length, crc)
            if where is not None:
                if where != self.path:
                    self.pending_rest = [where]
                    log.info("%s was rotated while stopped: reading the rest of %s first", self.path, where)
                self._open(where, pos)
                self._setup_decoder()
                self.seq, self.cursor = seq, cursor
                return "resumed"
            self.seq, self.cursor = 0, None
            self._open(self.path, 0)
            self._setup_decoder()
            return "lost"
        self.seq, self.cursor = 0, None
        if not self._open(self.path, 0):
            log.info("%s does not exist yet: waiting for it", self.path)
            return start_at
        self._setup_decoder()
        if start_at == "tail":
            end = os.fstat(self.file.fileno()).st_size
            self.file.seek(end)
            self.pos = end
            before = os.pread(self.file.fileno(), min(end, MAX_LINE), end - min(end, MAX_LINE))
            last = before[:-1].rsplit(b"\n", 1)[-1] if before.endswith(b"\n") else None
            self.cursor = _cursor(self.st, end, last) if last is not None else None
            return "tail"
        return "head"

    def _find(self, dev: int, ino: int, pos: int, length: int, crc: int) -> str | None:
        """The file holding the cursor's line right before ``pos``: the path's, a renamed one (same inode) or
        a copy (copytruncate), in that order; None if none does."""
        directory = os.path.dirname(os.path.abspath(self.path)) or "."
        base = os.path.basename(self.path)
        beside = sorted(os.path.join(directory, n) for n in os.listdir(directory) if n != base and n.startswith(base))
        found = []
        for p in [self.path, *beside]:
            try:
                with open(p, "rb") as f:
                    st = os.fstat(f.fileno())
                    if st.st_size < pos or pos < length:
                        continue
                    if zlib.crc32(os.pread(f.fileno(), length, pos - length)) != crc:
                        continue
            except OSError:
                continue
            found.append(((st.st_dev, st.st_ino) != (dev, ino), p))  # the same inode first, then a copy
        return min(found)[1] if found else None

    # -- reading -------------------------------------------------------------------------------
    def next(self) -> Entry | None:
        if not self.ready:
            self._fill()
            if not self.ready:
                return None
        e, cursor = self.ready.popleft()
        self.seq += 1
        e.seq = self.seq
        self.cursor = e.cursor = cursor
        self.ts_us = e.ts_us
        return e

    def _fill(self) -> None:
        while not self.ready:
            if self.file is None:
                if not self._open(self.path, 0):
                    return
            self._setup_decoder()
            if self.decoder is not None and not self._same_before():
                log.info("%s was truncated and written again: reading it again from its start", self.path)
                self._restart_at(self.path)
                continue
            data = self.file.read(CHUNK) if self.decoder is not None else b""
            if data:
                self._split(data)
                continue
            if not self._rotated():
                return

    def _rotated(self) -> bool:
        """At the end of the open file: did the path move on (rename) or get cut (truncate)? Reopens if so."""
        if self.pending_rest:  # the renamed file is read to its end: now the path's
            self.pending_rest = []
            self._restart_at(self.path)
            return True
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # renamed, the new one not there yet
        except OSError:
            return False
        if (st.st_dev, st.st_ino) != (self.st.st_dev, self.st.st_ino):
            log.info("%s was rotated (a new file at the path): following the new one from its start", self.path)
            self._restart_at(self.path)
            return True
        if st.st_size < self.pos:
            log.info("%s was truncated (copytruncate): reading it again from its start", self.path)
            self._restart_at(self.path)
            return True
        return False

    def _same_before(self) -> bool:
        """Is the last line read still where it was? (Not if the file was cut and grew past it again.)"""
        if self.last_line is None:
            return True
        length, crc = self.last_line
        end = self.pos - len(self.buf)
        try:
            return end < length or zlib.crc32(os.pread(self.file.fileno(), length, end - length)) == crc
        except OSError:
            return True

    def _restart_at(self, path: str) -> None:
        if self.buf and not self.dropping:
            self._line(self.buf, self.pos)  # the old file's last line had no newline: it is whole now
        self._open(path, 0)

    def _split(self, data: bytes) -> None:
        start = self.pos
        self.pos += len(data)
        if self.dropping:
            nl = data.find(b"\n")
            if nl < 0:
                return
            self.dropping = False
            data, start = data[nl + 1:], start + nl + 1
        lines = (self.buf + data).split(b"\n") if self.buf else data.split(b"\n")
        offset = start - len(self.buf)
        self.buf = lines.pop()
        if lines:
            self.last_line = (len(lines[-1]) + 1, zlib.crc32(lines[-1] + b"\n"))
        for raw in lines:
            offset += len(raw) + 1
            if len(raw) > MAX_LINE:
                self._skip(f"{self.format}: line longer than 1 MiB")
            elif raw.strip():
                self._line(raw, offset)
        if len(self.buf) > MAX_LINE:
            self._skip(f"{self.format}: line longer than 1 MiB")
            self.buf, self.dropping = b"", True

    def _line(self, raw: bytes, end: int) -> None:
        dec = self.decoder
        if self.format in ("docker-json", "json-log"):
            got = dec.decode(raw)
            if got is not None:
                us, msg, host = got
                self.ready.append((make_entry(us, msg, self.host or host or self.fallback_host),
                                   _cursor(self.st, end, raw)))
            return
        ln = dec.decode(raw)
        if ln is None:
            return
        if ln.ts is None:
            if len(self.waiting) < 10_000:
                self.waiting.append((ln, _cursor(self.st, end, raw)))
            return
        for w, w_cursor in self.waiting:  # lines before the first time take it
            self.ready.append((make_entry(ln.ts, w.message, w.host, w.pid, "", w.unit_field, w.ident), w_cursor))
        self.waiting.clear()
        self.ready.append((make_entry(ln.ts, ln.message, ln.host, ln.pid, "", ln.unit_field, ln.ident),
                           _cursor(self.st, end, raw)))

    # -- waiting -------------------------------------------------------------------------------
    def wait(self, timeout: float | None, wake_fd: int | None = None) -> bool:
        """Block until the file grew or was rotated (True), or the timeout / a wake-up (False)."""
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        while True:
            if self._changed():
                return True
            left = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
            if left <= 0:
                return False
            fds = [wake_fd] if wake_fd is not None else []
            try:
                readable, _, _ = select.select(fds, [], [], left)
            except InterruptedError:
                return False
            if readable:
                return False

    def _changed(self) -> bool:
        if self.file is None:
            return os.path.exists(self.path)
        if os.fstat(self.file.fileno()).st_size > self.pos:
            return True  # the open file grew (also after it was renamed)
        try:
            st = os.stat(self.path)
        except OSError:
            return False  # renamed, the new one not there yet
        return (st.st_dev, st.st_ino) != (self.st.st_dev, self.st.st_ino) or st.st_size < self.pos

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
