"""What every message parser shares: the base fields, the handler registry, small converters."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..entry import Entry
from ..events import Event
from .logfmt import parse_logfmt

# A slog handler gets the entry, the whole (ANSI-free) line and its msg; it returns events or None.
SlogHandler = Callable[[Entry, str, str], "Event | list[Event] | None"]

EXACT: dict[str, SlogHandler] = {}
PREFIX: list[tuple[str, SlogHandler]] = []

# <models>/blobs/sha256-<hex> (sha256:<hex> before v0.1.3x); Windows paths use backslashes (C:\Users\…\blobs\…)
BLOB_RE = re.compile(r"blobs[/\\]+sha256[-:]([0-9a-f]{64})")


def on_msg(*msgs: str, prefix: bool = False) -> Callable[[SlogHandler], SlogHandler]:
    """Register a handler for exact ``msg`` values (or msg prefixes)."""

    def deco(fn: SlogHandler) -> SlogHandler:
        for m in msgs:
            if prefix:
                PREFIX.append((m, fn))
            else:
                EXACT[m] = fn
        return fn

    return deco


def base(e: Entry) -> dict:
    return {"ts_us": e.ts_us, "host": e.host, "pid": e.pid, "seq": e.seq}


def kv(line: str) -> dict[str, str]:
    return parse_logfmt(line)


def bare_value(line: str, key: str) -> str | None:
    """The value of `` key=…`` without tokenizing the line, for lines parsed by the thousand; a quoted value
    (or none) falls back to the full tokenizer."""
    i = line.find(f" {key}=")
    if i < 0:
        return None
    i += len(key) + 2
    if line[i:i + 1] == '"':
        return kv(line).get(key)
    j = line.find(" ", i)
    return line[i:j] if j > 0 else line[i:]


def to_int(v: str | None) -> int | None:
    if v is None or v == "":
        return None
    try:
        return int(v)
    except ValueError:
        return None


def to_float(v: str | None) -> float | None:
    if v is None or v == "":
        return None
    try:
        return float(v)
    except ValueError:
        return None


def blob_of(text: str | None) -> str | None:
    if not text:
        return None
    m = BLOB_RE.search(text)
    return m.group(1) if m else None


def short_model_name(ref: str) -> str:
    """``registry.ollama.ai/library/gemma3:12b`` → ``gemma3:12b``; other namespaces keep their path."""
    for p in ("registry.ollama.ai/library/", "registry.ollama.ai/"):
        if ref.startswith(p):
            return ref[len(p):]
    return ref
