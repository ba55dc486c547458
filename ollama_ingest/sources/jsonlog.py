"""Ollama's lines wrapped in JSON, one object per line:

- ``docker-json``: Docker's json-file log (``/var/lib/docker/containers/<id>/<id>-json.log``),
  ``{"log":"…\\n","stream":"stderr","time":"2025-06-01T13:52:31.123456789Z"}``; Docker splits a line longer
  than 16 KiB into records without the trailing newline: they are joined again;
- ``json-log``: a logger that wraps Ollama's stderr (pino/bunyan in desktop apps such as Msty):
  ``{"level":30,"time":1752516972752,"pid":10104,"hostname":"Ryzen7","msg":"[GIN] …\\n"}``.

``time`` (RFC 3339, or epoch seconds/milliseconds) is when the wrapper received the line: the entry's time,
as journald's is. A ``hostname`` in the record is its host tag (unless ``--host``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

from ..entry import Entry, SourceBase, make_entry
from .clock import RFC3339, rfc3339_us
from .lines import MAX_LINE, split_lines

MAX_RECORD = 6 * MAX_LINE + (64 << 10)  # JSON escapes (\u001b) make a line up to 6 characters a byte


MESSAGE_KEYS = ("log", "msg", "message")
TIME_KEYS = ("time", "timestamp", "ts", "@timestamp")


def _time_us(when: object) -> int | None:
    if isinstance(when, str):
        m = RFC3339.fullmatch(when)
        return rfc3339_us(m) if m else None
    if isinstance(when, (int, float)) and not isinstance(when, bool) and when > 0:
        return int(when * 1000) if when > 1e11 else int(when * 1_000_000)  # epoch ms (pino) or s
    return None


class JsonLogDecoder:
    """One record → (µs, message, hostname) when a whole line is complete, else None; ``skip`` counts."""

    def __init__(self, skip, fmt: str = "docker-json") -> None:
        self.skip = skip
        self.format = fmt
        self.partial: dict[str, str] = {}

    def decode(self, raw: bytes) -> tuple[int, str | bytes, str] | None:
        fmt = self.format
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            self.skip(f"{fmt}: line is not JSON", raw)
            return None
        if not isinstance(obj, dict):
            self.skip(f"{fmt}: line is not an object", raw)
            return None
        log = next((v for k in MESSAGE_KEYS if isinstance(v := obj.get(k), str)), None)
        when = next((obj[k] for k in TIME_KEYS if k in obj), None)
        if log is None or when is None:
            self.skip(f"{fmt}: record without a message and a time", raw)
            return None
        us = _time_us(when)
        if us is None:
            self.skip(f"{fmt}: time is neither RFC 3339 nor epoch seconds/ms", raw)
            return None
        host = obj.get("hostname") if isinstance(obj.get("hostname"), str) else ""
        stream = obj.get("stream") if isinstance(obj.get("stream"), str) else ""
        if fmt == "json-log" and not log.endswith("\n"):
            log += "\n"  # a logger's record is a whole line
        text = self.partial.pop(stream, "") + log
        if not text.endswith("\n"):
            if len(text) > MAX_LINE:
                self.skip(f"{fmt}: line longer than 1 MiB", text[:200])
            else:
                self.partial[stream] = text  # Docker split a long line: the rest follows
            return None
        text = text[:-1].removesuffix("\r")
        try:
            text.encode()
        except UnicodeEncodeError:  # lone surrogates from \\ud8xx escapes: keep what was there
            return us, text.encode("utf-8", "surrogatepass"), host
        return us, text, host


class JsonLogReader(SourceBase):
    def __init__(self, stream: BinaryIO, first: bytes = b"", fmt: str = "docker-json", *, host: str | None = None,
                 fallback_host: str = "localhost", name: str = "-", unit: str | None = None) -> None:
        super().__init__(name, unit)
        self.format = fmt
        self.stream = stream
        self.first = first
        self.host = host
        self.fallback_host = fallback_host

    def _overlong(self, head: bytes) -> None:
        self.skip(f"{self.format}: line longer than {MAX_RECORD >> 20} MiB", head)

    def entries(self) -> Iterator[Entry]:
        dec = JsonLogDecoder(self.skip, self.format)
        fixed, fallback = self.host, self.fallback_host
        seq = hostless = 0
        for raw in split_lines(self.stream, self.first, cap=MAX_RECORD, overlong=self._overlong):
            if not raw.strip():
                continue
            got = dec.decode(raw)
            if got is not None:
                seq += 1
                hostless += not got[2]
                yield make_entry(got[0], got[1], fixed or got[2] or fallback, 0, "", "", "", "", seq)
        if hostless and not fixed:
            self.assumptions.append(f"{self.name}: {hostless} records name no host: host tag = {fallback!r} (this "
                                    "machine; use --host)")
