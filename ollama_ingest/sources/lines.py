"""Lines from a byte stream: one per ``\\n`` at every size, a cap on their length, time linear in the input.

The format sniffer has already read the stream's head; it is split like every later chunk. A line longer
than the cap is dropped whole (the caller counts it) without ever being held: only the part of a line
that is still pending (at most the cap plus one chunk) is kept, so a 2 GB line costs one pass over it and
no more memory than a short one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

MAX_LINE = 1 << 20  # a text line longer than this is not Ollama's: skipped, counted
CHUNK = 1 << 20


def split_lines(stream: BinaryIO, first: bytes = b"", *, cap: int = MAX_LINE,
                overlong: Callable[[bytes], None] | None = None) -> Iterator[bytes]:
    """Every line of ``first`` + the rest of ``stream``, without its ``\\n`` (a last line may lack one).

    ``overlong(head)`` is called once per line longer than ``cap`` (with its first bytes), which is
    not yielded."""
    pending = b""
    dropping = False  # inside a line already over the cap: discard up to its newline
    chunk = first
    read = stream.read
    while True:
        if not chunk:
            chunk = read(CHUNK)
            if not chunk:
                break
        if dropping:
            nl = chunk.find(b"\n")
            if nl < 0:
                chunk = b""
                continue
            dropping = False
            chunk = chunk[nl + 1:]
            continue
        big = len(chunk) > cap  # only then can a line inside the chunk be over the cap
        lines = chunk.split(b"\n")
        chunk = b""
        if len(lines) == 1:  # no newline in this chunk: the pending line grows
            pending += lines[0]
            if len(pending) > cap:
                if overlong is not None:
                    overlong(pending[:256])
                pending, dropping = b"", True
            continue
        head = pending + lines[0] if pending else lines[0]
        if len(head) > cap:
            if overlong is not None:
                overlong(head[:256])
        else:
            yield head
        pending = lines.pop()
        if len(lines) > 1:
            del lines[0]
            if big:
                for line in lines:
                    if len(line) > cap:
                        if overlong is not None:
                            overlong(line[:256])
                    else:
                        yield line
            else:
                yield from lines
        if len(pending) > cap:
            if overlong is not None:
                overlong(pending[:256])
            pending, dropping = b"", True
    if pending:
        yield pending


MAX_REJOINED = 64 << 10


def rejoin(entry, rest: str) -> bool:
    """Join a line without any prefix to the entry before it if that entry is visibly cut short: a slog or
    Go-log line with an open double quote (a long line, such as ``server config env="map[…]"``, that a
    terminal paste hard-wrapped). Returns whether it was joined."""
    msg = entry.message
    if type(msg) is not str or len(msg) > MAX_REJOINED:
        return False
    if not (msg.startswith("time=") or ".go:" in msg[:40]):
        return False
    if (msg.count('"') - msg.count('\\"')) % 2 == 0:
        return False
    entry.message = msg + rest
    return True
