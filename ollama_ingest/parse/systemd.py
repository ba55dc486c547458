"""systemd's own journal lines about the Ollama unit (PID 1, ``UNIT=ollama.service``)."""

from __future__ import annotations

from ..entry import Entry
from ..events import SystemdUnit
from .common import base

# Checked in order; systemd 232–256 wordings ("Started ollama.service - Ollama Service." from v249 on,
# "Started Ollama Service." before; "Deactivated successfully." from v248 on, "Succeeded." before).
_RULES = [
    ("Main process exited", "exited"),
    ("Scheduled restart job", "restart_scheduled"),
    ("Deactivated successfully", "deactivated"),
    (": Succeeded.", "deactivated"),
    ("Failed with result", "failed"),
    ("Killing process", "killed"),
    ("Starting ", "starting"),
    ("Started ", "started"),
    ("Stopping ", "stopping"),
    ("Stopped ", "stopped"),
]


def parse_systemd(e: Entry, line: str) -> SystemdUnit | None:
    for needle, action in _RULES:
        if needle in line:
            return SystemdUnit(**base(e), action=action, message=line)
    return None
