"""The service's own health as a point: measurement ``ollama_ingest`` (see docs/schema.md)."""

from __future__ import annotations

import os
import socket
import time

from .sinks.lineprotocol import Point

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident set size of this process now (not the peak)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def hostname() -> str:
    return socket.gethostname()


def selfmon_point(host: str, *, entries: int, events: int, unparsed: int, noise: int, dropped: int,
                  write_errors: int, points_written: int, newest_entry_us: int | None,
                  now_ns: int | None = None, **extra) -> Point:
    """Counters are totals since the state directory was created (they survive restarts)."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    fields: dict = {
        "entries": entries, "events": events, "unparsed": unparsed, "noise": noise, "dropped": dropped,
        "write_errors": write_errors, "points_written": points_written, "rss_bytes": rss_bytes(),
    }
    if newest_entry_us is not None:
        fields["lag_s"] = max(0.0, round(now_ns / 1e9 - newest_entry_us / 1e6, 6))
    fields.update({k: v for k, v in extra.items() if v is not None})
    return Point("ollama_ingest", {"host": host}, fields, now_ns)
