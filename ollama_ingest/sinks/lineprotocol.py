"""A point's InfluxDB line-protocol text (escaping per the v2 reference); the point is schema/point.py's."""

from __future__ import annotations

import math

from ..schema.point import Point

MAX_STRING_BYTES = 65_536  # InfluxDB's limit for a string field value
TRUNCATED_MARK = "…[truncated]"

# Line protocol has no escape for a newline in a measurement or tag: it becomes a space.
_MEAS = str.maketrans({",": "\\,", " ": "\\ ", "\n": "\\ ", "\r": "\\ "})
_TAG = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": "\\ ", "\r": "\\ "})
_FIELD_STR = str.maketrans({'"': '\\"', "\\": "\\\\"})


def cut_string(s: str) -> str:
    """Cut a string field to InfluxDB's 64 KiB limit, with a visible marker."""
    if len(s) * 4 <= MAX_STRING_BYTES:
        return s
    raw = s.encode("utf-8")
    if len(raw) <= MAX_STRING_BYTES:
        return s
    keep = MAX_STRING_BYTES - len(TRUNCATED_MARK.encode()) - 8
    return raw[:keep].decode("utf-8", "ignore") + TRUNCATED_MARK


def _string(s: str) -> str:
    """A string field value, quoted; most need no escaping, so only those that do are translated."""
    s = cut_string(s)
    if "\x00" in s:
        s = s.replace("\x00", "")
    if '"' in s or "\\" in s:
        s = s.translate(_FIELD_STR)
    return f'"{s}"'


# A series (measurement + tag set) and a field name repeat for many points: each is escaped once. Both caches
# are bounded: tag values come from the input (hosts, models), so a hostile log could make many.
_HEADS: dict[tuple, str] = {}
_KEYS: dict[str, str] = {}
MAX_CACHED = 10_000


def _head(measurement: str, tags: dict[str, str]) -> str:
    """``measurement,k=v,…`` escaped, tags sorted (as InfluxDB prefers), empty tag values left out."""
    key = (measurement, *tags.items())
    head = _HEADS.get(key)
    if head is None:
        parts = [measurement.translate(_MEAS)]
        for k in sorted(tags):
            v = tags[k]
            if v == "" or v is None:
                continue  # an empty tag value is not allowed: the tag is simply absent
            parts.append(f"{k.translate(_TAG)}={v.replace(chr(0), '').translate(_TAG)}")
        if len(_HEADS) >= MAX_CACHED:
            _HEADS.clear()
        head = _HEADS[key] = ",".join(parts)
    return head


def _key(name: str) -> str:
    escaped = _KEYS.get(name)
    if escaped is None:
        if len(_KEYS) >= MAX_CACHED:
            _KEYS.clear()
        escaped = _KEYS[name] = name.translate(_TAG)
    return escaped


def to_line(p: Point) -> str:
    """One point as a line of line protocol (no trailing newline)."""
    fields = []
    for k, v in p.fields.items():
        # a field value's form by its type (None, NaN and infinities are left out: line protocol has none)
        t = type(v)
        if t is str:
            s = _string(v)
        elif t is int:
            s = f"{v}i"
        elif t is float:
            if not math.isfinite(v):
                continue
            s = repr(v)
        elif t is bool:
            s = "true" if v else "false"
        else:
            continue
        fields.append(f"{_KEYS.get(k) or _key(k)}={s}")
    if not fields:
        raise ValueError(f"point without fields: {p.measurement}")
    return f"{_head(p.measurement, p.tags)} {','.join(fields)} {p.time_ns}"
