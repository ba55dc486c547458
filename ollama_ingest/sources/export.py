"""``journalctl -o export`` streams, including the binary-safe length-prefixed field form.

Text fields are ``KEY=value\\n``; a field whose value is not printable is ``KEY\\n`` + u64le length +
bytes + ``\\n``; entries end with an empty line. Entries made only of text fields (nearly all) take
a fast path of a few ``bytes.find`` calls; an entry with a binary field is walked field by field.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from typing import BinaryIO

from ..entry import Entry, SourceBase, make_entry, pid_of

_KEY = re.compile(rb"[A-Za-z0-9_]+")
MAX_ENTRY = 8 << 20  # an entry longer than this is not Ollama's: skipped, counted
_MAX_FIELD = MAX_ENTRY
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


def _str(v: bytes | None) -> str:
    return v.decode("utf-8", "replace") if v else ""


class ExportReader(SourceBase):
    """Iterate entries of an export stream. ``skipped`` counts what could not be read, by reason."""

    format = "export"

    def __init__(self, stream: BinaryIO, first: bytes = b"", keep=None, name: str = "-",
                 host: str | None = None, unit: str | None = None) -> None:
        super().__init__(name, unit)
        self.host = host  # --host: the host tag of every entry
        self.stream = stream
        self.first = first
        self.seq = 0
        # keep(raw MESSAGE bytes) -> bool: a cheap pre-filter from the parsers; entries it rejects
        # (llama.cpp noise, ~90%) are only counted, in `prefiltered`, never built
        self.keep = keep

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
        e = make_entry(ts_us, msg, self.host or _str(f.get("host")), pid_of(f.get("pid")), _str(f.get("unit")),
                       _str(f.get("unit_of")), _str(f.get("ident")), _str(f.get("cursor")), self.seq)
        if not self.unit_entries:
            self.count_unit_entry(e)
        return e

    def entries(self) -> Iterator[Entry]:
        # buf always has b"\n" before the current entry so every field is found as b"\nKEY=".
        buf = b"\n" + self.first
        pos = 1
        eof = False
        read = self.stream.read
        keep, host = self.keep, self.host
        windowed = self.since_us is not None or self.until_us is not None
        unit_key = f"\n_SYSTEMD_UNIT={self.unit}\n".encode() if self.unit else None
        seek_unit = not self.unit_entries  # until the first entry of the unit is seen
        texts: dict[bytes, str] = {}  # host/unit/ident values repeat: decode each once
        while True:
            if not eof:
                left = len(buf) - pos
                if left > MAX_ENTRY:  # one entry that never ends: drop it, read on after it
                    self.skip(f"export: entry longer than {MAX_ENTRY >> 20} MiB", buf[pos:pos + 200])
                    rest = self._after_blank_line(buf[-1:])
                    eof = rest is None
                    buf, pos = b"\n" + (rest or b""), 1
                    continue
                # an entry longer than a chunk doubles the read: copies stay linear in the input
                chunk = read(max(_CHUNK, left))
                if chunk:
                    buf = b"\n" + buf[pos:] + chunk if pos > 1 else buf + chunk
                    pos = 1
                else:
                    eof = True
            n = len(buf)
            # A binary field's u64le length has zero high bytes and text fields hold no NUL: the first
            # NUL marks the first binary field, so every entry that ends well before it is text only.
            nul = buf.find(b"\x00", pos)
            if nul < 0:
                nul = n + 64
            while True:
                while pos < n and buf[pos] == 10:  # stray blank lines between entries
                    pos += 1
                end = buf.find(b"\n\n", pos - 1)
                if end < pos:
                    break
                if end + 16 < nul:
                    start = pos - 1
                    pos = end + 2
                    j = buf.find(b"\nMESSAGE=", start, end)
                    if j < 0:
                        self._skip_incomplete(buf.find(b"\n__REALTIME_TIMESTAMP=", start, end) >= 0)
                        continue
                    raw = buf[j + 9 : buf.find(b"\n", j + 9)]
                    k = buf.find(b"\n_PID=", start, end)
                    pid1 = k >= 0 and buf.startswith(b"1\n", k + 6)
                    # the noise rule of entry.py's contract, inline on this hot path (a call per entry costs ~2%)
                    if keep is not None and not pid1 and not keep(raw):
                        self.seq += 1
                        if windowed and not self._in_window(buf, start, end):
                            continue  # noise outside --since/--until is not counted either
                        self.prefiltered += 1
                        if seek_unit and (unit_key is None or buf.find(unit_key, start, end) >= 0):
                            self.unit_entries, seek_unit = 1, False
                        continue
                    i = buf.find(b"\n__REALTIME_TIMESTAMP=", start, end)
                    ts = buf[i + 22 : buf.find(b"\n", i + 22)] if i >= 0 else b""
                    if not ts.isdigit():
                        self._skip_incomplete(False)
                        continue
                    self.seq += 1
                    pid = b"1" if pid1 else buf[k + 6 : buf.find(b"\n", k + 6)] if k >= 0 else b""
                    e = make_entry(
                        int(ts),
                        raw,
                        host or self._field(buf, b"\n_HOSTNAME=", start, end, texts),
                        int(pid) if pid.isdigit() else 0,
                        self._field(buf, b"\n_SYSTEMD_UNIT=", start, end, texts),
                        self._field(buf, b"\nUNIT=", start, end, texts) if pid1 else "",  # only PID 1's counts
                        self._field(buf, b"\nSYSLOG_IDENTIFIER=", start, end, texts),
                        self._cursor(buf, start, end),
                        self.seq,
                    )
                    if seek_unit:
                        self.count_unit_entry(e)
                        seek_unit = not self.unit_entries
                    yield e
                    continue
                got = self._slow(buf, pos, eof)
                if got is None:
                    break  # need more data
                f, pos = got
                e = self._make(f) if f else None
                if e is not None:
                    yield e
                nul = buf.find(b"\x00", pos)
                if nul < 0:
                    nul = n + 64
            if eof:
                # a last entry with no blank line after it
                while pos < len(buf) and buf[pos] == 10:
                    pos += 1
                if pos < len(buf):
                    got = self._slow(buf + b"\n\n", pos, True)
                    if got and got[0]:
                        e = self._make(got[0])
                        if e is not None:
                            yield e
                return

    def _in_window(self, buf: bytes, start: int, end: int) -> bool:
        i = buf.find(b"\n__REALTIME_TIMESTAMP=", start, end)
        ts = buf[i + 22 : buf.find(b"\n", i + 22)] if i >= 0 else b""
        if not ts.isdigit():
            return True  # counted where it is read
        t = int(ts)
        return (self.since_us is None or t >= self.since_us) and (self.until_us is None or t <= self.until_us)

    def _after_blank_line(self, tail: bytes) -> bytes | None:
        """Read past the end of the current entry (the next blank line): the bytes after it, None at EOF."""
        read = self.stream.read
        while True:
            chunk = read(_CHUNK)
            if not chunk:
                return None
            j = (tail + chunk).find(b"\n\n")
            if j >= 0:
                return (tail + chunk)[j + 2:]
            tail = chunk[-1:]

    @staticmethod
    def _field(buf: bytes, key: bytes, start: int, end: int, texts: dict[bytes, str]) -> str:
        i = buf.find(key, start, end)
        if i < 0:
            return ""
        i += len(key)
        raw = buf[i : buf.find(b"\n", i)]
        got = texts.get(raw)
        if got is None:
            got = texts[raw] = raw.decode("utf-8", "replace")
            if len(texts) > 4096:
                texts.clear()
        return got

    @staticmethod
    def _cursor(buf: bytes, start: int, end: int) -> str:
        i = buf.find(b"\n__CURSOR=", start, end)
        return buf[i + 10 : buf.find(b"\n", i + 10)].decode("ascii", "replace") if i >= 0 else ""

    def _skip_incomplete(self, has_timestamp: bool) -> None:
        if not has_timestamp:
            self.skipped["export: entry without a valid __REALTIME_TIMESTAMP"] += 1
        else:
            self.skipped["export: entry without MESSAGE"] += 1

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
