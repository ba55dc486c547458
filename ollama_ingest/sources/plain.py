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
from typing import BinaryIO, NamedTuple

from ..entry import Entry, SourceBase, make_entry
from .clock import RFC3339, OllamaClock, rfc3339_us
from .lines import rejoin, split_lines

_ANSI = r"(?:\x1b\[[0-9;]*m)*"
COMPOSE = re.compile(_ANSI + r"([A-Za-z0-9][\w.-]*?)\s*" + _ANSI + r"\s*\|" + _ANSI + r"(?: |$)")
# kubectl logs --prefix: "[pod/ollama-0/ollama] "; stern and others: "[ollama-0 ollama] "
KUBECTL = re.compile(r"\[(?:pod/|po/)?([^/\]\s]+)[/ ]([^\]\s]+)\] ?")
SYSLOG_TAG = re.compile(r"([A-Za-z_][\w.@-]*)\[(\d+)\]: ?")
CRI = re.compile(r"(stdout|stderr) ([FP]) ?")
NAIVE_TS = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)? ")
PREFIXES = {"plain": None, "docker": None, "compose": COMPOSE, "kubectl": KUBECTL}
LOOKAHEAD = 5000  # lines read ahead for the zone of Ollama's own times
MAX_WAITING = 10_000  # lines held while no time is known yet


def _is_ts(text: str) -> bool:
    return text[4:5] == "-" and text[10:11] in ("T", " ") and text[:4].isdigit()


class Line(NamedTuple):
    ts: int | None  # µs; None while no time is known yet
    host: str
    ident: str  # a syslog tag's identifier, else the container's name
    pid: int
    unit_field: str  # the unit systemd's line (PID 1) speaks of, when the input shows it
    message: str | bytes
    own_time: bool  # the time is the line's own (not the last one seen)


class LineDecoder:
    """One line of a plain-family input → its ``Line``, keeping each container's clock."""

    def __init__(self, fmt: str, host: str | None, fallback_host: str, tz: tzinfo | None = None,
                 unit: str | None = None) -> None:
        self.format = fmt
        self.stem = unit.removesuffix(".service").lower() if unit else None
        self.about_unit = ""  # set by prime() when systemd's lines can only be about the unit
        self.prefix = PREFIXES[fmt]
        self.host = host
        self.fallback_host = fallback_host
        self.tz = tz
        self.clocks: dict[str, OllamaClock] = {}
        self.partial: dict[tuple[str, str], str] = {}  # CRI "P" lines waiting for their "F"
        self.containers: dict[str, int] = {}

    def clock(self, container: str) -> OllamaClock:
        c = self.clocks.get(container)
        if c is None:
            c = self.clocks[container] = OllamaClock(self.tz)
        return c

    def prime(self, lines: list[bytes]) -> None:
        """Learn the zone of Ollama's own times from a lookahead, before the first line (each container its own)."""
        texts: dict[str, list[str]] = {}
        idents = set()
        for raw in lines:
            got = self._split(raw.decode("utf-8", "replace"))
            if got is not None:
                msg = got[2]
                t = SYSLOG_TAG.match(msg) if "]: " in msg[:64] else None
                if t is not None:
                    idents.add(t.group(1).lower())
                    msg = msg[t.end():]
                texts.setdefault(got[0], []).append(msg)
        self.partial.clear()
        for container, msgs in texts.items():
            self.clock(container).learn_from(msgs)
        if self.stem and self.stem in idents and idents <= {self.stem, "systemd"}:
            self.about_unit = f"{self.stem}.service"  # a `journalctl -u` paste: systemd speaks of the unit

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

    def decode(self, raw: bytes) -> Line | None:
        """The line's parts (its time is None while no time is known yet); None: nothing to emit yet."""
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
        ident, pid, unit_field = container, 0, ""
        if "]: " in msg[:64] and (t := SYSLOG_TAG.match(msg)) is not None:  # "ollama[1667]: …" (journalctl -o cat-like)
            ident, pid, msg = t.group(1), int(t.group(2)), msg[t.end():]
            if pid == 1:
                unit_field = self.about_unit
        clock = self.clock(container)
        own = ts is not None
        if own:
            clock.last_us = ts
        else:
            ts = clock.own_time(msg)
            own = ts is not None
            ts = clock.last_us if ts is None else ts
        if container:
            self.containers[container] = self.containers.get(container, 0) + 1
        host = self.host or container or self.fallback_host
        return Line(ts, host, ident, pid, unit_field, msg if exact else msg.encode("utf-8", "surrogateescape"), own)

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
                 fallback_host: str = "localhost", tz: tzinfo | None = None, name: str = "-",
                 unit: str | None = None) -> None:
        super().__init__(name, unit)
        self.format = fmt
        self.stream = stream
        self.first = first
        self.decoder = LineDecoder(fmt, host, fallback_host, tz, unit)

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
        stem, unit = self.unit_stem, self.unit
        seq = rejoined = 0
        waiting: list[Line] = []  # lines before the first time: they take it
        held: Entry | None = None  # the newest entry: a hard-wrapped rest of it may follow
        for source in (head, lines):
            for raw in source:
                if not raw.strip():
                    continue
                ln = dec.decode(raw)
                if ln is None:
                    continue
                if not ln.own_time and held is not None and type(ln.message) is str and held.host == ln.host \
                        and rejoin(held, ln.message):
                    rejoined += 1
                    continue
                if ln.ts is None:
                    if len(waiting) < MAX_WAITING:
                        waiting.append(ln)
                    else:
                        self.skip(f"{self.format}: line before any time", raw)
                    continue
                if not self.unit_entries and (ln.ident == stem or ln.ident == unit) and self.inside(ln.ts):
                    self.unit_entries = 1
                if waiting:
                    for w in waiting:
                        seq += 1
                        yield make_entry(ln.ts, w.message, w.host, w.pid, "", w.unit_field, w.ident, "", seq)
                    waiting.clear()
                seq += 1
                if held is not None:
                    yield held
                held = make_entry(ln.ts, ln.message, ln.host, ln.pid, "", ln.unit_field, ln.ident, "", seq)
        if held is not None:
            yield held
        for w in waiting:
            self.skip(f"{self.format}: no line of the input has a time (slog time=, [GIN], Go log)", w.message)
        if rejoined:
            self.assumptions.append(f"{self.name}: {rejoined} lines joined to the line before them (a long line "
                                    "hard-wrapped in a paste)")
        self.assumptions.extend(dec.assumptions(self.name))
