"""``journalctl -o short | short-precise | short-iso | short-iso-precise`` text.

The short forms have no year and no zone, and their month names follow the viewer's LC_TIME.
The year and the viewer's UTC offset are inferred from the dates Ollama prints inside its own lines
(slog ``time=…±hh:mm``, ``[GIN] YYYY/MM/DD``) unless ``--year``/``--tz`` say otherwise; the offset
is re-inferred on every line that carries one, so DST changes are followed. What was assumed is
reported in ``assumptions``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..entry import Entry, SourceBase, make_entry
from .lines import split_lines

# %b in the locales seen in real Ollama reports (C/English, fr, ru, de, es, it, pt, nl, sv/da/nb, pl,
# ja/zh/ko "5月"), lower-cased, trailing dot dropped. ru_RU has genitive and nominative forms.
_MONTHS: dict[str, int] = {}
for _n, _names in enumerate([
    "jan janv janv. jän jänn ene gen janeiro sty янв 1月",
    "feb févr fév fev fevr febr lut фев 2月",
    "mar mars mär märz mrt marzo mär. мар 3月",
    "apr avr avril abr kwi апр 4月",
    "may mai mei mag maj mayo май мая 5月",
    "jun juin giu jun. jui czе cze июн 6月",
    "jul juil jul. lug lip июл 7月",
    "aug août aou ago sie авг 8月",
    "sep sept set wrz сен 9月",
    "oct okt ott out paź paz окт 10月",
    "nov lis ноя 11月",
    "dec déc dez dic gru des дек 12月",
], start=1):
    for _name in _names.split():
        _MONTHS[_name] = _n

_SHORT = re.compile(
    r"\s*(\S+)\s+(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? (\S+) ([^\s\[]+?)(?:\[(\d+)\])?: ?(.*)",
    re.S,
)
_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6}))?(Z|[+-]\d\d:?\d\d) (\S+) "
    r"([^\s\[]+?)(?:\[(\d+)\])?: ?(.*)",
    re.S,
)
_EMBEDDED_SLOG = re.compile(r"time=(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)")
_EMBEDDED_GIN = re.compile(r"\[GIN\] (\d{4})/(\d\d)/(\d\d) - ")
_LOOKAHEAD = 5000


def _month(token: str) -> int | None:
    t = token.lower().rstrip(".")
    return _MONTHS.get(t) or _MONTHS.get(t[:3])


def _offset(text: str) -> timezone:
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    hh, mm = int(text[1:3]), int(text[-2:])
    return timezone(sign * timedelta(hours=hh, minutes=mm))


def parse_tz(spec: str) -> tzinfo:
    """``UTC``, ``Europe/Moscow``, ``+03:00`` → tzinfo. Raises ValueError with the accepted forms."""
    if re.fullmatch(r"[+-]\d\d:?\d\d|Z", spec):
        return _offset(spec)
    try:
        return ZoneInfo(spec)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {spec!r}: use an IANA name (Europe/Berlin) or ±HH:MM") from exc


class TextReader(SourceBase):
    format = "text"

    def __init__(self, stream: BinaryIO, first: bytes = b"", year: int | None = None,
                 tz: tzinfo | None = None, name: str = "-") -> None:
        super().__init__(name)
        self.stream = stream
        self.first = first
        self.year = year
        self.tz = tz

    def _lines(self) -> Iterator[str]:
        for raw in split_lines(self.stream, self.first, overlong=self._overlong):
            yield raw.decode("utf-8", "replace").rstrip("\r")

    def _overlong(self, head: bytes) -> None:
        self.skip("text: line longer than 1 MiB", head)

    def entries(self) -> Iterator[Entry]:
        lines = self._lines()
        head: list[str] = []
        for line in lines:
            head.append(line)
            if len(head) >= _LOOKAHEAD:
                break
        year, offset = self._initial_guess(head)
        seq = 0
        month_prev = 0
        for source in (head, lines):
            for line in source:
                if not line.strip() or line.startswith("-- "):
                    continue  # journalctl's "-- Boot …" / "-- No entries --" markers
                m = _ISO.fullmatch(line)
                if m:
                    y, mo, d, hh, mi, ss, frac, zone, host, ident, pid, msg = m.groups()
                    when = datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss), tzinfo=_offset(zone))
                else:
                    m = _SHORT.fullmatch(line)
                    mon = _month(m.group(1)) if m else None
                    if m is None or mon is None:
                        self.skipped["text: line without a journalctl short/iso prefix"] += 1
                        continue
                    _, d, hh, mi, ss, frac, host, ident, pid, msg = m.groups()
                    y_emb = self._embedded_year(msg, mon) if self.year is None else None
                    if y_emb is not None:
                        year = y_emb
                    elif mon < month_prev:
                        year += 1  # December → January (--year is the year of the first line)
                    month_prev = mon
                    if self.tz is None:
                        off = self._embedded_offset(msg, mon, int(d), int(hh), int(mi), year)
                        if off is not None:
                            offset = off
                    try:
                        naive = datetime(year, mon, int(d), int(hh), int(mi), int(ss))
                    except ValueError:
                        self.skipped["text: impossible date"] += 1
                        continue
                    when = naive.replace(tzinfo=self.tz or offset)
                us = int(when.timestamp()) * 1_000_000 + (int(frac.ljust(6, "0")) if frac else 0)
                seq += 1
                yield make_entry(us, msg, host, int(pid) if pid else 0, "", "", ident, "", seq)

    @staticmethod
    def _embedded_year(msg: str, mon: int) -> int | None:
        m = _EMBEDDED_SLOG.search(msg) or _EMBEDDED_GIN.search(msg)
        if not m:
            return None
        y, mo = int(m.group(1)), int(m.group(2))
        if mo == mon:
            return y
        if mo == 12 and mon == 1:
            return y + 1
        if mo == 1 and mon == 12:
            return y - 1
        return y

    @staticmethod
    def _embedded_offset(msg: str, mon: int, d: int, hh: int, mi: int, year: int) -> timezone | None:
        """The viewer's offset: the prefix's local time minus the UTC instant Ollama printed."""
        if "time=" not in msg:
            return None
        m = _EMBEDDED_SLOG.search(msg)
        if not m:
            return None
        y, mo, dd, h2, m2, s2, zone = m.groups()
        try:
            utc = datetime(int(y), int(mo), int(dd), int(h2), int(m2), int(s2), tzinfo=_offset(zone))
            local = datetime(year, mon, d, hh, mi, tzinfo=timezone.utc)
        except ValueError:
            return None
        diff = (local - utc.replace(second=0)).total_seconds()
        quarter = round(diff / 900) * 900  # zones are whole quarter hours
        if abs(quarter) > 14 * 3600:
            return None
        return timezone(timedelta(seconds=quarter))

    def _initial_guess(self, head: list[str]) -> tuple[int, timezone]:
        year = self.year
        offset: timezone | None = None
        if not any(_SHORT.fullmatch(x) and not _ISO.fullmatch(x) for x in head[:50]):
            return year or datetime.now().year, timezone.utc  # short-iso carries its own year and zone
        for line in head:
            m = _SHORT.fullmatch(line)
            if not m or _month(m.group(1)) is None:
                continue
            mon = _month(m.group(1))
            msg = m.group(10)
            if year is None:
                year = self._embedded_year(msg, mon)
            if year is not None and offset is None and self.tz is None:
                offset = self._embedded_offset(msg, mon, int(m.group(2)), int(m.group(3)),
                                               int(m.group(4)), year)
            if year is not None and (offset is not None or self.tz is not None):
                break
        if year is None:
            year = datetime.now().year
            self.assumptions.append(f"text input has no year; assumed {year} (use --year)")
        elif self.year is None:
            self.assumptions.append(f"text input has no year; inferred {year} from Ollama's own dates")
        if self.tz is None:
            if offset is None:
                offset = datetime.now().astimezone().tzinfo  # type: ignore[assignment]
                self.assumptions.append(
                    f"text input has no zone; assumed this machine's ({offset}) (use --tz)")
            else:
                self.assumptions.append(
                    f"text input has no zone; inferred UTC{offset.tzname(None)[3:] or '+00:00'} "
                    "from Ollama's own timestamps (use --tz to override)")
        return year, offset  # type: ignore[return-value]
