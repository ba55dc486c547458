"""``[GIN]`` access lines (gin's LoggerWithConfig default formatter, colours optional)."""

from __future__ import annotations

import re

from ..entry import Entry
from ..events import GinRequest
from .common import base
from .logfmt import go_unquote
from .units import parse_duration_ns

# [GIN] 2025/07/23 - 21:47:10 | 200 |  16.608743461s |      172.17.0.3 | POST     "/api/chat"
_GIN = re.compile(
    r"\[GIN\] \d{4}/\d\d/\d\d - \d\d:\d\d:\d\d \|\s*(\d{3})\s*\|\s*(\S+)\s*\|\s*(\S*)\s*\|\s*"
    r"([^\s\"|]*)\s+\"([^\"\\]*(?:\\.[^\"\\]*)*)\""  # any method token a client sends; a quoted path
)  # (the path as runs of plain characters between escapes: one step per run, not per character)


class GinFormatError(ValueError):
    pass


def parse_gin(e: Entry, line: str) -> GinRequest:
    m = _GIN.match(line)
    if m is None:
        raise GinFormatError("unrecognised [GIN] layout")
    status, latency, client, method, path = m.groups()
    try:
        latency_ns = parse_duration_ns(latency)
    except ValueError:
        raise GinFormatError("latency is not a Go duration") from None
    return GinRequest(
        **base(e),
        latency_ns=latency_ns,
        status=int(status),
        client=client,
        method=method,
        path=go_unquote(path),
    )
