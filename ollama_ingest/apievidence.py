"""What the service learns besides the journal: Ollama's ``/api/ps`` (what is loaded now) and the model
inventory (manifests and the API). Both are gathered in background threads, because Ollama may be slow
or absent; the service's loop takes the results when it is ready for them."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from .config import Settings

log = logging.getLogger("ollama_ingest.service")

PS_RETRY_S = 30.0  # an API that does not answer is asked again this much later


def gather_inventory(settings: Settings, api: bool = True) -> list:
    """What models this host has: the manifests (configured dir, OLLAMA_MODELS, the usual places), and
    with ``api`` the Ollama API too (``/api/tags`` + ``/api/show``: slow if Ollama is busy)."""
    from .correlate import inventory

    try:
        return inventory.gather([str(d) for d in settings.models_dir], settings.ollama_url if api else None,
                                use_cli=False)
    except (OSError, ValueError) as exc:
        log.warning("cannot read the model inventory: %s", exc)
        return []


class ApiEvidence:
    """``/api/ps`` polls every ``ps_interval_s`` and an inventory every ``inventory_interval_s``, each in a
    thread of its own; ``wake()`` is called when an inventory is ready (the loop may be asleep)."""

    def __init__(self, settings: Settings, host: str, wake: Callable[[], None]) -> None:
        self.settings, self.host, self.wake = settings, host, wake
        self.ps_next = 0.0
        self.inventory_next = float("inf")
        self._ps_thread: threading.Thread | None = None
        self._ps_done: list = []  # ApiPs events polled, not yet taken
        self._inventory_thread: threading.Thread | None = None
        self._inventory_done: tuple | None = None
        self._down_said = False

    # -- /api/ps ---------------------------------------------------------------------------------
    def poll_ps_now(self):
        """One poll, here and now (at a start with a fresh state); None when the API does not answer."""
        from .sources.ollama_api import poll_ps

        try:
            return poll_ps(self.settings.ollama_url, self.host)
        except (OSError, ValueError) as exc:
            self._said_down(exc)
            return None

    def ps_events(self) -> list:
        """The polls done since the last call; starts the next poll when it is due."""
        from .sources.ollama_api import poll_ps

        done, self._ps_done = self._ps_done, []
        now = time.monotonic()
        if (self._ps_thread is not None and self._ps_thread.is_alive()) or now < self.ps_next:
            return done
        self.ps_next = now + self.settings.ps_interval_s

        def work() -> None:
            try:
                self._ps_done.append(poll_ps(self.settings.ollama_url, self.host))
                if self._down_said:
                    self._down_said = False
                    log.info("the Ollama API answers again at %s", self.settings.ollama_url)
            except (OSError, ValueError) as exc:
                self.ps_next = time.monotonic() + PS_RETRY_S  # not there (yet): ask again later
                self._said_down(exc)

        self._ps_thread = threading.Thread(target=work, name="api-ps", daemon=True)
        self._ps_thread.start()
        return done

    def _said_down(self, exc: BaseException) -> None:
        if not self._down_said:
            self._down_said = True
            log.info("no /api/ps evidence: the Ollama API at %s does not answer (%s)",
                     self.settings.ollama_url, type(exc).__name__)

    # -- the inventory ---------------------------------------------------------------------------
    def inventory(self) -> tuple | None:
        """``(infos, ts_ns)`` of an inventory gathered since the last call, or None; starts the next
        when it is due (the first right away)."""
        done, self._inventory_done = self._inventory_done, None
        if self._inventory_thread is None or not self._inventory_thread.is_alive():
            if time.monotonic() >= self.inventory_next:
                self.inventory_next = time.monotonic() + self.settings.inventory_interval_s

                def work() -> None:
                    infos = gather_inventory(self.settings)
                    self._inventory_done = (infos, time.time_ns())
                    self.wake()

                self._inventory_thread = threading.Thread(target=work, name="inventory", daemon=True)
                self._inventory_thread.start()
        return done


class EvidenceTicks:
    """Mixed into ``Service``: hands the API's results to the correlator and the sink (expects ``api``,
    ``pipeline``, ``follower``, ``sink``, ``host``, ``_emit`` and ``_merge_names``)."""

    def _ps_tick(self) -> None:
        """Live evidence from Ollama's /api/ps (design §3): a model that disappears was unloaded, an
        ``expires_at`` that moves tells which model just finished a request. Polled in a thread; fed here,
        only once caught up, so its wall-clock time falls after the journal entries already read. It is
        not replayable: a restart keeps what it taught the correlator (the checkpoint), nothing more."""
        for ev in self.api.ps_events():
            f = self.follower
            if f is not None and f.ts_us is not None and ev.ts_us <= f.ts_us:
                continue  # the journal moved past it meanwhile: it would arrive out of order
            self._emit(self.pipeline.timeline.feed(ev.model_copy(update={"host": self.journal_host or ev.host})))

    @property
    def journal_host(self) -> str | None:
        hosts = self.pipeline.timeline.hosts_seen() if self.pipeline else []
        return hosts[0] if len(hosts) == 1 else None

    def _inventory_tick(self) -> None:
        """Every inventory_interval_s: gather in a thread (the API may be slow), write when it is done."""
        done = self.api.inventory()
        if done is not None:
            from .correlate.inventory import names_from
            from .schema.measurements import inventory_points

            infos, ts_ns = done
            self._merge_names(names_from(infos))
            if infos:
                self.sink.add(inventory_points(infos, self.host, ts_ns))


def wake_fd_writer(fd_of: Callable[[], int]) -> Callable[[], None]:
    """A ``wake()`` that writes one byte to the loop's wake-up pipe (if it is open)."""

    def wake() -> None:
        fd = fd_of()
        if fd >= 0:
            try:
                os.write(fd, b"\0")
            except OSError:
                pass

    return wake
