"""A fault-injecting TCP proxy for the tests: put it between a client and the v2 shim (or any HTTP/1.1
server that sends ``Content-Length``) and break chosen requests the way networks and databases do.

Faults, applied to requests whose path starts with one of ``paths`` (default: the v2 write endpoint):

- ``slow``: forward the request (the write lands), hold the answer ``hold_s`` (longer than the client's
  timeout), then close: the acknowledgement never arrives in time;
- ``reset``: read the headers and half of the body, then close with an RST (``SO_LINGER`` 0): not forwarded;
- ``truncate``: forward (the write lands), then answer a status line and a body cut short, and close;
- ``status``: answer ``status`` itself (429 with ``retry_after``, 503, 413 …) without forwarding;
  ``min_lines`` lets it pass requests whose body has fewer lines (a 413 for one line is not a fault).

``schedule`` (a deque of ``Fault``) holds faults for the next requests; when the schedule is empty,
``chooser(path)`` (if set) may return a ``Fault`` for each request (random mixes, "fail everything").
``counts`` says what it did, ``seen`` holds the ``time.monotonic()`` of each matching request.
Optionally TLS (``ssl_context``), for the certificate-verification tests. Stdlib only.
"""

from __future__ import annotations

import collections
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Fault:
    kind: str  # slow | reset | truncate | status
    status: int = 503
    retry_after: str | None = None
    hold_s: float = 2.0
    min_lines: int = 0


class FaultProxy:
    def __init__(self, upstream_url: str, paths: tuple[str, ...] = ("/api/v2/write",), ssl_context=None) -> None:
        u = urlsplit(upstream_url)
        self.upstream = (u.hostname, u.port or 80)
        self.paths, self.ssl_context = paths, ssl_context
        self.schedule: collections.deque[Fault] = collections.deque()
        self.chooser: Callable[[str], Fault | None] | None = None
        self.counts: collections.Counter[str] = collections.Counter()
        self.seen: list[float] = []
        self.url = ""
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()

    @property
    def faults(self) -> int:
        """Faults actually applied (not the requests passed through)."""
        return sum(v for k, v in self.counts.items() if k not in ("requests", "passed", "other"))

    def start(self, port: int = 0) -> FaultProxy:
        self._listener = socket.create_server(("127.0.0.1", port))
        scheme = "https" if self.ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, name="faultproxy", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening and cut the open connections (shutdown wakes the threads blocked on them)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener, shutdown=True)
        with self._lock:
            for c in list(self._conns):
                _close(c, shutdown=True)

    # -- internals -------------------------------------------------------------------------------
    def _accept(self) -> None:
        while self._listener is not None:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def _pick(self, path: str) -> Fault | None:
        if not path.startswith(self.paths):
            self._count("other")
            return None
        with self._lock:
            self.counts["requests"] += 1
            self.seen.append(time.monotonic())
            if self.schedule:
                return self.schedule.popleft()
        chooser = self.chooser  # may be switched off meanwhile
        return chooser(path) if chooser else None

    def _serve(self, conn: socket.socket) -> None:
        up = None
        try:
            if self.ssl_context is not None:
                conn = self.ssl_context.wrap_socket(conn, server_side=True)
            with self._lock:
                self._conns.add(conn)
            buf = b""
            while True:
                head, buf = _read_until(conn, buf, b"\r\n\r\n")
                if head is None:
                    return
                path = head.split(b" ", 2)[1].decode("latin-1")
                length = _content_length(head)
                fault = self._pick(path)
                if fault is not None and fault.kind == "reset":
                    _, buf = _read_exact(conn, buf, length // 2)
                    self._count("reset")
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                body, buf = _read_exact(conn, buf, length)
                if body is None:
                    return
                if fault is not None and fault.kind == "status" and body.count(b"\n") + 1 >= fault.min_lines:
                    self._count(f"status {fault.status}")
                    msg = json.dumps({"code": "injected", "message": f"injected {fault.status}"}).encode()
                    extra = f"Retry-After: {fault.retry_after}\r\n" if fault.retry_after is not None else ""
                    conn.sendall(f"HTTP/1.1 {fault.status} Injected\r\nContent-Type: application/json\r\n{extra}"
                                 f"Content-Length: {len(msg)}\r\n\r\n".encode() + msg)
                    continue
                if up is None:
                    up = socket.create_connection(self.upstream, timeout=30)
                up.sendall(head + body)
                rhead, rest = _read_until(up, b"", b"\r\n\r\n")
                if rhead is None:
                    return
                rbody, _ = _read_exact(up, rest, _content_length(rhead))
                if fault is not None and fault.kind == "slow":
                    self._count("slow")
                    time.sleep(fault.hold_s)
                    return
                if fault is not None and fault.kind == "truncate":
                    self._count("truncate")
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n"
                                 b'{"code":"ok","mess')
                    return
                self._count("passed")
                conn.sendall(rhead + (rbody or b""))
        except OSError:
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            _close(conn)
            if up is not None:
                _close(up)


def _close(s: socket.socket, shutdown: bool = False) -> None:
    try:
        if shutdown:
            s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def _read_until(s: socket.socket, buf: bytes, sep: bytes) -> tuple[bytes | None, bytes]:
    while sep not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    i = buf.index(sep) + len(sep)
    return buf[:i], buf[i:]


def _read_exact(s: socket.socket, buf: bytes, n: int) -> tuple[bytes | None, bytes]:
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    return buf[:n], buf[n:]


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return int(v.strip())
    return 0
