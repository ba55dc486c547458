"""The forms a journal entry takes outside the journal: ``journalctl -o export``, ``-o json``, ``-o short-precise``.

``export_entry`` writes one entry from its fields (any field, binary-safe: a value that is not printable UTF-8
takes export's ``KEY\\n`` + u64le length + bytes form). ``Proc`` and ``JournalStream`` write millions of entries
fast for ``bench/gen_journal.py``: a writer process's fields are rendered once per form, entries are buffered,
memory stays constant. Stdlib only; the lines themselves come from ``testbed.ollamalog``.
"""

from __future__ import annotations

import json
import re
import struct
from typing import BinaryIO

from .ollamalog import Clock

# systemd's utf8_is_printable_newline(…, allow_newline=false): what export writes as KEY=value
_NOT_PRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(raw: bytes) -> bool:
    try:
        return _NOT_PRINTABLE.search(raw.decode()) is None
    except UnicodeDecodeError:
        return False


def export_entry(fields: list[tuple[str, str | bytes]]) -> bytes:
    """One entry in journal export format; a value that is not printable UTF-8 takes the binary form."""
    out = b""
    for k, v in fields:
        raw = v.encode() if isinstance(v, str) else v
        if printable(raw):
            out += k.encode() + b"=" + raw + b"\n"
        else:
            out += k.encode() + b"\n" + struct.pack("<Q", len(raw)) + raw + b"\n"
    return out + b"\n"


SOURCE_TIME = "_SOURCE_REALTIME_TIMESTAMP"


class Proc:
    """One writer process: the journal fields journald adds for it, rendered once per output form.

    A field ``_SOURCE_REALTIME_TIMESTAMP`` (systemd's own entries carry one) is written as the entry's time
    minus ``source_lag_us``: the time the process logged, a little before journald received it.
    """

    def __init__(self, fields: list[tuple[str, str]], ident: str, pid: int, source_lag_us: int = 37) -> None:
        self.fields = fields
        self.ident = ident
        self.pid = pid
        self.source_lag_us = source_lag_us if any(k == SOURCE_TIME for k, _ in fields) else None
        self.export = "".join(f"{k}={v}\n" for k, v in fields)
        self.json = "".join(f",{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}" for k, v in fields)
        self.text_tag = f"{ident}[{pid}]: "
        if self.source_lag_us is not None:
            value = dict(fields)[SOURCE_TIME]
            self._export_src = f"{SOURCE_TIME}={value}\n"
            self._json_src = f'"{SOURCE_TIME}":{json.dumps(value)}'

    def export_at(self, t: int) -> str:
        if self.source_lag_us is None:
            return self.export
        return self.export.replace(self._export_src, f"{SOURCE_TIME}={t - self.source_lag_us}\n")

    def json_at(self, t: int) -> str:
        if self.source_lag_us is None:
            return self.json
        return self.json.replace(self._json_src, f'"{SOURCE_TIME}":"{t - self.source_lag_us}"')


FORMATS = ("export", "json", "text")


class JournalStream:
    """Entries written in one of ``FORMATS`` to a binary file, buffered (``flush`` at the end)."""

    def __init__(self, fmt: str, out: BinaryIO, host: str, clock: Clock, flush_every: int = 4096) -> None:
        self.out = out
        self.host = host
        self.clock = clock
        self.flush_every = flush_every
        self.bytes = 0
        self.buf: list[str] = []
        self.write = {"export": self._export, "json": self._json, "text": self._text}[fmt]
        self.cursors = fmt != "text"  # the text form prints no cursor or monotonic time: callers skip them

    def _export(self, msg: str | bytes, proc: Proc, t: int, mono: int = 0, cursor: str = "") -> None:
        head = f"__CURSOR={cursor}\n__REALTIME_TIMESTAMP={t}\n__MONOTONIC_TIMESTAMP={mono}\n{proc.export_at(t)}"
        if type(msg) is str:
            self._add(f"{head}MESSAGE={msg}\n\n")
        else:
            self._raw(head.encode() + b"MESSAGE\n" + struct.pack("<Q", len(msg)) + msg + b"\n\n")

    def _json(self, msg: str | bytes, proc: Proc, t: int, mono: int = 0, cursor: str = "") -> None:
        if type(msg) is str:
            m = json.dumps(msg, ensure_ascii=False)
        else:  # journalctl -o json: a field that is not printable UTF-8 is an array of byte values
            m = "[" + ",".join(map(str, msg)) + "]"
        self._add(f'{{"__CURSOR":"{cursor}","__REALTIME_TIMESTAMP":"{t}",'
                  f'"__MONOTONIC_TIMESTAMP":"{mono}"{proc.json_at(t)},"MESSAGE":{m}}}\n')

    def _text(self, msg: str | bytes, proc: Proc, t: int, mono: int = 0, cursor: str = "") -> None:
        head = f"{self.clock.short_precise(t)} {self.host} {proc.text_tag}"
        if type(msg) is str:
            self._add(head + msg + "\n")
        else:  # -a prints the raw bytes
            self._raw(head.encode() + msg + b"\n")

    def _add(self, s: str) -> None:
        self.buf.append(s)
        if len(self.buf) >= self.flush_every:
            self.flush()

    def _raw(self, data: bytes) -> None:
        self.flush()
        self.out.write(data)
        self.bytes += len(data)

    def flush(self) -> None:
        if self.buf:
            data = "".join(self.buf).encode("utf-8", "surrogateescape")
            self.out.write(data)
            self.bytes += len(data)
            self.buf.clear()
