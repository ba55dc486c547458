"""Where entries come from: the local journal, journal files/directories, export/JSON/text streams.

``open_input`` detects the format from the first bytes unless it is forced; every reader is a
streaming iterator of ``Entry`` with a ``skipped`` counter of what it could not read, by reason.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import BinaryIO, Protocol

from ..entry import Entry

FORMATS = ("auto", "journal", "export", "json", "text")
_JOURNAL_MAGIC = b"LPKSHHRH"


class Source(Protocol):
    skipped: object

    def __iter__(self): ...


class InputError(Exception):
    """An input that cannot be opened or read as asked; the message says which and why."""


def sniff(head: bytes) -> str:
    """Guess the format of a stream from its first bytes."""
    if head.startswith(_JOURNAL_MAGIC):
        return "journal"
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        return "json"
    first = stripped.split(b"\n", 1)[0]
    key = first.split(b"=", 1)[0]
    if b"=" in first and key and key.replace(b"_", b"").isalnum() and key.upper() == key:
        return "export"
    return "text"


def open_input(path: str, fmt: str = "auto", *, unit: str | None = "ollama.service",
               since: datetime | None = None, until: datetime | None = None,
               year: int | None = None, tz: tzinfo | None = None, prefilter: bool = False) -> Source:
    """Open one input: a path, a directory of journal files, or ``-`` for stdin."""
    from .export import ExportReader
    from .journal import JournalOpenError, JournalReader
    from .jsonlines import JsonReader
    from .text import TextReader

    if fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r} (choose from {', '.join(FORMATS)})")
    def journal(**where) -> _Windowed:
        from ..parse import interesting

        keep = interesting if prefilter else None
        try:
            return _Windowed(JournalReader(unit=unit, since=since, until=until, keep=keep, **where), None, None)
        except (OSError, ValueError, JournalOpenError) as exc:  # not a journal, or unreadable
            raise InputError(str(exc) if str(exc).startswith("cannot open") else f"cannot open {path}: {exc}") from None

    if path != "-" and os.path.isdir(path):
        if fmt not in ("auto", "journal"):
            raise InputError(f"{path} is a directory: only journal directories can be read")
        return journal(directory=path)
    if path.endswith(".journal") or path.endswith(".journal~"):
        if fmt in ("auto", "journal"):
            return journal(files=[path])
    stream: BinaryIO
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot open {path}: {exc.strerror}") from exc
    head = stream.read(65536)
    kind = sniff(head) if fmt == "auto" else fmt
    if kind == "journal":
        if path == "-":
            raise InputError("journal files cannot be read from stdin: give the file's path")
        stream.close()
        return journal(files=[path])
    reader: Source
    if kind == "export":
        from ..parse import interesting

        reader = ExportReader(stream, head, keep=interesting if prefilter else None)
    elif kind == "json":
        reader = JsonReader(stream, head)
    else:
        reader = TextReader(stream, head, year=year, tz=tz)
    return _Windowed(reader, since, until, stream)


class _Windowed:
    """Applies --since/--until to readers that cannot seek, and carries the reader's counters."""

    def __init__(self, reader: Source, since: datetime | None, until: datetime | None,
                 stream: BinaryIO | None = None) -> None:
        self.reader = reader
        self.stream = stream  # the file read, for progress: bytes_read / size
        self.since_us = int(since.timestamp() * 1_000_000) if since else None
        self.until_us = int(until.timestamp() * 1_000_000) if until else None

    @property
    def skipped(self):
        return self.reader.skipped

    @property
    def prefiltered(self) -> int:
        return getattr(self.reader, "prefiltered", 0)

    @property
    def assumptions(self) -> list[str]:
        return getattr(self.reader, "assumptions", [])

    def position(self) -> tuple[int, int] | None:
        """(bytes read, size) of a regular file being read; None for journals, pipes and stdin."""
        try:
            size = os.fstat(self.stream.fileno()).st_size if self.stream is not None else 0
            return (self.stream.tell(), size) if size else None
        except (OSError, ValueError, AttributeError):  # closed, or not a file
            return None

    def __iter__(self) -> Iterable[Entry]:
        if self.since_us is None and self.until_us is None:
            return iter(self.reader)
        return self._filter()

    def _filter(self):
        lo, hi = self.since_us, self.until_us
        for e in self.reader:
            if lo is not None and e.ts_us < lo:
                continue
            if hi is not None and e.ts_us > hi:
                continue
            yield e
