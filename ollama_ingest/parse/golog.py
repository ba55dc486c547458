"""Lines in Go's std ``log`` format: ``2023/10/06 15:01:18 llama.go:313: starting llama runner``.

Every line of v0.0.x–v0.1.20 looks like this (llm/llama.go, server/routes.go, llm/ext_server_common.go);
later only ``server config`` (v0.1.34–v0.6.8), which slog printed through the std logger.
"""

from __future__ import annotations

import re

from ..entry import Entry
from ..events import Event, LoadFinished, ModelChange, RunnerStart, RunnerStopped, Warning_
from .common import base
from .server import parse_golog_server_config, parse_listening

# The subprocess is "llama.cpp server" in v0.0.19–v0.0.21 (llm/llama.go, ggml_llama.go), "llama runner" in
# v0.1.0–v0.1.17. Versions from `git grep` over the tags.
_RUNNER = r"(?:llama runner|llama\.cpp server)"
_START = re.compile(rf"starting {_RUNNER}$")
_STARTED = re.compile(rf"{_RUNNER} started in ([0-9.]+) seconds")
_FAILED = re.compile(rf"(error starting (?:the external )?{_RUNNER}): (.*)", re.S)
# v0.0.19–v0.1.9: "… exited[ with error: X]" when the process ends (Close kills it); v0.1.10–v0.1.17: Close()
# says "llama runner stopped successfully" / "… stopped with error: X"
_STOPPED = re.compile(rf"({_RUNNER} (?:stopped|exited))(?: successfully)?(?: with error: (.*))?$", re.S)


def golog_text(line: str) -> str | None:
    """The message after the Go-log prefix, or None if the line has none."""
    i = line.find(".go:", 20, 64)
    if i < 0:
        return None
    j = line.find(": ", i + 4)
    return line[j + 2:] if j > 0 else None


def parse_golog(e: Entry, line: str) -> list[Event] | None:
    """Events of one Go-log line ([] for a known line with nothing for the timeline); None for a line that
    should have given an event but is cut short (a counted skip)."""
    text = golog_text(line)
    if text is None:
        return []
    b = base(e)
    if "server config" in text:
        ev = parse_golog_server_config(e, text)
        return [ev] if ev is not None else None
    if text.startswith("Listening on "):  # v0.0.x–v0.1.3 without "(version …)"
        ev = parse_listening(e, text)
        return [ev] if ev is not None else None
    if _START.match(text):  # the runner's cmd is not logged
        return [RunnerStart(**b, variant="llama runner", blob=None, program="", cmd="")]
    if text.startswith("Loading Dynamic Shim llm server: "):  # v0.1.18–v0.1.20, llama.cpp in-process
        return [RunnerStart(**b, variant="ext server", blob=None, program=text.split(": ", 1)[1], cmd="")]
    m = _STARTED.match(text)
    if m:
        return [LoadFinished(**b, seconds=float(m.group(1)))]
    if text == "Starting internal llama main loop":  # v0.1.18–v0.1.20: the model is loaded
        return [LoadFinished(**b, seconds=None)]
    m = _FAILED.match(text)
    if m:
        return [Warning_(**b, what="load_failed", level="", message=m.group(1), error=m.group(2))]
    m = _STOPPED.match(text)
    if m:
        return [RunnerStopped(**b, message=m.group(1), error=m.group(2))]
    if text == "changing loaded model":
        return [ModelChange(**b)]
    return []
