"""What a journalctl text line's prefix leaves out, taken from the input itself: the month a locale's name
means, the year, and the viewer's UTC offset.

- Month names are glibc's (``months.py``, generated). A name several locales use for different months
  (``lis``: November in Polish, October in Croatian) takes the month the input's own dates confirm,
  else the one most locales mean.
- The year comes from the dates Ollama prints in its lines (slog ``time=``, ``[GIN] YYYY/MM/DD``, Go's
  std log ``YYYY/MM/DD``), else from journalctl's ``-- Logs begin at … --`` header, else it is this
  year, or last year if that would put the log in the future (said in the assumptions).
- The viewer's offset is the prefix's local time minus the instant of a slog ``time=…±hh:mm`` on the
  same line, in whole quarter hours.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from .clock import offset_zone
from .months import MONTHS

EMBEDDED_SLOG = re.compile(r"time=(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)")
EMBEDDED_DATE = re.compile(r"(?:time=|\[GIN\] |^)(\d{4})[-/](\d\d)[-/](\d\d)[T ]")
# "-- Logs begin at Mon 2024-06-03 10:00:00 CEST, end at Tue 2024-06-04 11:00:00 CEST. --" (≤ v249),
# "-- Journal begins at Mon 2024-06-03 …, ends at … --" (v250+)
HEADER = re.compile(r"-- (?:Logs begin at|Journal begins at) .*?(\d{4})-(\d\d)-(\d\d) \d\d:\d\d:\d\d(?: ([^\s,.]+))?"
                    r"(?:.*?(?:end at|ends at) .*?(\d{4})-(\d\d)-(\d\d))?")
_NUMERIC_ZONE = re.compile(r"(?:UTC|GMT)?([+-])(\d\d):?(\d\d)?")


def month_candidates(token: str) -> tuple[int, ...]:
    t = token.strip().lower()
    return MONTHS.get(t) or MONTHS.get(t.rstrip(".")) or MONTHS.get(t + ".") or ()


def embedded_date(msg: str) -> tuple[int, int, int] | None:
    """(year, month, day) Ollama printed in its line, if any (within its first 60 characters)."""
    if "time=" in msg[:6]:
        m = EMBEDDED_DATE.match(msg)
    else:
        i = msg.find("[GIN] ", 0, 48)
        m = EMBEDDED_DATE.match(msg, i) if i >= 0 else (EMBEDDED_DATE.match(msg) if msg[:2] in ("19", "20") else None)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def year_for(month: int, seen: tuple[int, int, int]) -> int:
    """The year of a prefix in ``month`` given a date Ollama printed on the same line (zones may differ by a
    day, so across New Year the months are 12 and 1)."""
    y, mo, _ = seen
    if mo == 12 and month == 1:
        return y + 1
    if mo == 1 and month == 12:
        return y - 1
    return y


def viewer_offset(msg: str, year: int, mon: int, d: int, hh: int, mi: int) -> timezone | None:
    """The viewer's offset: the prefix's local time minus the UTC instant Ollama printed."""
    if "time=" not in msg[:6]:
        return None
    m = EMBEDDED_SLOG.match(msg)
    if not m:
        return None
    y, mo, dd, h2, m2, s2, zone = m.groups()
    try:
        utc = datetime(int(y), int(mo), int(dd), int(h2), int(m2), int(s2), tzinfo=offset_zone(zone))
        local = datetime(year, mon, d, hh, mi, tzinfo=timezone.utc)
    except ValueError:
        return None
    diff = (local - utc.replace(second=0)).total_seconds()
    quarter = round(diff / 900) * 900  # zones are whole quarter hours
    if abs(quarter) > 14 * 3600:
        return None
    return timezone(timedelta(seconds=quarter))


def header_years(line: str) -> tuple[tuple[int, int, int], tuple[int, int, int] | None] | None:
    """The begin (and end) dates of journalctl's header line."""
    m = HEADER.match(line)
    if not m:
        return None
    g = [int(x) if x else 0 for x in (m.group(1), m.group(2), m.group(3), m.group(5), m.group(6), m.group(7))]
    return (g[0], g[1], g[2]), ((g[3], g[4], g[5]) if g[3] else None)


def header_zone(line: str) -> timezone | None:
    """The viewer's offset from journalctl's header, when its zone is UTC or numeric (``+08``, ``-0700``)."""
    m = HEADER.match(line)
    zone = m.group(4) if m else None
    if not zone:
        return None
    if zone in ("UTC", "GMT", "Z"):
        return timezone.utc
    n = _NUMERIC_ZONE.fullmatch(zone)
    if n is None:
        return None
    sign = -1 if n.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(n.group(2)), minutes=int(n.group(3) or 0)))


def year_from_header(header: tuple, month: int, day: int) -> int:
    """The first year from the header's begin date at which (month, day) falls within [begin, end]."""
    (by, bm, bd), end = header
    y = by if (month, day) >= (bm, bd) else by + 1
    if end is not None and (y, month, day) > end:
        return end[0]
    return y


def default_year(month: int, day: int, now: datetime | None = None) -> int:
    """This year, or last year if the date would be in the future."""
    now = now or datetime.now()
    return now.year - 1 if (month, day) > (now.month, now.day) else now.year
