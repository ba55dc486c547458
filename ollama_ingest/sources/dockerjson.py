"""Docker's json-file log (``/var/lib/docker/containers/<id>/<id>-json.log``): one JSON object per line,
``{"log":"…\\n","stream":"stderr","time":"2025-06-01T13:52:31.123456789Z"}``.

``time`` is when Docker received the line (UTC, ns): the entry's time, as journald's is. Docker splits a
line longer than 16 KiB into records without the trailing newline; they are joined again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

from ..entry import Entry, SourceBase, make_entry
from .clock import RFC3339, rfc3339_us
from .lines import MAX_LINE, split_lines

MAX_RECORD = 6 * MAX_LINE + (64 << 10)  # JSON escapes (\u001b) make a line up to 6 characters a byte


class DockerJsonDecoder:
    """One json-file record → (µs, message) when a whole line is complete, else None; ``skip`` counts."""

    def __init__(self, skip) -> None:
        self.skip = skip
        self.partial: dict[str, str] = {}

    def decode(self, raw: bytes) -> tuple[int, str | bytes] | None:
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            self.skip("docker-json: line is not JSON", raw)
            return None
        log, when = (obj.get("log"), obj.get("time")) if isinstance(obj, dict) else (None, None)
        if not isinstance(log, str) or not isinstance(when, str):
            self.skip("docker-json: record without log and time", raw)
            return None
        m = RFC3339.fullmatch(when)
        if m is None:
            self.skip("docker-json: time is not RFC 3339", raw)
            return None
        stream = obj.get("stream") if isinstance(obj.get("stream"), str) else ""
        text = self.partial.pop(stream, "") + log
        if not text.endswith("\n"):
            if len(text) > MAX_LINE:
                self.skip("docker-json: line longer than 1 MiB", text[:200])
            else:
                self.partial[stream] = text  # Docker split a long line: the rest follows
            return None
        text = text[:-1].removesuffix("\r")
        try:
            text.encode()
        except UnicodeEncodeError:  # lone surrogates from \\ud8xx escapes: keep what was there
            return rfc3339_us(m), text.encode("utf-8", "surrogatepass")
        return rfc3339_us(m), text


class DockerJsonReader(SourceBase):
    format = "docker-json"

    def __init__(self, stream: BinaryIO, first: bytes = b"", *, host: str | None = None,
                 fallback_host: str = "localhost", name: str = "-") -> None:
        super().__init__(name)
        self.stream = stream
        self.first = first
        self.host = host or fallback_host
        if not host:
            self.assumptions.append(f"{name}: a Docker log names no host: host tag = {fallback_host!r} "
                                    "(this machine; use --host)")

    def _overlong(self, head: bytes) -> None:
        self.skip("docker-json: line longer than 6 MiB", head)

    def entries(self) -> Iterator[Entry]:
        dec = DockerJsonDecoder(self.skip)
        host = self.host
        seq = 0
        for raw in split_lines(self.stream, self.first, cap=MAX_RECORD, overlong=self._overlong):
            if not raw.strip():
                continue
            got = dec.decode(raw)
            if got is not None:
                seq += 1
                yield make_entry(got[0], got[1], host, 0, "", "", "", "", seq)
