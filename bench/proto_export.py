#!/usr/bin/env python3
"""Prototype of a faster export reader (benchmark evidence only; the package is not changed).

Same output as ``ollama_ingest.sources.export.ExportReader`` (checked with ``--check``), with the
changes suggested in docs/benchmarks.md's profile section:

1. A text-only entry is recognised with ``memchr`` for a NUL byte instead of a regex search for
   ``\\nKEY\\n`` over the whole buffer. journalctl prints a field as ``KEY=value`` only when the value is
   printable UTF-8, so a NUL never occurs in text fields; a binary field's u64le length has NUL high
   bytes for any length < 2**48. So an entry that ends (``\\n\\n``) more than 9 bytes before the next
   NUL has no binary field. (The 9-byte guard covers a length whose low byte is ``\\n``, which makes
   ``KEY\\n\\n`` look like the end of an entry.)
2. The buffer is not re-searched after every binary entry (today ``_BINARY_KEY.search`` runs again
   from the current position after each one, a second full regex pass per chunk).
3. ``__CURSOR`` and ``__REALTIME_TIMESTAMP`` are read by position (journalctl's export always prints
   them first, then ``__MONOTONIC_TIMESTAMP`` and ``_BOOT_ID``), with a find fallback.
4. ``MESSAGE`` is looked up with ``rfind`` (it is at or near the end of a real entry); ``UNIT=`` is
   only looked for when it can matter (``_PID=1`` or no ``_SYSTEMD_UNIT``): a stdout-stream entry
   cannot carry it, and it is the one field that is absent from nearly every entry, so its find
   always scans the whole entry.
5. ``host``/``ident``/``unit`` decode through a small dict (a handful of distinct values).

    python bench/proto_export.py bench/data/era-e-1m.export            # speed: current vs prototype
    python bench/proto_export.py --check bench/data/era-e-1m.export    # identical entries?
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Iterator
from typing import BinaryIO

from ollama_ingest.entry import Entry
from ollama_ingest.sources.export import _CHUNK, ExportReader

_GUARD = 9


class ProtoExportReader(ExportReader):
    def __init__(self, stream: BinaryIO, first: bytes = b"") -> None:
        super().__init__(stream, first)
        self._dec: dict[bytes, str] = {}

    def _s(self, b: bytes | None) -> str:
        if not b:
            return ""
        s = self._dec.get(b)
        if s is None:
            s = b.decode("utf-8", "replace")
            if len(self._dec) < 4096:
                self._dec[b] = s
        return s

    def __iter__(self) -> Iterator[Entry]:
        buf = b"\n" + self.first
        pos = 1
        eof = False
        read = self.stream.read
        dec = self._s
        seq = self.seq
        skipped = self.skipped
        while True:
            if not eof:
                chunk = read(_CHUNK)
                if chunk:
                    buf = b"\n" + buf[pos:] + chunk if pos > 1 else buf + chunk
                    pos = 1
                else:
                    eof = True
            find = buf.find
            nul = find(b"\x00", pos)
            if nul < 0:
                nul = len(buf) + _GUARD + 1
            while True:
                while buf.startswith(b"\n", pos):
                    pos += 1
                end = find(b"\n\n", pos - 1)
                if end < 0 or end < pos:
                    break
                if end + _GUARD < nul:
                    s = pos - 1  # the b"\n" before the entry
                    # __CURSOR and __REALTIME_TIMESTAMP: first two lines of journalctl's export
                    if buf.startswith(b"__CURSOR=", pos):
                        nl = find(b"\n", pos, end + 1)
                        cursor = buf[pos + 9 : nl]
                    else:
                        nl = s
                        i = find(b"\n__CURSOR=", s, end + 1)
                        cursor = buf[i + 10 : find(b"\n", i + 10, end + 1)] if i >= 0 else b""
                    if buf.startswith(b"__REALTIME_TIMESTAMP=", nl + 1):
                        j = nl + 22
                        ts = buf[j : find(b"\n", j, end + 1)]
                    else:
                        i = find(b"\n__REALTIME_TIMESTAMP=", s, end + 1)
                        ts = buf[i + 22 : find(b"\n", i + 22, end + 1)] if i >= 0 else None
                    i = buf.rfind(b"\nMESSAGE=", s, end + 1)
                    msg = buf[i + 9 : find(b"\n", i + 9, end + 1)] if i >= 0 else None
                    i = find(b"\n_PID=", s, end + 1)
                    pid = buf[i + 6 : find(b"\n", i + 6, end + 1)] if i >= 0 else None
                    i = find(b"\n_SYSTEMD_UNIT=", s, end + 1)
                    unit = buf[i + 15 : find(b"\n", i + 15, end + 1)] if i >= 0 else None
                    if pid == b"1" or unit is None:
                        i = find(b"\nUNIT=", s, end + 1)
                        if i >= 0:
                            unit = buf[i + 6 : find(b"\n", i + 6, end + 1)] or unit
                    i = find(b"\n_HOSTNAME=", s, end + 1)
                    host = buf[i + 11 : find(b"\n", i + 11, end + 1)] if i >= 0 else None
                    i = find(b"\nSYSLOG_IDENTIFIER=", s, end + 1)
                    ident = buf[i + 19 : find(b"\n", i + 19, end + 1)] if i >= 0 else None
                    pos = end + 2
                    try:
                        ts_us = int(ts)
                    except (TypeError, ValueError):
                        skipped["export: entry without a valid __REALTIME_TIMESTAMP"] += 1
                        continue
                    if msg is None:
                        skipped["export: entry without MESSAGE"] += 1
                        continue
                    try:
                        message = msg.decode()
                    except UnicodeDecodeError:
                        message = msg
                    seq += 1
                    yield Entry(ts_us, message, dec(host), int(pid) if pid and pid.isdigit() else 0,
                                dec(unit), dec(ident), cursor.decode("utf-8", "replace"), seq)
                    continue
                self.seq = seq
                got = self._slow(buf, pos, eof)
                if got is None:
                    break
                f, pos = got
                e = self._make(f) if f else None
                seq = self.seq
                if e is not None:
                    yield e
                if pos > nul:
                    nul = find(b"\x00", pos)
                    if nul < 0:
                        nul = len(buf) + _GUARD + 1
            if eof:
                self.seq = seq
                while buf.startswith(b"\n", pos):
                    pos += 1
                if pos < len(buf):
                    got = self._slow(buf + b"\n\n", pos, True)
                    if got and got[0]:
                        e = self._make(got[0])
                        if e is not None:
                            yield e
                return


# --------------------------------------------------------------------------- what-if, parse side

# parse/logfmt.py's _PAIR with the quoted-string alternation ``(?:[^"\\]|\\.)*`` unrolled into
# ``[^"\\]*(?:\\.[^"\\]*)*`` (the same language, without one alternation per character), and
# finditer instead of a Python-level match loop. Same dicts on every line of the data (--check).
_PAIR_FAST = re.compile(
    r'[ \t]*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|([^\s="]+))'
    r'(?:=(?:"([^"\\]*(?:\\.[^"\\]*)*)"?|(\S*)))?',
    re.S,
)
# parse/gin.py's _GIN with the path's quoted string unrolled the same way.
_GIN_FAST = re.compile(
    r"\[GIN\] \d{4}/\d\d/\d\d - \d\d:\d\d:\d\d \|\s*(\d{3})\s*\|\s*(\S+)\s*\|\s*(\S*)\s*\|\s*"
    r"([A-Z]*)\s+\"([^\"\\]*(?:\\.[^\"\\]*)*)\""
)


def fast_logfmt(line: str) -> dict[str, str]:
    from ollama_ingest.parse.logfmt import go_unquote as u

    out: dict[str, str] = {}
    for m in _PAIR_FAST.finditer(line):
        qkey, key, qval, val = m.groups()
        k = key if key is not None else (u(qkey) if "\\" in qkey else qkey)
        out[k] = (u(qval) if "\\" in qval else qval) if qval is not None else (val or "")
    return out


def patch_parse_side() -> None:
    """Swap in the faster tokenizer and [GIN] regex (bench-only monkeypatch)."""
    import ollama_ingest.parse.common as common
    import ollama_ingest.parse.gin as gin

    common.parse_logfmt = fast_logfmt
    gin._GIN = _GIN_FAST


def prefiltered(reader: ProtoExportReader, stats) -> Iterator[Entry]:
    """What-if: the reader drops entries parse_entry would only count as noise, before building an
    Entry (same rule as parse_entry: not ``time=``, no ``[GIN]``, not PID 1 / systemd, not Go-log).
    Yields the rest; counts the dropped ones in stats so the totals match."""
    for e in reader:
        m = e.message
        if type(m) is not str:
            m = m.decode("utf-8", "replace")
        if (m.startswith("time=") or "[GIN]" in m or e.pid == 1 or e.ident == "systemd"
                or (m[:2] in ("19", "20") and m[4:5] == "/" and ".go:" in m[:40])):
            yield e
        else:
            stats.entries += 1
            stats.noise += 1


class PrefilterExportReader(ProtoExportReader):
    """What-if: ProtoExportReader that tests a MESSAGE for noise on the raw bytes and, for noise,
    counts it in ``stats`` and skips host/unit/ident/cursor extraction and the Entry."""

    def __init__(self, stream: BinaryIO, stats, first: bytes = b"") -> None:
        super().__init__(stream, first)
        self.stats = stats

    def __iter__(self) -> Iterator[Entry]:
        stats = self.stats
        buf = b"\n" + self.first
        pos = 1
        eof = False
        read = self.stream.read
        dec = self._s
        seq = self.seq
        skipped = self.skipped
        noise = 0
        while True:
            if not eof:
                chunk = read(_CHUNK)
                if chunk:
                    buf = b"\n" + buf[pos:] + chunk if pos > 1 else buf + chunk
                    pos = 1
                else:
                    eof = True
            find = buf.find
            nul = find(b"\x00", pos)
            if nul < 0:
                nul = len(buf) + _GUARD + 1
            while True:
                while buf.startswith(b"\n", pos):
                    pos += 1
                end = find(b"\n\n", pos - 1)
                if end < 0 or end < pos:
                    break
                if end + _GUARD < nul:
                    s = pos - 1
                    i = buf.rfind(b"\nMESSAGE=", s, end + 1)
                    if i >= 0:
                        j = i + 9
                        k = find(b"\n", j, end + 1)
                        if not (buf.startswith(b"time=", j) or find(b"[GIN]", j, k) >= 0
                                or (buf[j:j + 2] in (b"19", b"20") and buf[j + 4:j + 5] == b"/")):
                            p = find(b"\n_PID=", s, end + 1)
                            if p < 0 or not buf.startswith(b"1\n", p + 6):
                                p = find(b"\nSYSLOG_IDENTIFIER=", s, end + 1)
                                if p < 0 or not buf.startswith(b"systemd\n", p + 19):
                                    # noise: only the timestamp has to be valid for the entry to count
                                    if buf.startswith(b"__REALTIME_TIMESTAMP=", find(b"\n", pos, end) + 1):
                                        seq += 1
                                        noise += 1
                                        pos = end + 2
                                        continue
                    if buf.startswith(b"__CURSOR=", pos):
                        nl = find(b"\n", pos, end + 1)
                        cursor = buf[pos + 9 : nl]
                    else:
                        nl = s
                        i = find(b"\n__CURSOR=", s, end + 1)
                        cursor = buf[i + 10 : find(b"\n", i + 10, end + 1)] if i >= 0 else b""
                    if buf.startswith(b"__REALTIME_TIMESTAMP=", nl + 1):
                        j = nl + 22
                        ts = buf[j : find(b"\n", j, end + 1)]
                    else:
                        i = find(b"\n__REALTIME_TIMESTAMP=", s, end + 1)
                        ts = buf[i + 22 : find(b"\n", i + 22, end + 1)] if i >= 0 else None
                    i = buf.rfind(b"\nMESSAGE=", s, end + 1)
                    msg = buf[i + 9 : find(b"\n", i + 9, end + 1)] if i >= 0 else None
                    i = find(b"\n_PID=", s, end + 1)
                    pid = buf[i + 6 : find(b"\n", i + 6, end + 1)] if i >= 0 else None
                    i = find(b"\n_SYSTEMD_UNIT=", s, end + 1)
                    unit = buf[i + 15 : find(b"\n", i + 15, end + 1)] if i >= 0 else None
                    if pid == b"1" or unit is None:
                        i = find(b"\nUNIT=", s, end + 1)
                        if i >= 0:
                            unit = buf[i + 6 : find(b"\n", i + 6, end + 1)] or unit
                    i = find(b"\n_HOSTNAME=", s, end + 1)
                    host = buf[i + 11 : find(b"\n", i + 11, end + 1)] if i >= 0 else None
                    i = find(b"\nSYSLOG_IDENTIFIER=", s, end + 1)
                    ident = buf[i + 19 : find(b"\n", i + 19, end + 1)] if i >= 0 else None
                    pos = end + 2
                    try:
                        ts_us = int(ts)
                    except (TypeError, ValueError):
                        skipped["export: entry without a valid __REALTIME_TIMESTAMP"] += 1
                        continue
                    if msg is None:
                        skipped["export: entry without MESSAGE"] += 1
                        continue
                    try:
                        message = msg.decode()
                    except UnicodeDecodeError:
                        message = msg
                    seq += 1
                    yield Entry(ts_us, message, dec(host), int(pid) if pid and pid.isdigit() else 0,
                                dec(unit), dec(ident), cursor.decode("utf-8", "replace"), seq)
                    continue
                self.seq = seq
                got = self._slow(buf, pos, eof)
                if got is None:
                    break
                f, pos = got
                e = self._make(f) if f else None
                seq = self.seq
                if e is not None:
                    yield e
                if pos > nul:
                    nul = find(b"\x00", pos)
                    if nul < 0:
                        nul = len(buf) + _GUARD + 1
            stats.entries += noise
            stats.noise += noise
            noise = 0
            if eof:
                self.seq = seq
                while buf.startswith(b"\n", pos):
                    pos += 1
                if pos < len(buf):
                    got = self._slow(buf + b"\n\n", pos, True)
                    if got and got[0]:
                        e = self._make(got[0])
                        if e is not None:
                            yield e
                return


def _events(path: str, how: str) -> tuple[list, dict, float]:
    from ollama_ingest.parse import ParseStats, parse_entry

    st = ParseStats()
    out: list = []
    add = out.extend
    with open(path, "rb") as f:
        t0 = time.process_time()  # CPU time: steadier than wall time on a shared machine
        if how == "baseline":
            for e in ExportReader(f):
                add(parse_entry(e, st))
        elif how == "package-prefilter":
            from ollama_ingest.parse import interesting

            r = ExportReader(f, keep=interesting)
            for e in r:
                add(parse_entry(e, st))
            st.entries += r.prefiltered
            st.noise += r.prefiltered
        elif how == "proto":
            for e in ProtoExportReader(f):
                add(parse_entry(e, st))
        elif how == "prefilter":
            for e in PrefilterExportReader(f, st):
                add(parse_entry(e, st))
        secs = time.process_time() - t0
    return out, st.as_dict(), secs


def whatif(path: str, runs: int) -> int:
    """Parse-only rate for each change, in fresh processes; events compared with the baseline."""
    import json
    import subprocess

    steps = [("package", "baseline", False), ("package prefilter", "package-prefilter", False),
             ("package prefilter + fast regexes", "package-prefilter", True),
             ("proto reader", "proto", False), ("proto reader + fast regexes", "proto", True),
             ("proto prefilter", "prefilter", False), ("proto prefilter + fast regexes", "prefilter", True)]
    rates: dict[str, list[float]] = {s[0]: [] for s in steps}
    for _ in range(runs):
        for label, how, fast in steps:
            here = os.path.dirname(os.path.abspath(__file__))
            patch = "p.patch_parse_side()" if fast else ""
            code = (f"import sys, json; sys.path.insert(0, {here!r}); import proto_export as p\n"
                    f"{patch}\nev, st, secs = p._events({path!r}, {how!r})\n"
                    "print(json.dumps({'n': st['entries'], 'secs': secs, 'events': len(ev), "
                    "'h': hash(tuple(x.model_dump_json() for x in ev)), 'st': st}))")
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 env={**os.environ, "PYTHONHASHSEED": "0"}).stdout
            got = json.loads(out)
            rates[label].append(got["n"] / got["secs"])
            print(f"{label:34s} {got['n'] / got['secs']:>10,.0f} entries/s  events {got['events']} "
                  f"hash {got['h']} stats {got['st']['events']}/{got['st']['noise']}/{got['st']['ignored']}",
                  file=sys.stderr)
    for label, rs in rates.items():
        rs.sort()
        print(f"{label:34s} median {rs[len(rs) // 2]:>10,.0f} entries per CPU-second")
    return 0


def _count(reader) -> tuple[int, float]:
    n = 0
    t0 = time.perf_counter()
    for _ in reader:
        n += 1
    return n, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--check", action="store_true", help="compare every entry with ExportReader's")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--whatif", action="store_true", help="parse-only rate with each suggested change")
    a = ap.parse_args()
    if a.whatif:
        return whatif(a.path, a.runs)
    if a.check:
        with open(a.path, "rb") as f1, open(a.path, "rb") as f2:
            r1, r2 = ExportReader(f1), ProtoExportReader(f2)
            n = 0
            for x, y in zip(r1, r2, strict=True):
                if x != y:
                    print(f"entry {n}: differs\n  {x!r}\n  {y!r}")
                    return 1
                n += 1
            if r1.skipped != r2.skipped:
                print("skipped differ:", r1.skipped, r2.skipped)
                return 1
        print(f"identical: {n} entries, skipped {dict(r1.skipped)}")
        return 0
    res: dict[str, list[float]] = {"ExportReader": [], "ProtoExportReader": []}
    for _ in range(a.runs):
        for name, cls in (("ExportReader", ExportReader), ("ProtoExportReader", ProtoExportReader)):
            with open(a.path, "rb") as f:
                n, secs = _count(cls(f))
            res[name].append(n / secs)
    for name, rates in res.items():
        rates.sort()
        print(f"{name:18s} median {rates[len(rates) // 2]:>10,.0f} entries/s  (runs: "
              + ", ".join(f"{r:,.0f}" for r in rates) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
