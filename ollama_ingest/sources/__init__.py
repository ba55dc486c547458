"""Where entries come from: the local journal, journal files/directories, export/JSON/text streams.

``open_input`` detects the format from the first bytes unless it is forced; every reader is a
streaming iterator of ``Entry`` with a ``skipped`` counter of what it could not read, by reason.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, tzinfo
from typing import BinaryIO

from ..entry import Source

FORMATS = ("auto", "journal", "export", "json", "text")
_JOURNAL_MAGIC = b"LPKSHHRH"

__all__ = ["FORMATS", "InputError", "Source", "open_input", "open_journal", "sniff"]


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


def open_journal(files: list[str] | None = None, directory: str | None = None, *,
                 unit: str | None = "ollama.service", since: datetime | None = None,
                 until: datetime | None = None, prefilter: bool = False, name: str | None = None) -> Source:
    """The local journal (no files, no directory), journal files, or a directory of them, for a window."""
    from ..parse import interesting
    from .journal import Journal, JournalOpenError

    try:
        j = Journal(files, directory, unit=unit, keep=interesting if prefilter else None)
    except (OSError, ValueError, JournalOpenError) as exc:  # not a journal, or unreadable
        what = name or ", ".join(files or []) or directory
        raise InputError(str(exc) if str(exc).startswith("cannot open") else f"cannot open {what}: {exc}") from None
    j.window(since, until)
    return j


def open_input(path: str, fmt: str = "auto", *, unit: str | None = "ollama.service",
               since: datetime | None = None, until: datetime | None = None,
               year: int | None = None, tz: tzinfo | None = None, prefilter: bool = False) -> Source:
    """Open one input: a path, a directory of journal files, or ``-`` for stdin."""
    from .export import ExportReader
    from .jsonlines import JsonReader
    from .text import TextReader

    if fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r} (choose from {', '.join(FORMATS)})")
    journal = dict(unit=unit, since=since, until=until, prefilter=prefilter, name=path)
    if path != "-" and os.path.isdir(path):
        if fmt not in ("auto", "journal"):
            raise InputError(f"{path} is a directory: only journal directories can be read")
        return open_journal(directory=path, **journal)
    if path.endswith(".journal") or path.endswith(".journal~"):
        if fmt in ("auto", "journal"):
            return open_journal([path], **journal)
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
        return open_journal([path], **journal)
    reader: Source
    if kind == "export":
        from ..parse import interesting

        reader = ExportReader(stream, head, keep=interesting if prefilter else None, name=path)
    elif kind == "json":
        reader = JsonReader(stream, head, name=path)
    else:
        reader = TextReader(stream, head, year=year, tz=tz, name=path)
    return reader.window(since, until)
