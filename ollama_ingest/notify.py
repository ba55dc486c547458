"""sd_notify without libsystemd: READY, STATUS, STOPPING and the watchdog (``Type=notify``, ``WatchdogSec=``).

systemd-python has ``systemd.daemon.notify`` but no watchdog helper; the protocol is one datagram to the
``$NOTIFY_SOCKET`` unix socket (``@name`` is the abstract namespace), and the watchdog interval is
``$WATCHDOG_USEC`` (for us only if ``$WATCHDOG_PID`` is unset or our pid). Outside systemd every call is a
no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger("ollama_ingest.notify")


class Notifier:
    def __init__(self, environ: dict | None = None) -> None:
        env = os.environ if environ is None else environ
        addr = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = None
        if addr.startswith("@"):
            self.address = "\0" + addr[1:]
        elif addr.startswith("/"):
            self.address = addr
        self.watchdog_s: float | None = None
        usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            self.watchdog_s = int(usec) / 1e6
        self._sock: socket.socket | None = None
        self._last_ping = 0.0
        self._last_status = ""
        self._failed = False

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        if self.address is None:
            return False
        msg = "\n".join(lines).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(msg, self.address)
            return True
        except OSError as exc:
            if not self._failed:
                self._failed = True
                log.warning("cannot notify systemd at %s: %s", self.address.replace("\0", "@"), exc.strerror)
            return False

    def ready(self, status: str = "") -> None:
        self.send("READY=1", *([f"STATUS={status}"] if status else []), f"MAINPID={os.getpid()}")
        self._last_status = status

    def status(self, text: str) -> None:
        if text != self._last_status:
            self._last_status = text
            self.send(f"STATUS={text}")

    def stopping(self, status: str = "") -> None:
        self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self, force: bool = False) -> None:
        """Send WATCHDOG=1 when due (cheap to call often)."""
        if self.watchdog_s is None:
            return
        now = time.monotonic()
        if force or now - self._last_ping >= self.watchdog_s / 3:
            self._last_ping = now
            self.send("WATCHDOG=1")

    def next_ping_in(self) -> float | None:
        if self.watchdog_s is None:
            return None
        return max(0.0, self._last_ping + self.watchdog_s / 3 - time.monotonic())

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
