"""Ollama's own output as people have it, one entry per line.

- ``plain``: what ``ollama serve`` writes (a terminal, Windows/macOS ``server.log``, ``docker logs`` and
  ``kubectl logs`` without timestamps): each line's time is its own (slog ``time=``, ``[GIN]``, Go's std
  log), see ``clock.py``; a line without one (llama.cpp, runner output) takes the last time seen;
- ``docker``: each line starts with an RFC 3339 time (``docker logs -t``, ``kubectl logs --timestamps``,
  and CRI files ``… stderr F …`` whose partial lines ``P`` are joined): that time is the entry's, as
  journald's is;
- ``compose``: ``ollama-1  | …`` (``docker compose logs``, with or without ``-t``);
- ``kubectl``: ``[pod/ollama-0/ollama] …`` (``kubectl logs --prefix``, with or without ``--timestamps``).

With a container prefix each container has its own clock and, unless ``--host`` is given, is its own host
(the pod or compose container name: an Ollama server each). Without a prefix the host is ``--host``, else
this machine's name, which is said in the assumptions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import tzinfo
from typing import BinaryIO

from ..entry import Entry, SourceBase, make_entry
from .clock import RFC3339, OllamaClock, rfc3339_us
from .lines import rejoin, split_lines

_ANSI = r"(?:\x1b\[[0-9;]*m)*"
COMPOSE = re.compile(_ANSI + r"([A-Za-z0-9][\w.-]*?)\s*" + _ANSI + r"\s*\|" + _ANSI + r"(?: |$)")
KUBECTL = re.compile(r"\[(?:pod|po)/([^/\]\s]+)/([^\]\s]+)\] ?")
CRI = re.compile(r"(stdout|stderr) ([FP]) ?")
NAIVE_TS = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)? ")
PREFIXES = {"plain": None, "docker": None, "compose": COMPOSE, "kubectl": KUBECTL}
LOOKAHEAD = 5000  # lines read ahead for the zone of Ollama's own times
MAX_WAITING = 10_000  # lines held while no time is known yet


def _is_ts(text: str) -> bool:
    return text[4:5] == "-" and text[10:11] in ("T", " ") and text[:4].isdigit()


class LineDecoder:
    """One line of a plain-family input → (µs, host, container, message), keeping each container's clock."""

    def __init__(self, fmt: str, host: str | None, fallback_host: str, tz: tzinfo | None = None) -> None:
        self.format = fmt
        self.prefix = PREFIXES[fmt]
        self.host = host
        self.fallback_host = fallback_host
        self.tz = tz
        self.clocks: dict[str, OllamaClock] = {}
        self.partial: dict[tuple[str, str], str] = {}  # CRI "P" lines waiting for their "F"
        self.containers: dict[str, int] = {}
        self.stamped = 0  # lines with a time prefix (docker -t, kubectl --timestamps, CRI)

    def clock(self, container: str) -> OllamaClock:
        c = self.clocks.get(container)
        if c is None:
            c = self.clocks[container] = OllamaClock(self.tz)
        return c

    def prime(self, lines: list[bytes]) -> None:
        """Learn the zone of Ollama's own times from a lookahead, before the first line (each container its own)."""
        texts: dict[str, list[str]] = {}
        for raw in lines:
            got = self._split(raw.decode("utf-8", "replace"))
            if got is not None:
                texts.setdefault(got[0], []).append(got[2])
        self.partial.clear()
        for container, msgs in texts.items():
            self.clock(container).learn_from(msgs)

    def _split(self, text: str) -> tuple[str, int | None, str] | None:
        """(container, time from a prefix or None, the rest); None for a CRI partial line held back."""
        container = ""
        if self.prefix is not None:
            m = self.prefix.match(text)
            if m is not None:
                container = m.group(1)
                text = text[m.end():]
        ts = None
        if _is_ts(text):
            m = RFC3339.match(text)
            if m is None:
                n = NAIVE_TS.match(text)  # Docker Desktop's viewer: its local time without a zone: not used
                if n is not None:
                    text = text[n.end():]
            else:
                ts = rfc3339_us(m)
                text = text[m.end() + 1:]
                c = CRI.match(text)
                if c is not None:
                    stream, flag = c.group(1), c.group(2)
                    text = self.partial.pop((container, stream), "") + text[c.end():]
                    if flag == "P":
                        self.partial[(container, stream)] = text
                        return None
        return container, ts, text

    def decode(self, raw: bytes) -> tuple[int | None, str, str, str | bytes, bool] | None:
        """(µs or None if no time is known yet, host, container, message, whether the time is the line's own);
        None: nothing to emit yet."""
        try:
            text = raw.decode()
            exact = True
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "surrogateescape")
            exact = False
        if text.endswith("\r"):
            text = text[:-1]
        got = self._split(text)
        if got is None:
            return None
        container, ts, msg = got
        clock = self.clock(container)
        own = ts is not None
        if own:
            self.stamped += 1
            clock.last_us = ts
        else:
            ts = clock.own_time(msg)
            own = ts is not None
            ts = clock.last_us if ts is None else ts
        if container:
            self.containers[container] = self.containers.get(container, 0) + 1
        host = self.host or container or self.fallback_host
        return ts, host, container, msg if exact else msg.encode("utf-8", "surrogateescape"), own

    def assumptions(self, name: str) -> list[str]:
        out = []
        if not self.host:
            if self.containers:
                out.append(f"{name}: host tag = the container name ({', '.join(sorted(self.containers)[:5])}); "
                           "--host sets another")
            else:
                out.append(f"{name}: the input names no host: host tag = {self.fallback_host!r} (this machine; "
                           "use --host)")
        for container, clock in sorted(self.clocks.items()):
            if clock.local_times and clock.tz is None and (clock.assumed_local or clock.learned is not None):
                what = f"container {container}: " if container else ""
                out.append(f"{name}: {what}[GIN] and Go-log times are local: zone {clock.zone_said()} (--tz)")
        return out


