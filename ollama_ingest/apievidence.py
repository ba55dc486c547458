"""What the service learns besides the journal: Ollama's ``/api/ps`` (what is loaded now) and the model
inventory (manifests and the API). Ollama may be slow or absent, so both run as futures in the background;
the service's loop starts them when their deadline comes (``deadlines.Deadlines``: ``ps``, ``inventory``)
and collects the finished ones on its next turn (a finished future wakes it)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future

from .config import Settings
from .deadlines import Deadlines
from .events import ApiPs

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


def _timed_inventory(settings: Settings) -> tuple[list, int]:
    import time

    infos = gather_inventory(settings)
    return infos, time.time_ns()


class DaemonExecutor(Executor):
    """Each call on a daemon thread of its own. ThreadPoolExecutor's workers are joined when the interpreter
    exits: a request to a hung Ollama (an inventory asks ``/api/show`` per model, 5 s each) would hold the
    process after SIGTERM, which must end it within 5 s."""

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        f: Future = Future()

        def work() -> None:
            if f.set_running_or_notify_cancel():
                try:
                    f.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # handed to whoever collects the future
                    f.set_exception(exc)

        threading.Thread(target=work, name=f"ollama-api-{getattr(fn, '__name__', 'call')}", daemon=True).start()
        return f


class ApiEvidence:
    """One ``/api/ps`` poll every ``ps_interval_s`` (once the journal is caught up) and an inventory every
    ``inventory_interval_s``, at most one of each in flight."""

    def __init__(self, settings: Settings, host: str, timers: Deadlines, wake: Callable[[], None]) -> None:
        self.settings, self.host, self.timers, self.wake = settings, host, timers, wake
        self._pool = DaemonExecutor()
        self._ps: Future | None = None
        self._inventory: Future | None = None
        self._down_said = False
        self._failed_said: set[str] = set()
        timers.at("ps", 0.0)  # the first poll once caught up

    def _submit(self, fn: Callable, *args) -> Future:
        f = self._pool.submit(fn, *args)
        f.add_done_callback(lambda _f: self.wake())  # the loop may be asleep
        return f

    def start_due(self, now: float, caught_up: bool) -> None:
        """Start what is due: a poll only while caught up (its answer must come after the entries read)."""
        s = self.settings
        if caught_up and s.ps_interval_s > 0 and self._ps is None and self.timers.every("ps", s.ps_interval_s, now):
            from .sources.ollama_api import poll_ps

            self._ps = self._submit(poll_ps, s.ollama_url, self.host)
        if s.inventory_interval_s > 0 and self._inventory is None and \
                self.timers.every("inventory", s.inventory_interval_s, now):
            self._inventory = self._submit(_timed_inventory, s)

    def poll_ps_now(self) -> ApiPs | None:
        """One poll, here and now (at a start with a fresh state); None when the API does not answer."""
        from .sources.ollama_api import poll_ps

        try:
            return poll_ps(self.settings.ollama_url, self.host)
        except (OSError, ValueError) as exc:
            self._said_down(exc)
            return None

    def finished_ps(self, now: float) -> ApiPs | None:
        """The poll that finished since the last call, if any (an API that does not answer: asked again in
        ``PS_RETRY_S``)."""
        f = self._ps
        if f is None or not f.done():
            return None
        self._ps = None
        try:
            ps = f.result()
        except (OSError, ValueError) as exc:
            self.timers.after("ps", PS_RETRY_S, now)  # not there (yet): ask again later
            self._said_down(exc)
            return None
        except Exception as exc:  # a bug in the poll must cost the poll, not the service
            self._failed("ps", exc)
            return None
        if self._down_said:
            self._down_said = False
            log.info("the Ollama API answers again at %s", self.settings.ollama_url)
        return ps

    def finished_inventory(self) -> tuple[list, int] | None:
        """``(infos, ts_ns)`` of an inventory gathered since the last call, or None."""
        f = self._inventory
        if f is None or not f.done():
            return None
        self._inventory = None
        try:
            return f.result()
        except Exception as exc:
            self._failed("inventory", exc)
            return None

    def _said_down(self, exc: BaseException) -> None:
        if not self._down_said:
            self._down_said = True
            log.info("no /api/ps evidence: the Ollama API at %s does not answer (%s)",
                     self.settings.ollama_url, type(exc).__name__)

    def _failed(self, what: str, exc: BaseException) -> None:
        if what not in self._failed_said:
            self._failed_said.add(what)
            log.error("the background %s failed (going on without it)", what, exc_info=exc)



def ps_for_journal(ps: ApiPs, newest_us: int | None, hosts: list[str]) -> ApiPs | None:
    """An /api/ps answer as correlator input (design §3): named after the journal's host when it has one, and
    dropped when the journal moved past its time meanwhile (it would arrive out of order). Not replayable: a
    restart keeps what it taught the correlator (the checkpoint), nothing more."""
    if newest_us is not None and ps.ts_us <= newest_us:
        return None
    return ps.model_copy(update={"host": hosts[0]}) if len(hosts) == 1 and hosts[0] else ps
