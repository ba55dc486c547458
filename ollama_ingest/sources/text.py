"""``journalctl`` text: ``-o short``, ``short-precise``, ``short-iso``, ``short-iso-precise``, ``short-full``,
``short-unix``, ``with-unit`` (and syslog files in the same layouts).

After the time comes ``HOST IDENT[PID]: MESSAGE``, where the host may be missing (``Sep 24 08:27:48
ollama[1940]: …``), empty (two spaces) or hold spaces: the first ``IDENT[PID]: `` ends the prefix.
journalctl's own ``-- … --`` lines are markers (the header gives the year). A line the pager cut at the
terminal width (less marks it with ``>``) is a counted skip, never read into the wrong fields.

The short forms have no year and no zone, and their month names follow the viewer's LC_TIME: see
``textdates.py``. What was inferred or assumed is reported in ``assumptions``.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import timegm
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone, tzinfo
from typing import BinaryIO

from ..entry import Entry, SourceBase, make_entry
from .clock import offset_seconds, parse_tz, utc_us
from .lines import rejoin, split_lines
from .textdates import (
    default_year,
    embedded_date,
    header_years,
    header_zone,
    month_candidates,
    viewer_offset,
    year_for,
    year_from_header,
)

__all__ = ["TextReader", "parse_tz", "line_layout"]

_TAIL = r" (?:(.*?) )??([^\s\[\]]+)\[(\d+)\]: ?(.*)"  # HOST (optional, may hold spaces) IDENT[PID]: MESSAGE
_SHORT = re.compile(r"\s*(\S.*?) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?" + _TAIL, re.S)
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6}))?(Z|[+-]\d\d:?\d\d)" + _TAIL, re.S)
_FULL = re.compile(r"(?:\w{2,3}\.? )?(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? (\S+)" + _TAIL,
                   re.S)
_UNIX = re.compile(r"(\d{9,11})(?:\.(\d{1,6}))?" + _TAIL, re.S)
_LOOKAHEAD = 5000
CUT_MARKS = (">", "…")  # less --rscroll marks a chopped line with ">"; systemctl status ellipsizes
# a cut line's mark with the next line pasted right after it: "…new pri>Jan 09 00:19:56 host ollama[1]: …"
_JOINED = re.compile(r">(?=(?:\S+ +\d{1,2} |\d{4}-\d\d-\d\dT)\d\d:\d\d:\d\d)")
_JOINED_B = re.compile(_JOINED.pattern.encode())
_IDENT = re.compile(r"([^\s\[\]]+)\[\d+\]: ")


def line_layout(line: str) -> str | None:
    """Which journalctl layout a line has (short, iso, full, unix), None if none."""
    if line[:4].isdigit():
        if _ISO.match(line):
            return "iso"
        if _FULL.match(line):
            return "full"
        if _UNIX.match(line):
            return "unix"
    m = _SHORT.match(line)
    if m and month_candidates(m.group(1)):
        return "short"
    if _FULL.match(line):
        return "full"
    return None


def _only_unit_and_systemd(head: list[str], stem: str) -> bool:
    """Are the idents of these journalctl lines only the unit's and systemd's (a `journalctl -u` paste)?"""
    idents = {m.group(1).lower() for m in (_IDENT.search(x, 0, 200) for x in head) if m}
    return stem in idents and idents <= {stem, "systemd"}


def _fmt_offset(tz: tzinfo) -> str:
    return tz.tzname(None)[3:] or "+00:00"


def _fixed_offset(tz: tzinfo | None) -> int | None:
    """Seconds east of UTC of a fixed-offset zone; None for a zone with rules (DST) or the machine's."""
    if isinstance(tz, timezone):
        return int(tz.utcoffset(None).total_seconds())
    return None


def display_width(line: str) -> int:
    if line.isascii():
        return len(line)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def cut_width(head: list[str]) -> int | None:
    """The terminal width the pager cut lines at: the widest lines all end in a cut mark (at least two)."""
    parts = []
    for x in head:
        while ">" in x and (j := _JOINED.search(x)) is not None:
            parts.append(x[:j.start() + 1])
            x = x[j.start() + 1:]
        parts.append(x)
    head = parts
    widths = Counter(display_width(x) for x in head if x.endswith(CUT_MARKS))
    if not widths:
        return None
    widest = max(display_width(x) for x in head)
    marked = widths.get(widest, 0)
    at_widest = sum(1 for x in head if display_width(x) == widest)
    return widest if marked >= 2 and marked * 2 >= at_widest else None


