"""What an input is, from its first bytes: a journal file, an export or JSON stream, Docker's json-file log,
journalctl text, or Ollama's own output (plain, or prefixed by docker/compose/kubectl); and what it is not
(compressed, an executable, random bytes), said before anything is read."""

from __future__ import annotations

import json
import re

JOURNAL_MAGIC = b"LPKSHHRH"
_OLLAMA = re.compile(r"time=\d{4}-\d\d-\d\d|\[GIN\] \d{4}/|\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \S+\.go:\d+: ")
_TS_PREFIX = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)? ")

# magic bytes → (what it is, how to read it if it can be)
MAGIC = [
    (b"\x1f\x8b", "gzip-compressed data", "zcat {path} | ollama-ingest backfill -"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data", "zstdcat {path} | ollama-ingest backfill -"),
    (b"\xfd7zXZ\x00", "xz-compressed data", "xzcat {path} | ollama-ingest backfill -"),
    (b"BZh", "bzip2-compressed data", "bzcat {path} | ollama-ingest backfill -"),
    (b"PK\x03\x04", "a zip archive", "unzip -p {path} | ollama-ingest backfill -"),
    (b"\x7fELF", "an ELF executable", None),
    (b"MZ", "a Windows executable", None),
    (b"%PDF", "a PDF document", None),
    (b"\x89PNG", "a PNG image", None),
    (b"SQLite format 3\x00", "an SQLite database", None),
]


def not_a_log(head: bytes, path: str) -> str | None:
    """Why these first bytes cannot be a log (a message), or None."""
    for magic, what, how in MAGIC:
        if head.startswith(magic) and (magic != b"BZh" or head[3:4].isdigit()) \
                and (magic != b"MZ" or b"This program" in head[:512] or b"PE\x00\x00" in head[:1024]):
            hint = f": {how.format(path=path)}" if how else ""
            return f"{path} is {what}, not a log{hint}"
    sample = head[:4096]
    if not sample:
        return None
    control = sum(1 for b in sample if b < 9 or 13 < b < 27 or 27 < b < 32 or b == 127)
    nul = b"\x00" in sample
    if nul or control * 100 > len(sample):
        share = 100 * control // len(sample)
        return (f"{path} does not look like a log: {share}% of its first {len(sample)} bytes are control "
                f"characters" + (", NUL bytes among them" if nul else ""))
    return None


def utf16(head: bytes) -> str | None:
    """The UTF-16 variant of a head (PowerShell's ``>`` writes UTF-16LE), or None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[:200]
    if len(sample) >= 16 and sample[1::2].count(0) * 10 >= len(sample[1::2]) * 9 and sample[0::2].count(0) == 0:
        return "utf-16-le"
    return None


def _export_like(line: bytes) -> bool:
    key = line.split(b"=", 1)[0]
    return b"=" in line and bool(key) and key.replace(b"_", b"").isalnum() and key.upper() == key


def sniff(head: bytes) -> str:
    """The format of a stream from its first bytes (see ``FORMATS``)."""
    if head.startswith(JOURNAL_MAGIC):
        return "journal"
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if body.startswith(b"{"):
        first = body.split(b"\n", 1)[0]
        try:
            obj = json.loads(first)
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict):
            if "MESSAGE" in obj or "__REALTIME_TIMESTAMP" in obj:
                return "json"
            if "log" in obj and "time" in obj:
                return "docker-json"
            if any(k in obj for k in ("msg", "message")) and any(k in obj for k in ("time", "timestamp", "ts")):
                return "json-log"
            return "json"
        if b'"MESSAGE"' in first or b'"__REALTIME_TIMESTAMP"' in first:
            return "json"
        return "docker-json" if b'"log":' in first[:100] else "json-log" if b'"msg":' in first else "json"
    if _export_like(body.split(b"\n", 1)[0]):
        return "export"
    return _text_kind(body)


def _text_kind(body: bytes) -> str:
    from .plain import COMPOSE, KUBECTL, _is_ts  # the text readers: imported only for text-like input
    from .text import line_layout

    lines = body.split(b"\n")
    if len(lines) > 1 and len(body) >= 65000:
        lines.pop()  # cut by the head's end
    counts = {"text": 0, "kubectl": 0, "compose": 0, "docker": 0, "ollama": 0}
    n = 0
    for raw in lines[:400]:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if not line.strip():
            continue
        if line.startswith("-- ") and line.rstrip().endswith("--"):
            continue  # a journalctl marker: a vote neither way
        n += 1
        if line_layout(line):
            counts["text"] += 1
            continue
        rest = line
        m = KUBECTL.match(rest)
        if m:
            counts["kubectl"] += 1
            rest = rest[m.end():]
        else:
            m = COMPOSE.match(rest)
            if m:
                counts["compose"] += 1
                rest = rest[m.end():]
        if _is_ts(rest) and _TS_PREFIX.match(rest):
            counts["docker"] += 1
            rest = rest[_TS_PREFIX.match(rest).end():]
        if _OLLAMA.match(rest) or _OLLAMA.search(rest, 0, 60):
            counts["ollama"] += 1
    if not n:
        return "text" if body.strip() else "plain"
    if counts["text"] and counts["text"] * 2 >= n:
        return "text"
    for kind in ("kubectl", "compose", "docker"):
        if counts[kind] * 2 > n:
            return kind
    if counts["text"] > counts["ollama"]:
        return "text"
    return "plain"
