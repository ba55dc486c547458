"""Where entries come from: the local journal, journal files/directories, export/JSON/text streams, and
Ollama's own output (plain, docker, compose, kubectl, Docker's json-file log).

``open_input`` detects the format from the first bytes unless it is forced; every reader is a ``Source``
(entry.py): a streaming iterator of ``Entry`` with what it could not read and what it assumed. An input
that cannot be a log (compressed, an executable, random bytes, empty, a directory without journal files)
is an ``InputError`` before anything is read.
"""

from __future__ import annotations

import codecs
import os
import socket
import sys
from datetime import datetime, tzinfo
from typing import BinaryIO

from ..entry import Follower, Source

FORMATS = ("auto", "journal", "export", "json", "text", "plain", "docker", "compose", "kubectl", "docker-json",
           "json-log")
FORMAT_HELP = ("journal: .journal files or a directory of them; export: journalctl -o export; json: journalctl "
               "-o json; text: journalctl -o short/short-iso/short-precise/short-full/short-unix; plain: Ollama's "
               "own output (ollama serve, server.log, docker/kubectl logs); docker: lines starting with an RFC 3339 "
               "time (docker logs -t, kubectl logs --timestamps); compose: docker compose logs; kubectl: kubectl "
               "logs --prefix; docker-json: Docker's json-file log; json-log: JSON lines of a logger wrapping Ollama's "
               "output (msg, time, hostname; e.g. pino)")

__all__ = ["FORMATS", "Follower", "InputError", "Source", "check_window", "default_host", "open_follower",
           "open_input", "open_journal", "sniff"]


class InputError(Exception):
    """An input that cannot be opened or read as asked; the message says which and why."""


def sniff(head: bytes) -> str:
    """Guess the format of a stream from its first bytes."""
    from .detect import sniff as _sniff

    return _sniff(head)


def default_host() -> str:
    """The host tag of entries whose input names none: this machine's name (the service uses the same)."""
    return socket.gethostname() or "localhost"


