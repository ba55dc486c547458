"""``journalctl -o export`` streams, including the binary-safe length-prefixed field form.

Text fields are ``KEY=value\\n``; a field whose value is not printable is ``KEY\\n`` + u64le length +
bytes + ``\\n``; entries end with an empty line. Entries made only of text fields (nearly all) take
a fast path of a few ``bytes.find`` calls; an entry with a binary field is walked field by field.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO

from ..entry import Entry

_BINARY_KEY = re.compile(rb"\n([A-Za-z0-9_]+)\n")
_KEY = re.compile(rb"[A-Za-z0-9_]+")
_MAX_FIELD = 1 << 28  # journald's own limit is far below this; anything larger is corruption
_CHUNK = 1 << 20

_TEXT_FIELDS = (
    (b"\n__REALTIME_TIMESTAMP=", "ts"),
    (b"\nMESSAGE=", "message"),
    (b"\n_HOSTNAME=", "host"),
    (b"\n_PID=", "pid"),
    (b"\n_SYSTEMD_UNIT=", "unit"),
    (b"\nUNIT=", "unit_of"),
    (b"\nSYSLOG_IDENTIFIER=", "ident"),
    (b"\n__CURSOR=", "cursor"),
)


def _text(v: bytes) -> str | bytes:
    try:
        return v.decode()
    except UnicodeDecodeError:
        return v


class ExportReader:
    """Iterate entries of an export stream. ``skipped`` counts what could not be read, by reason."""

    def __init__(self, stream: BinaryIO, first: bytes = b"") -> None:
        self.stream = stream
        self.first = first
        self.skipped: Counter[str] = Counter()
        self.seq = 0

    def _make(self, f: dict) -> Entry | None:
        ts = f.get("ts")
        try:
            ts_us = int(ts)
        except (TypeError, ValueError):
            self.skipped["export: entry without a valid __REALTIME_TIMESTAMP"] += 1
            return None
        msg = f.get("message")
        if msg is None:
            self.skipped["export: entry without MESSAGE"] += 1
            return None
        self.seq += 1
        pid = f.get("pid")
        unit = f.get("unit_of") or f.get("unit") or b""  # UNIT= names the unit systemd speaks of
        return Entry(
            ts_us=ts_us,
            message=_text(msg) if isinstance(msg, bytes) else msg,
            host=(f.get("host") or b"").decode("utf-8", "replace"),
            pid=int(pid) if pid and pid.isdigit() else 0,
            unit=unit.decode("utf-8", "replace"),
            ident=(f.get("ident") or b"").decode("utf-8", "replace"),
            cursor=(f.get("cursor") or b"").decode("utf-8", "replace"),
            seq=self.seq,
        )

    def __iter__(self) -> Iterator[Entry]:
        # buf always starts with b"\n" before the current entry so every field is found as b"\nKEY=".
        buf = b"\n" + self.first
        pos = 1
        eof = False
        read = self.stream.read
        while True:
            if not eof:
                chunk = read(_CHUNK)
                if chunk:
                    buf = b"\n" + buf[pos:] + chunk if pos > 1 else buf + chunk
                    pos = 1
                else:
                    eof = True
            m = _BINARY_KEY.search(buf, pos - 1)
            binpos = m.start() if m else len(buf)
            while True:
                # skip stray blank lines between entries
                while buf.startswith(b"\n", pos):
                    pos += 1
                end = buf.find(b"\n\n", pos - 1)
                if end < 0 or end < pos:
                    break
                if end < binpos:
                    f = {}
                    for key, name in _TEXT_FIELDS:
                        i = buf.find(key, pos - 1, end + 1)
                        if i >= 0:
                            i += len(key)
                            f[name] = buf[i : buf.find(b"\n", i, end + 1)]
                    pos = end + 2
                    e = self._make(f)
                    if e is not None:
                        yield e
                    continue
                got = self._slow(buf, pos, eof)
                if got is None:
                    break  # need more data
                f, pos = got
                e = self._make(f) if f else None
                if e is not None:
                    yield e
                m = _BINARY_KEY.search(buf, pos - 1)
                binpos = m.start() if m else len(buf)
            if eof:
                # a last entry with no blank line after it
                while buf.startswith(b"\n", pos):
                    pos += 1
                if pos < len(buf):
                    got = self._slow(buf + b"\n\n", pos, True)
                    if got and got[0]:
                        e = self._make(got[0])
                        if e is not None:
                            yield e
                return

    def _slow(self, buf: bytes, pos: int, eof: bool) -> tuple[dict, int] | None:
        """Walk one entry field by field from pos. None: the entry is not complete in buf yet."""
        f: dict = {}
        n = len(buf)
        names = {k[1:-1].decode(): v for k, v in _TEXT_FIELDS}
        while True:
            if pos >= n:
                return (f, pos) if eof else None
            if buf[pos] == 10:  # empty line: end of entry
                return f, pos + 1
            nl = buf.find(b"\n", pos)
            if nl < 0:
                if not eof:
                    return None
                nl = n
            line = buf[pos:nl]
            eq = line.find(b"=")
            if eq >= 0:
                key = line[:eq].decode("ascii", "replace")
                if key in names:
                    f[names[key]] = line[eq + 1 :]
                pos = nl + 1
                continue
            if not _KEY.fullmatch(line):
                self.skipped["export: malformed line"] += 1
                pos = nl + 1
                continue
            # binary field: KEY\n <u64le length> <data> \n
            if nl + 9 > n:
                if not eof:
                    return None
                self.skipped["export: truncated binary field"] += 1
                return f, n
            (length,) = struct.unpack_from("<Q", buf, nl + 1)
            if length > _MAX_FIELD:
                self.skipped["export: binary field length out of range"] += 1
                pos = nl + 1
                continue
            start = nl + 9
            stop = start + length
            if stop + 1 > n:
                if not eof:
                    return None
                self.skipped["export: truncated binary field"] += 1
                return f, n
            if buf[stop] != 10:
                self.skipped["export: binary field not followed by newline"] += 1
            key = line.decode("ascii")
            if key in names:
                f[names[key]] = buf[start:stop]
            pos = stop + 1