class TextReader(SourceBase):
    format = "text"

    def __init__(self, stream: BinaryIO, first: bytes = b"", year: int | None = None, tz: tzinfo | None = None,
                 name: str = "-", host: str | None = None, fallback_host: str = "localhost",
                 unit: str | None = None) -> None:
        super().__init__(name, unit)
        self.stream = stream
        self.first = first
        self.year = year
        self.tz = tz
        self.host = host
        self.fallback_host = fallback_host
        self._months: dict[str, int] = {}  # a month name → its month (an ambiguous one once the input's dates say)
        self._days: dict[tuple[int, int, int], int] = {}
        self.header: tuple | None = None
        self._full_offset: tzinfo | None = None
        self.hostless = 0
        self.rejoined = 0
        self.cut = 0

    def _overlong(self, head: bytes) -> None:
        self.skip("text: line longer than 1 MiB", head)

    def month(self, token: str, msg: str) -> int | None:
        got = self._months.get(token)
        if got is not None:
            return got
        cands = month_candidates(token)
        if len(cands) <= 1:
            if cands:
                self._months[token] = cands[0]
            return cands[0] if cands else None
        seen = embedded_date(msg)
        if seen is None or seen[1] not in cands:
            return cands[0]  # the month most locales mean, until a date of the input's says otherwise
        self._months[token] = seen[1]
        return seen[1]

    def _day(self, year: int, mon: int, d: int) -> int | None:
        """Seconds from the epoch to that day's 00:00 UTC (None for an impossible date)."""
        key = (year, mon, d)
        got = self._days.get(key)
        if got is None:
            try:
                datetime(year, mon, d)
            except ValueError:
                return None
            got = self._days[key] = timegm((year, mon, d, 0, 0, 0, 0, 0, 0))
            if len(self._days) > 4096:
                self._days.clear()
        return got

    @staticmethod
    def _unjoined(lines: Iterator[bytes]) -> Iterator[bytes]:
        """Lines, with a line the pager cut and the next line pasted right after its mark taken apart."""
        for raw in lines:
            if b">" in raw and (j := _JOINED_B.search(raw)) is not None:
                while j is not None:
                    yield raw[:j.start() + 1]
                    raw = raw[j.start() + 1:]
                    j = _JOINED_B.search(raw)
            yield raw

    def entries(self) -> Iterator[Entry]:
        lines = self._unjoined(split_lines(self.stream, self.first, overlong=self._overlong))
        head: list[bytes] = []
        for raw in lines:
            head.append(raw)
            if len(head) >= _LOOKAHEAD:
                break
        texts = [x.decode("utf-8", "replace").rstrip("\r") for x in head]
        cut = cut_width(texts)
        year, offset = self._initial_guess(texts)
        # systemd's lines name their unit only in its description: in a `journalctl -u` paste (every other line
        # is the unit's own) they are about the unit
        stem = self.unit_stem
        about_unit = self.unit if stem and _only_unit_and_systemd(texts, stem) else ""
        del texts
        tz, fixed_host, fallback = self.tz, self.host, self.fallback_host
        if tz is not None:
            offset = tz
        off_s = _fixed_offset(offset)
        short, month, skip = _SHORT.fullmatch, self.month, self.skip
        seq = month_prev = 0
        held: Entry | None = None  # the newest entry: a hard-wrapped rest of it may follow
        for source in (head, lines):
            for raw in source:
                try:
                    line, keep = raw.decode(), False
                except UnicodeDecodeError:
                    line, keep = raw.decode("utf-8", "surrogateescape"), True
                if line.endswith("\r"):
                    line = line[:-1]
                if cut and line.endswith(CUT_MARKS) and display_width(line) == cut:
                    self.cut += 1  # read (its prefix is whole); the end of its message is lost
                m = short(line)
                mon = month(m.group(1), m.group(10)) if m is not None else None
                if mon is not None:
                    _, d, hh, mi, ss, frac, host, ident, pid, msg = m.groups()
                    if self.year is None:
                        seen = embedded_date(msg)
                        if seen is not None:
                            year = year_for(mon, seen)
                        elif mon < month_prev:
                            year += 1  # December → January
                    elif mon < month_prev:
                        year += 1  # --year is the year of the first line
                    month_prev = mon
                    if tz is None and msg.startswith("time="):
                        off = viewer_offset(msg, year, mon, int(d), int(hh), int(mi))
                        if off is not None and off != offset:
                            offset, off_s = off, _fixed_offset(off)
                    day = self._day(year, mon, int(d))
                    h, mi_, s_ = int(hh), int(mi), int(ss)
                    if day is None or h > 23 or mi_ > 59 or s_ > 59:
                        skip("text: impossible date", line)
                        continue
                    if off_s is not None:
                        us = (day + h * 3600 + mi_ * 60 + s_ - off_s) * 1_000_000
                    else:
                        us = int(datetime(year, mon, int(d), h, mi_, s_, tzinfo=offset).timestamp()) * 1_000_000
                elif not line.strip() or (line.startswith("-- ") and line.rstrip().endswith("--")):
                    continue  # journalctl's "-- Boot …" / "-- No entries --" markers (the header was read)
                elif line[:4].isdigit() and (m := _ISO.fullmatch(line)):
                    y, mo, d, hh, mi, ss, frac, zone, host, ident, pid, msg = m.groups()
                    us = utc_us(int(y), int(mo), int(d), int(hh), int(mi), int(ss), offset_seconds(zone))
                elif line[:4].isdigit() and (m := _UNIX.fullmatch(line)):
                    secs, frac, host, ident, pid, msg = m.groups()
                    us = int(secs) * 1_000_000
                elif m := _FULL.fullmatch(line):
                    us, frac, host, ident, pid, msg = self._full(m, offset)
                    if us is None:
                        skip("text: impossible date", line)
                        continue
                else:
                    if held is not None and rejoin(held, line):
                        self.rejoined += 1
                        continue
                    skip("text: line without a journalctl short/iso prefix", line)
                    continue
                if frac:
                    us += int(frac.ljust(6, "0"))
                if not host or host.isspace():
                    self.hostless += 1
                    host = fallback
                seq += 1
                if held is not None:
                    yield held
                pid = int(pid)
                if not self.unit_entries and (ident == stem or ident == self.unit) and self.inside(us):
                    self.unit_entries = 1
                held = make_entry(us, msg.encode("utf-8", "surrogateescape") if keep else msg, fixed_host or host,
                                  pid, "", about_unit if pid == 1 else "", ident, "", seq)
        if held is not None:
            yield held
        if self.cut:
            self.assumptions.append(f"{self.name}: {self.cut} lines were cut at the terminal width ({cut} columns) by "
                                    "the pager: their ends are lost (journalctl --no-pager keeps them)")
        if self.rejoined:
            self.assumptions.append(f"{self.name}: {self.rejoined} lines without a prefix joined to the line before "
                                    "them (a long line hard-wrapped in a paste)")
        if self.hostless and not fixed_host:
            self.assumptions.append(f"{self.name}: {self.hostless} lines name no host: host tag = "
                                    f"{self.fallback_host!r} (this machine; use --host)")

    def _full(self, m: re.Match, offset: tzinfo | None) -> tuple:
        """short-full / with-unit: ``Mon 2024-06-03 10:00:00 CEST``: the zone is an abbreviation, known when it
        is UTC or numeric, else inferred as for short lines (from a slog time= on the line, or the last one)."""
        y, mo, d, hh, mi, ss, frac, zone, host, ident, pid, msg = m.groups()
        tz: tzinfo | None
        if zone in ("UTC", "GMT", "Z"):
            tz = timezone.utc
        elif re.fullmatch(r"[+-]\d\d(?::?\d\d)?", zone):
            tz = parse_tz(zone if len(zone) > 3 else zone + ":00")
        else:
            if self.tz is None and msg.startswith("time="):
                self._full_offset = viewer_offset(msg, int(y), int(mo), int(d), int(hh), int(mi)) or self._full_offset
            tz = self.tz or self._full_offset or offset
        try:
            us = int(datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss), tzinfo=tz).timestamp()) * 1_000_000
        except ValueError:
            us = None
        return us, frac, host, ident, pid, msg

    def _initial_guess(self, head: list[str]) -> tuple[int, tzinfo | None]:
        year = self.year
        offset: tzinfo | None = None
        short = [m for m in (_SHORT.fullmatch(x) for x in head) if m and month_candidates(m.group(1))]
        header_offset = None
        for x in head[:50]:
            if x.startswith("-- ") and self.header is None:
                self.header = header_years(x)
                header_offset = header_zone(x)
        if not short:  # iso / full / unix carry their own year (and zone, but for full's abbreviations)
            return year or datetime.now().year, self.tz
        for m in short:
            self.month(m.group(1), m.group(10))  # learn what ambiguous month names mean here
        for m in short:
            mon, msg = self.month(m.group(1), m.group(10)), m.group(10)
            if year is None:
                seen = embedded_date(msg)
                year = year_for(mon, seen) if seen else None
            if year is not None and offset is None and self.tz is None:
                offset = viewer_offset(msg, year, mon, int(m.group(2)), int(m.group(3)), int(m.group(4)))
            if year is not None and (offset is not None or self.tz is not None):
                break
        first_mon, first_day = self.month(short[0].group(1), short[0].group(10)), int(short[0].group(2))
        if year is None and self.header is not None:
            year = year_from_header(self.header, first_mon, first_day)
            self.assumptions.append(f"{self.name}: the text has no year; {year} from journalctl's header line")
        elif year is None:
            year = default_year(first_mon, first_day)
            self.assumptions.append(f"{self.name}: the text has no year; assumed {year} (use --year)")
        elif self.year is None:
            self.assumptions.append(f"{self.name}: the text has no year; inferred {year} from Ollama's own dates")
        if self.tz is None:
            if offset is None and header_offset is not None:
                offset = header_offset
                self.assumptions.append(f"{self.name}: the text has no zone; UTC{_fmt_offset(offset)} from "
                                        "journalctl's header line (use --tz to override)")
            elif offset is None:  # None: this machine's zone, with its DST rules
                self.assumptions.append(f"{self.name}: the text has no zone; assumed this machine's "
                                        f"({datetime.now().astimezone().tzname()}) (use --tz)")
            else:
                self.assumptions.append(
                    f"{self.name}: the text has no zone; inferred UTC{offset.tzname(None)[3:] or '+00:00'} "
                    "from Ollama's own timestamps (use --tz to override)")
        return year, offset
