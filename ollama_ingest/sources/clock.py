"""Times inside log lines: zones given as typed (``--tz``), RFC 3339 prefixes, and the times Ollama prints.

Ollama prints three kinds of time (slog's and gin's formats; real examples in tests/real/):

- slog ``time=2024-06-01T13:52:31.123+02:00``: an instant (its zone is the Ollama process's local zone);
- gin ``[GIN] 2024/06/01 - 13:52:31`` and Go's std log ``2024/06/01 13:52:31 routes.go:1187: …``: the
  same process's local time, without a zone and to the second.

So a local time takes the zone given with ``--tz``, else the offset of the latest slog line of the same
process (the same zone), else this machine's zone, which is then said in the assumptions.
"""

from __future__ import annotations

import re
from calendar import timegm
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_OFFSET = re.compile(r"[+-]\d\d:?\d\d|Z")
# 2024-06-01T13:52:31.123456789Z / +02:00: docker logs -t, kubectl --timestamps, CRI, rsyslog
RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)")
SLOG_TIME = re.compile(r"time=(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?")
GIN_TIME = re.compile(r"\[GIN\] (\d{4})/(\d\d)/(\d\d) - (\d\d):(\d\d):(\d\d)")
GOLOG_TIME = re.compile(r"(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ")


def offset_seconds(text: str) -> int:
    """``Z``, ``+02:00``, ``-0700`` → seconds east of UTC."""
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    return sign * (int(text[1:3]) * 3600 + int(text[-2:]) * 60)


def offset_zone(text: str) -> timezone:
    return timezone(timedelta(seconds=offset_seconds(text)))


def parse_tz(spec: str) -> tzinfo:
    """``UTC``, ``Europe/Moscow``, ``+03:00``, ``-07:00``, ``-0700``, ``Z`` → tzinfo.

    Raises ValueError with the accepted forms."""
    spec = spec.strip()
    if _OFFSET.fullmatch(spec):
        return offset_zone(spec)
    try:
        return ZoneInfo(spec)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {spec!r}: use an IANA name (Europe/Berlin) or ±HH:MM") from exc


def frac_us(frac: str | None) -> int:
    """Fraction digits (1–9) → µs, truncated."""
    return int(frac[:6].ljust(6, "0")) if frac else 0


def utc_us(y: int, mo: int, d: int, hh: int, mi: int, ss: int, offset_s: int) -> int:
    """A wall time at a fixed offset → µs since the epoch (whole seconds)."""
    return (timegm((y, mo, d, hh, mi, ss, 0, 0, 0)) - offset_s) * 1_000_000


def zoned_us(y: int, mo: int, d: int, hh: int, mi: int, ss: int, tz: tzinfo | None) -> int:
    """A wall time in a zone (None: this machine's) → µs since the epoch (whole seconds)."""
    naive = datetime(y, mo, d, hh, mi, ss)
    return int((naive.replace(tzinfo=tz) if tz is not None else naive).timestamp()) * 1_000_000


def rfc3339_us(m: re.Match) -> int:
    y, mo, d, hh, mi, ss, frac, zone = m.groups()
    return utc_us(int(y), int(mo), int(d), int(hh), int(mi), int(ss), offset_seconds(zone)) + frac_us(frac)


class OllamaClock:
    """The time of each of Ollama's own lines, in order; lines without one take the last time seen.

    ``tz`` is ``--tz``; without it local times take the offset of the latest slog line (``learned``),
    else this machine's zone (``assumed_local`` is then set, to be said)."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz
        self.learned: int | None = None  # offset of the newest slog time=, seconds east of UTC
        self.last_us: int | None = None
        self.assumed_local = False
        self.local_times = 0  # [GIN] / Go-log times converted

    def own_time(self, msg: str) -> int | None:
        """µs of the line's own time (it becomes the last time seen), None if it has none."""
        us = self._own_time(msg)
        if us is not None:
            self.last_us = us
        return us

    def _own_time(self, msg: str) -> int | None:
        if msg.startswith("time="):
            m = SLOG_TIME.match(msg)
            if m is None:
                return None
            y, mo, d, hh, mi, ss, frac, zone = m.groups()
            if zone is not None:
                off = offset_seconds(zone)
                self.learned = off
                us = utc_us(int(y), int(mo), int(d), int(hh), int(mi), int(ss), off)
            else:
                us = self._local(int(y), int(mo), int(d), int(hh), int(mi), int(ss))
                if us is None:
                    return None
            return us + frac_us(frac)
        i = msg.find("[GIN] ", 0, 48)
        if i >= 0:
            m = GIN_TIME.match(msg, i)
        elif msg[:2] in ("19", "20") and msg[4:5] == "/":
            m = GOLOG_TIME.match(msg)
        else:
            return None
        if m is None:
            return None
        g = m.groups()
        us = self._local(int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5]))
        if us is None:
            return None
        if len(g) > 6 and g[6]:
            return us + frac_us(g[6])
        last = self.last_us
        # to the second: the line was written after the one before it, within that second
        return last if last is not None and us < last < us + 1_000_000 else us

    def _local(self, y: int, mo: int, d: int, hh: int, mi: int, ss: int) -> int | None:
        self.local_times += 1
        try:
            if self.tz is not None:
                return zoned_us(y, mo, d, hh, mi, ss, self.tz)
            if self.learned is not None:
                return utc_us(y, mo, d, hh, mi, ss, self.learned)
            self.assumed_local = True
            return zoned_us(y, mo, d, hh, mi, ss, None)
        except (ValueError, OverflowError):
            return None

    def learn_from(self, lines: list[str]) -> None:
        """Before the first line: the zone of the first slog line with an offset in the lookahead."""
        if self.tz is not None:
            return
        for msg in lines:
            m = SLOG_TIME.search(msg, 0, 200) if "time=" in msg[:200] else None
            if m and m.group(8):
                self.learned = offset_seconds(m.group(8))
                return

    def zone_said(self) -> str:
        if self.tz is not None:
            return f"{self.tz} (--tz)"
        if self.learned is not None:
            return f"UTC{_fmt(self.learned)} (from Ollama's own slog times)"
        return f"this machine's zone ({datetime.now().astimezone().tzname()})"


def _fmt(off: int) -> str:
    sign = "-" if off < 0 else "+"
    off = abs(off)
    return f"{sign}{off // 3600:02d}:{off % 3600 // 60:02d}"
