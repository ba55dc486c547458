"""A point's InfluxDB line-protocol text (escaping per the v2 reference); the point is schema/point.py's."""

from __future__ import annotations

import math

from ..schema.point import FieldValue, Point

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


def _field(v: FieldValue) -> str | None:
    t = type(v)
    if t is str:
        return '"' + cut_string(v).replace("\x00", "").translate(_FIELD_STR) + '"'
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return f"{v}i"
    if t is float:
        return repr(v) if math.isfinite(v) else None
    return None


def to_line(p: Point) -> str:
    """One point as a line of line protocol (no trailing newline). Tags sorted, as InfluxDB prefers."""
    parts = [p.measurement.translate(_MEAS)]
    for k in sorted(p.tags):
        v = p.tags[k]
        if v == "" or v is None:
            continue  # an empty tag value is not allowed: the tag is simply absent
        parts.append(f"{k.translate(_TAG)}={v.replace(chr(0), '').translate(_TAG)}")
    head = ",".join(parts)
    fields = []
    for k, v in p.fields.items():
        if v is None:
            continue
        s = _field(v)
        if s is not None:
            fields.append(f"{k.translate(_TAG)}={s}")
    if not fields:
        raise ValueError(f"point without fields: {p.measurement}")
    return f"{head} {','.join(fields)} {p.time_ns}"