def check_window(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since > until:
        raise InputError(f"--since ({since:%Y-%m-%d %H:%M:%S %z}) is after --until ({until:%Y-%m-%d %H:%M:%S %z}): "
                         "nothing could be read")


def open_journal(files: list[str] | None = None, directory: str | None = None, *,
                 unit: str | None = "ollama.service", since: datetime | None = None,
                 until: datetime | None = None, prefilter: bool = False, name: str | None = None,
                 host: str | None = None) -> Source:
    """The local journal (no files, no directory), journal files, or a directory of them, for a window."""
    from ..parse import interesting
    from .journal import Journal, JournalOpenError, has_journal_files

    check_window(since, until)
    if directory is not None and not has_journal_files(directory):
        raise InputError(f"{name or directory} is a directory without journal files (*.journal): give a journal "
                         "directory such as /var/log/journal, or the log file itself")
    try:
        j = Journal(files, directory, unit=unit, keep=interesting if prefilter else None, host=host)
    except (OSError, ValueError, JournalOpenError) as exc:  # not a journal, or unreadable
        what = name or ", ".join(files or []) or directory
        raise InputError(str(exc) if str(exc).startswith("cannot open") else f"cannot open {what}: {exc}") from None
    j.window(since, until)
    return j


def open_follower(settings) -> Follower:
    """What the service follows: the file of ``follow_file`` (Ollama's output, Docker's json-file log, …),
    else the journal (local, ``journal_files`` or ``journal_dir``), matched on ``unit``."""
    if settings.follow_file:
        from .follow import FileFollower, FollowError

        try:
            return FileFollower(str(settings.follow_file), host=settings.host, fallback_host=default_host(),
                                unit=settings.unit)
        except FollowError as exc:
            raise InputError(str(exc)) from None
    from .journal import Journal, JournalOpenError

    files = [str(f) for f in settings.journal_files] or None
    try:
        return Journal(files, str(settings.journal_dir) if settings.journal_dir else None, unit=settings.unit,
                       host=settings.host)
    except JournalOpenError as exc:
        raise InputError(f"bad setting journal_files/journal_dir: {exc}") from None


class _Recoded:
    """A UTF-16 stream read as UTF-8 (Windows PowerShell's ``>`` writes UTF-16)."""

    def __init__(self, stream: BinaryIO, encoding: str) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder(encoding)("replace")

    def read(self, n: int = -1) -> bytes:
        while True:
            raw = self.stream.read(n)
            text = self.decoder.decode(raw, final=not raw)
            if text or not raw:
                return text.encode()

    def close(self) -> None:
        self.stream.close()


def open_input(path: str, fmt: str = "auto", *, unit: str | None = "ollama.service",
               since: datetime | None = None, until: datetime | None = None,
               year: int | None = None, tz: tzinfo | None = None, prefilter: bool = False,
               host: str | None = None) -> Source:
    """Open one input: a path, a directory of journal files, or ``-`` for stdin.

    ``host`` tags every entry of an input that names none (plain, Docker logs, journalctl text without a
    host); without it, this machine's name is used and said in the source's assumptions."""
    from .detect import JOURNAL_MAGIC, not_a_log, utf16

    if fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r} (choose from {', '.join(FORMATS)})")
    check_window(since, until)
    journal = dict(unit=unit, since=since, until=until, prefilter=prefilter, name=path, host=host)
    if path != "-" and os.path.isdir(path):
        if fmt not in ("auto", "journal"):
            raise InputError(f"{path} is a directory: only journal directories can be read")
        return open_journal(directory=path, **journal)
    if path.endswith(".journal") or path.endswith(".journal~"):
        if fmt in ("auto", "journal"):
            return open_journal([path], **journal)
    shown = "stdin" if path == "-" else path
    stream: BinaryIO
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot open {path}: {exc.strerror}") from exc
    try:
        head = stream.read(65536)
    except OSError as exc:
        raise InputError(f"cannot read {shown}: {exc.strerror}") from exc
    if not head:
        raise InputError(f"{shown} is empty (0 bytes): nothing to read")
    if head.startswith(JOURNAL_MAGIC) and fmt in ("auto", "journal"):
        if path == "-":
            raise InputError("journal files cannot be read from stdin: give the file's path")
        stream.close()
        return open_journal([path], **journal)
    if fmt not in ("export", "journal") and not head.lstrip().split(b"\n", 1)[0].startswith(b"__"):
        enc = utf16(head)
        if enc is not None:
            stream = _Recoded(_Prefixed(head, stream), enc)  # type: ignore[assignment]
            head = stream.read(65536)
        else:
            why = not_a_log(head, shown)
            if why is not None:
                raise InputError(why)
    kind = sniff(head) if fmt == "auto" else fmt
    if kind == "journal":
        raise InputError(f"{shown} is not a journal file (no journal header): try --input-format auto")
    return _reader(kind, stream, head, shown, year=year, tz=tz, prefilter=prefilter, host=host,
                   unit=unit).window(since, until)


class _Prefixed:
    """A stream whose first bytes were already read."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head, self.stream = head, stream

    def read(self, n: int = -1) -> bytes:
        if self.head:
            out, self.head = (self.head, b"") if n < 0 or n >= len(self.head) else (self.head[:n], self.head[n:])
            return out
        return self.stream.read(n)

    def close(self) -> None:
        self.stream.close()


def _reader(kind: str, stream, head: bytes, path: str, *, year, tz, prefilter, host, unit):
    fallback = default_host()
    if kind == "export":
        from ..parse import interesting
        from .export import ExportReader

        return ExportReader(stream, head, keep=interesting if prefilter else None, name=path, host=host, unit=unit)
    if kind == "json":
        from .jsonlines import JsonReader

        return JsonReader(stream, head, name=path, host=host, unit=unit)
    if kind == "text":
        from .text import TextReader

        return TextReader(stream, head, year=year, tz=tz, name=path, host=host, fallback_host=fallback, unit=unit)
    if kind in ("docker-json", "json-log"):
        from .jsonlog import JsonLogReader

        return JsonLogReader(stream, head, kind, host=host, fallback_host=fallback, name=path, unit=unit)
    from .plain import PlainReader

    return PlainReader(stream, head, kind, host=host, fallback_host=fallback, tz=tz, name=path, unit=unit)
