"""Entry → typed events. One small module per message kind; this one only dispatches.

Most entries are llama.cpp/runner noise, so the dispatch is ordered by cost: a prefix check,
then the ``msg`` value pulled out without tokenizing, then one dict lookup. Only lines whose
``msg`` is known get a full logfmt parse. Pure: an entry gives events or a counted skip, never an
exception (docs/design.md §8).
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import ValidationError

from ..entry import Entry
from ..events import Event, ModelFile
from . import debug, memory, runner, server, warnings  # noqa: F401  (they register their handlers)
from .common import EXACT, PREFIX, base, blob_of
from .gin import GinFormatError, parse_gin
from .golog import parse_golog
from .logfmt import msg_of
from .server import CutLine
from .systemd import parse_systemd

# Lines we know and that carry nothing for the timeline: ignored without being reported as unknown
KNOWN_IGNORED = frozenset({
    "loaded runners", "waiting for llama runner to start responding", "waiting for server to become available",
    "waiting for llama-server to start responding", "waiting for llama-server to become available",
    "looking for compatible GPUs", "discovering available GPUs...", "starting go runner",
    "starting ollama engine", "system", "subprocess", "enabling flash attention", "loading model",
    "llama-server model fits alongside existing models", "vram-based default context",
    "got lock to unload", "starting background wait for VRAM recovery", "context for request finished",
    "chat request", "completion request", "key with type not found", "Initializing llama server",
})
KNOWN_IGNORED_PREFIXES = ("total blobs:", "total unused blobs removed:", "Server listening on ",
                          "gpu VRAM free memory converged after", "model load progress", "Ollama cloud disabled:")
# SGR colours as a terminal gets them (ESC [), and as a pager or a copy from it shows them: caret notation,
# the two characters "^[" for ESC (`^[[97;42m 200 ^[[0m`)
_ANSI = re.compile(r"(?:\x1b|\^\[)\[[0-9;]*[A-Za-z]")
_LOADER = "llama_model_loader: loaded meta data"  # llama.cpp names the blob it loads (every era but the Go engine)
_STARTS = (b"time=", _LOADER.encode())  # one call for both on the reader's hot path
NOTHING: tuple = ()


class ParseStats:
    """What the parsers saw: every entry is counted once as events, noise, known-ignored or skipped."""

    __slots__ = ("entries", "parsed", "events", "noise", "ignored", "skipped", "unknown_msgs")

    def __init__(self) -> None:
        self.entries = 0
        self.parsed = 0  # entries that gave at least one event
        self.events = 0
        self.noise = 0  # not an Ollama structured line (llama.cpp output, stacks, dots, …)
        self.ignored = 0  # a structured Ollama line we know carries nothing for the timeline
        self.skipped: Counter[str] = Counter()  # reason → count: lines that should have parsed but did not
        self.unknown_msgs: Counter[str] = Counter()  # slog msg values we have no parser for

    def as_dict(self) -> dict:
        return {"entries": self.entries, "parsed": self.parsed, "events": self.events, "noise": self.noise,
                "ignored": self.ignored, "skipped": sum(self.skipped.values()),
                "skip_reasons": dict(self.skipped), "unknown_msgs": sum(self.unknown_msgs.values())}


def _slog(e: Entry, line: str, stats: ParseStats) -> tuple | list:
    msg = msg_of(line)
    if msg is None:
        stats.skipped["slog line without msg"] += 1
        return NOTHING
    handler = EXACT.get(msg)
    if handler is None:
        for prefix, h in PREFIX:
            if msg.startswith(prefix):
                handler = h
                break
        else:
            if msg not in KNOWN_IGNORED and not msg.startswith(KNOWN_IGNORED_PREFIXES) \
                    and len(stats.unknown_msgs) < 10_000:
                stats.unknown_msgs[msg[:80]] += 1
            stats.ignored += 1
            return NOTHING
    try:
        ev = handler(e, line, msg)
    except CutLine as exc:  # a fixed text: the reasons stay a handful
        stats.skipped[f"{handler.__name__}: {exc} (hard-wrapped or cut line)"] += 1
        return NOTHING
    except (ValueError, ValidationError) as exc:
        stats.skipped[f"{handler.__name__}: {type(exc).__name__}"] += 1
        return NOTHING
    if ev is None:
        stats.skipped[f"{handler.__name__}: missing values"] += 1
        return NOTHING
    return ev if isinstance(ev, list) else [ev]


def interesting(raw: bytes) -> bool:
    """Could this MESSAGE (raw bytes) be anything but noise to ``parse_entry``? A superset, for readers
    that can skip building entries: systemd's lines (PID 1) must be let through by the reader itself."""
    return (raw.startswith(_STARTS) or raw.find(b"[GIN]", 0, 160) >= 0
            or (raw.startswith((b"19", b"20")) and raw.startswith(b"/", 4)))


def parse_entry(e: Entry, stats: ParseStats) -> tuple | list[Event]:
    """Events in one entry (usually none). Never raises for any input."""
    stats.entries += 1
    line = e.message
    if type(line) is not str:
        # bytes that are not UTF-8 stay what they are, written as Go writes them in a quoted value (\xc0):
        # never replaced, never read as another character
        line = line.decode("utf-8", "backslashreplace")
    if line.startswith("time="):
        out = _slog(e, line, stats)
    elif "[GIN]" in line[:40]:
        if "\x1b" in line or "^[" in line:
            line = _ANSI.sub("", line)
        line = line.lstrip()
        if not line.startswith("[GIN] "):  # [GIN-debug] route table, or a dump that quotes a [GIN] line
            stats.noise += 1
            return NOTHING
        try:
            out = [parse_gin(e, line)]
        except GinFormatError as exc:  # fixed texts: the reasons stay a handful, whatever the input
            stats.skipped[f"gin: {exc}"] += 1
            return NOTHING
        except (ValueError, ValidationError) as exc:
            stats.skipped[f"gin: {type(exc).__name__}"] += 1
            return NOTHING
    elif e.pid == 1 or e.ident == "systemd":
        ev = parse_systemd(e, line)
        if ev is None:
            stats.ignored += 1
            return NOTHING
        out = [ev]
    elif line[:2] in ("19", "20") and line[4:5] == "/" and ".go:" in line[:64]:
        out = _golog(e, line, stats)
    elif line.startswith(_LOADER):
        blob = blob_of(line)
        if blob is None:
            stats.noise += 1
            return NOTHING
        out = [ModelFile(**base(e), blob=blob)]
    else:
        stats.noise += 1
        return NOTHING
    if out:
        stats.parsed += 1
        stats.events += len(out)
    return out


def _golog(e: Entry, line: str, stats: ParseStats) -> tuple | list:
    """Lines in Go's std log format: every line up to v0.1.20, and ``server config`` up to v0.6.8."""
    try:
        out = parse_golog(e, line)
    except (ValueError, ValidationError) as exc:
        stats.skipped[f"golog: {type(exc).__name__}"] += 1
        return NOTHING
    if out is None:
        stats.skipped["golog: cut short (hard-wrapped or cut line)"] += 1
        return NOTHING
    if not out:
        stats.ignored += 1
    return out
