"""One journal entry, as every source hands it to the parsers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Entry:
    """A journal entry reduced to what the parsers and the correlator need.

    ``message`` is ``str`` when the payload is valid UTF-8 and ``bytes`` otherwise, so nothing is lost.
    ``seq`` is the entry's position in its input (or the journal seqnum): it breaks ties deterministically.
    """

    ts_us: int  # __REALTIME_TIMESTAMP: µs since the epoch, UTC
    message: str | bytes
    host: str = ""
    pid: int = 0
    unit: str = ""  # _SYSTEMD_UNIT for the service's own lines, UNIT= for systemd's lines about it
    ident: str = ""  # SYSLOG_IDENTIFIER ("ollama", "systemd", …)
    cursor: str = ""
    seq: int = 0

    @property
    def text(self) -> str:
        m = self.message
        return m if isinstance(m, str) else m.decode("utf-8", "replace")
