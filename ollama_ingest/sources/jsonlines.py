"""``journalctl -o json`` (one object per line). MESSAGE may be a string, an array of byte values
(control characters or invalid UTF-8), or null (longer than 4096 bytes without ``--all``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

from ..entry import Entry, SourceBase, make_entry, pid_of
from .lines import MAX_LINE, split_lines

# MESSAGE as an array of byte values takes up to 4 characters a byte: room for a 1 MiB line
MAX_JSON_LINE = 4 * MAX_LINE + (64 << 10)


def _value(v: object) -> str | bytes | None:
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        if v and all(isinstance(x, int) and 0 <= x < 256 for x in v):
            raw = bytes(v)
            try:
                return raw.decode()
            except UnicodeDecodeError:
                return raw
        if v == []:
            return ""
        return _value(v[0])  # a field that occurs more than once: the first value
    return None


def _str(v: object) -> str:
    got = _value(v)
    if isinstance(got, bytes):
        return got.decode("utf-8", "replace")
    return got or ""


class JsonReader(SourceBase):
    format = "json"

    def _overlong(self, head: bytes) -> None:
        self.skip(f"json: line longer than {MAX_JSON_LINE >> 20} MiB", head)

    def __init__(self, stream: BinaryIO, first: bytes = b"", name: str = "-", host: str | None = None,
                 unit: str | None = None) -> None:
        super().__init__(name, unit)
        self.host = host  # --host: the host tag of every entry
        self.stream = stream
        self.first = first

    def entries(self) -> Iterator[Entry]:
        seq = 0
        for raw in split_lines(self.stream, self.first, cap=MAX_JSON_LINE, overlong=self._overlong):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, RecursionError):
                self.skipped["json: line is not JSON"] += 1
                continue
            if not isinstance(obj, dict):
                self.skipped["json: line is not an object"] += 1
                continue
            try:
                ts = int(_str(obj.get("__REALTIME_TIMESTAMP")))
            except ValueError:
                self.skipped["json: entry without a valid __REALTIME_TIMESTAMP"] += 1
                continue
            msg = _value(obj.get("MESSAGE"))
            if msg is None:
                reason = ("json: MESSAGE null (longer than 4096 bytes; export with --all)"
                          if "MESSAGE" in obj and obj["MESSAGE"] is None else "json: entry without MESSAGE")
                self.skipped[reason] += 1
                continue
            pid = pid_of(_str(obj.get("_PID")))
            seq += 1
            e = make_entry(ts, msg, self.host or _str(obj.get("_HOSTNAME")), pid, _str(obj.get("_SYSTEMD_UNIT")),
                           _str(obj.get("UNIT")) if pid == 1 else "", _str(obj.get("SYSLOG_IDENTIFIER")),
                           _str(obj.get("__CURSOR")), seq)
            if not self.unit_entries:
                self.count_unit_entry(e)
            yield e