class PlainReader(SourceBase):
    """Lines of Ollama's own output (plain, docker, compose, kubectl): one entry each."""

    def __init__(self, stream: BinaryIO, first: bytes = b"", fmt: str = "plain", *, host: str | None = None,
                 fallback_host: str = "localhost", tz: tzinfo | None = None, name: str = "-") -> None:
        super().__init__(name)
        self.format = fmt
        self.stream = stream
        self.first = first
        self.decoder = LineDecoder(fmt, host, fallback_host, tz)

    def _overlong(self, head: bytes) -> None:
        self.skip(f"{self.format}: line longer than 1 MiB", head)

    def entries(self) -> Iterator[Entry]:
        lines = split_lines(self.stream, self.first, overlong=self._overlong)
        head = []
        for raw in lines:
            head.append(raw)
            if len(head) >= LOOKAHEAD:
                break
        dec = self.decoder
        dec.prime(head)
        seq = rejoined = 0
        waiting: list[tuple[str, str, str | bytes]] = []  # lines before the first time: they take it
        held: Entry | None = None  # the newest entry: a hard-wrapped rest of it may follow
        for source in (head, lines):
            for raw in source:
                if not raw.strip():
                    continue
                got = dec.decode(raw)
                if got is None:
                    continue
                ts, host, container, msg, own = got
                if not own and held is not None and type(msg) is str and not msg[:1].isspace() \
                        and held.ident == container and rejoin(held, msg):
                    rejoined += 1
                    continue
                if ts is None:
                    if len(waiting) < MAX_WAITING:
                        waiting.append((host, container, msg))
                    else:
                        self.skip(f"{self.format}: line before any time", raw)
                    continue
                if waiting:
                    for h, c, m in waiting:
                        seq += 1
                        yield make_entry(ts, m, h, 0, "", "", c, "", seq)
                    waiting.clear()
                seq += 1
                if held is not None:
                    yield held
                held = make_entry(ts, msg, host, 0, "", "", container, "", seq)
        if held is not None:
            yield held
        for _h, _c, m in waiting:
            self.skip(f"{self.format}: no line of the input has a time (slog time=, [GIN], Go log)", m)
        if rejoined:
            self.assumptions.append(f"{self.name}: {rejoined} lines joined to the line before them (a long line "
                                    "hard-wrapped in a paste)")
        self.assumptions.extend(dec.assumptions(self.name))
