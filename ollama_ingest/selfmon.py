"""The service's own health: the point (measurement ``ollama_ingest``, see docs/schema.md), its counters
and the STATUS line systemd shows."""

from __future__ import annotations

import os
import socket
import time

from .schema.measurements import selfmon_point
from .schema.point import Point

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


class SelfReport:
    """Mixed into ``Service``: its counters (totals since the state directory was created: ``carried`` from
    the checkpoint plus this run's), the self-monitoring point and the STATUS line."""

    def counters(self) -> dict:
        """Totals since the state directory was created: the checkpoint's, plus this run's."""
        sink, c = self.sink, self.carried
        now = {**self.pipeline.counts(), "dropped": sink.dropped,
               "write_errors": sum(sink.write_errors.values()), "points_written": sink.written,
               "journal_gaps": self.gaps, "journal_gap_s": self.gap_s}
        return {k: c.get(k, 0) + v for k, v in now.items()}

    def _selfmon_point(self) -> Point:
        c = self.counters()
        gaps, gap_s = c.pop("journal_gaps"), c.pop("journal_gap_s")
        return selfmon_point(self.host, newest_entry_us=self.follower.ts_us, rss_bytes=rss_bytes(),
                             now_ns=time.time_ns(), **c,
                             failed_entries=self.failed_entries or None, journal_gaps=gaps or None,
                             journal_gap_s=gap_s or None)

    def selfmon(self) -> None:
        self.sink.add([self._selfmon_point()])

    def status_text(self) -> str:
        if self.sink.outage_s > 0:
            return (f"InfluxDB unavailable: holding {self.sink.pending} points, not reading the journal until "
                    "it is back")
        c = self.counters()
        lag = ""
        if self.follower is not None and self.follower.ts_us is not None:
            lag = f", newest entry {max(0.0, time.time() - self.follower.ts_us / 1e6):.1f} s ago"
        return (f"following {self.settings.unit}: {c['entries']} entries, {c['points_written']} points "
                f"written, {c['dropped']} dropped{lag}")
