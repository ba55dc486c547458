"""How the service stops: SIGTERM/SIGINT or ``request_stop()`` set an event and write to a wake-up pipe
(the loop may be asleep in ``select``; finished background work wakes it the same way), the last flush gets
until ``stop_deadline`` (``grace_s`` after the signal), and a backstop thread ends the process after
``hard_exit_s`` whatever happens (a request already in flight may hang)."""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
import threading
import time

log = logging.getLogger("ollama_ingest.service")


class Stoppable:
    """Mixed into ``Service``; expects ``stop`` (an Event), ``grace_s``, ``hard_exit_s`` and
    ``install_signals``."""

    _wake_r = _wake_w = -1
    _wake_lock = threading.RLock()  # a write from another thread never meets the pipe being closed
    _old_wakeup = -1
    stop_deadline: float | None = None  # time.monotonic() by which the last flush must be done

    def _install_signals(self) -> None:
        self._old_handlers: dict = {}
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        if not self.install_signals or threading.current_thread() is not threading.main_thread():
            return
        self._old_wakeup = signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)

    def _restore_signals(self) -> None:
        if self._old_handlers:
            for sig, h in self._old_handlers.items():
                signal.signal(sig, h)
            self._old_handlers.clear()
            signal.set_wakeup_fd(self._old_wakeup)
        with self._wake_lock:
            if self._wake_w >= 0:
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._wake_r = self._wake_w = -1

    def _on_signal(self, signum, frame) -> None:
        if not self.stop.is_set():
            log.info("%s: stopping (flushing for up to %.0f s)", signal.Signals(signum).name, self.grace_s)
        self.request_stop()

    def request_stop(self) -> None:
        """Stop soon (SIGTERM, or another thread): flush within ``grace_s``, then return from ``run``."""
        if self.stop.is_set():
            return
        self.stop_deadline = time.monotonic() + self.grace_s
        self.stop.set()
        self._wake()
        if self.hard_exit_s > 0:
            threading.Thread(target=self._backstop, name="shutdown-backstop", daemon=True).start()

    def _wake(self) -> None:
        """Wake the loop from its wait (from another thread: a stop, finished background work)."""
        with self._wake_lock:
            if self._wake_w >= 0:
                try:
                    os.write(self._wake_w, b"\0")
                except OSError:
                    pass

    def _backstop(self) -> None:
        time.sleep(self.hard_exit_s)
        try:
            sys.stderr.write("ollama-ingest: shutdown took too long; exiting without saving the checkpoint "
                             "(entries since the last one will be read again)\n")
            sys.stderr.flush()
        finally:
            os._exit(0)

    def _pause(self, seconds: float) -> None:
        """Wait on the wake-up pipe only (a signal ends it early), e.g. while the database is down: the
        journal is not read meanwhile."""
        if self._wake_r >= 0:
            select.select([self._wake_r], [], [], max(0.0, seconds))
            self._drain_wakeups()
        else:
            self.stop.wait(max(0.0, seconds))

    def _drain_wakeups(self) -> None:
        if self._wake_r >= 0:
            try:
                while os.read(self._wake_r, 512):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
