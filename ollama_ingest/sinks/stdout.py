"""Line protocol to a file or stdout: ``--dry-run``, air-gapped hosts, ``influx write -f``.

Lines are collected and written in chunks straight to the file descriptor, so a failed write (a full disk)
can be undone to the last whole line: the file never ends with a point cut in half, and ``written`` is the
number of whole lines in it.
"""

from __future__ import annotations

import io
import os
import stat
from collections import Counter
from collections.abc import Iterable
from typing import IO

from ..entry import Outcome
from ..schema.point import Point
from .lineprotocol import to_line

CHUNK_BYTES = 1 << 20


class OutputError(Exception):
    """The line protocol could not be written (e.g. no space left); the message says where and how much is there."""


class LineProtocolSink:
    """The ``Sink`` contract (entry.py) for a file: it writes a chunk when ``CHUNK_BYTES`` are buffered; it
    never fails for a while (no retry, no outage): a write it cannot make is an ``OutputError``."""

    outage_s = 0.0

    def __init__(self, out: IO, name: str | None = None) -> None:
        self.out = out
        self.name = name or getattr(out, "name", "the output")
        self.written = 0  # whole lines written
        self.dropped = 0
        self.write_errors: Counter[str] = Counter()  # stays empty: a failed write is an OutputError
        self.retry_at: float | None = None  # a file never asks to be retried
        self._chunks: list[str] = []
        self._size = 0
        self._lines = 0
        try:
            out.flush()  # anything printed before goes first
            self._fd: int | None = out.fileno()
            self._regular = stat.S_ISREG(os.fstat(self._fd).st_mode)
        except (AttributeError, OSError, io.UnsupportedOperation):  # a file-like object without a descriptor
            self._fd, self._regular = None, False

    def add(self, points: Iterable[Point]) -> None:
        chunks = self._chunks
        for p in points:
            line = to_line(p) + "\n"
            chunks.append(line)
            self._size += len(line)
            self._lines += 1

    @property
    def pending(self) -> int:
        return self._lines

    def due(self) -> bool:
        return self._size >= CHUNK_BYTES

    def due_in(self) -> float | None:
        return 0.0 if self.due() else None  # never by time

    def full(self) -> bool:
        return self.due()

    def probe(self, point: Point | None = None, timeout_s: float | None = None) -> Outcome:
        if point is None:
            return Outcome("ack")
        self.add([point])
        return self.step()

    def step(self, timeout_s: float | None = None) -> Outcome:
        """Write what is buffered (``OutputError`` when the file cannot take it: whole lines kept)."""
        n = self._lines
        self.flush()
        return Outcome("ack", n)

    def flush(self) -> None:
        if not self._chunks:
            return
        data, lines = "".join(self._chunks), self._lines
        self._chunks, self._size, self._lines = [], 0, 0
        if self._fd is None:
            self.out.write(data)
            self.out.flush()
            self.written += lines
            return
        raw = data.encode("utf-8", "surrogateescape")
        start = os.lseek(self._fd, 0, os.SEEK_CUR) if self._regular else 0
        done = 0
        try:
            while done < len(raw):
                done += os.write(self._fd, raw[done:])
        except BrokenPipeError:
            raise
        except OSError as exc:
            keep = raw.rfind(b"\n", 0, done) + 1  # the whole lines that made it
            if self._regular:
                try:
                    os.ftruncate(self._fd, start + keep)
                    os.lseek(self._fd, start + keep, os.SEEK_SET)
                except OSError:
                    pass
            self.written += raw.count(b"\n", 0, keep)
            raise OutputError(f"cannot write {self.name}: {exc.strerror or exc}; it holds {self.written} whole "
                              "lines of line protocol (none cut in half)") from None
        self.written += lines

    def close(self) -> None:
        """Nothing to release: the file is the caller's (and ``drain`` wrote what was pending)."""
