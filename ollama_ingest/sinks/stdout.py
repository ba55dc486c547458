"""Line protocol to a file or stdout: ``--dry-run``, air-gapped hosts, ``influx write -f``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from .lineprotocol import Point, to_line


class LineProtocolSink:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.written = 0
        self.dropped = 0

    def add(self, points: Iterable[Point]) -> None:
        w = self.out.write
        for p in points:
            w(to_line(p))
            w("\n")
            self.written += 1

    def due(self) -> bool:
        return False

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        self.flush()
