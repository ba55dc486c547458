"""``ollama-ingest run``: follow the journal live and write to InfluxDB, exactly, across crashes and outages.

The loop (one thread):

- read entries with the low-level journal reader and feed them one by one to the pipeline (parse →
  correlate → sink buffer), in slices of at most ``SLICE_ENTRIES`` entries / ``SLICE_S`` seconds;
- the sink only buffers; the loop writes a batch when it is full (``batch_size``) or its oldest point is
  ``flush_interval_s`` old, one request per turn (``step``). The sink says what the answer came to and when
  to try again; it never waits itself. While a batch waits for a retry (or one is full) nothing more is read,
  so memory stays bounded: the journal is the buffer;
- when nothing is buffered any more (everything acknowledged) the checkpoint, the cursor of the last
  fed entry together with the correlator's state as JSON, is saved atomically (at most once per
  ``flush_interval_s``): a restart resumes from it and produces exactly what an uninterrupted run would
  have (replayed points rewrite identical points);
- when the journal is quiet it is taken to be complete up to ``now - settle_s``: the correlator is told
  so (``Timeline.advance``: held requests are released, keep-alive expiries inferred), and the open
  sessions are upserted (their ``end`` is the host's last journal activity, so a replay writes the same);
- Ollama's ``/api/ps`` and the model inventory are asked in the background (apievidence.py: futures the
  loop collects; their answers go through the pipeline like the journal's events);
- the periodic work has named deadlines (deadlines.py); when there is nothing to do it blocks in ``select``
  on the journal's inotify fd and a wake-up pipe (signals, finished background work), until the earliest
  deadline that matters, the sink's next write or the watchdog's ping: ~0 % CPU; while the database is
  down, on the wake-up pipe alone (the journal is not read), feeding the watchdog and STATUS;
- SIGTERM/SIGINT: stop reading, flush for up to ``grace_s`` (3 s), save the checkpoint only if the
  database acknowledged, exit 0; the CLI adds a backstop that ends the process at 4.5 s whatever happens
  (a request already in flight when the signal came may take up to ``timeout_s``).

Why the output does not depend on when the service ran: every point is a function of the journal
entries, and of one more input only: "the journal is complete up to time t" (``advance``), which an
uninterrupted run reaches at the same entries (a later entry with a newer time implies it). The
correlator state, the entry counter (``Entry.seq``) and the counters travel with the cursor.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import checkpoint as ckpt
from . import statedir
from .apievidence import ApiEvidence, gather_inventory, ps_for_journal
from .checkpointing import Checkpointer
from .config import ConfigError, Settings
from .correlate import codec
from .correlate.names import ModelNames
from .deadlines import Deadlines
from .entry import Follower, Sink
from .logsetup import configure_logging, stderr_is_journal
from .notify import Notifier
from .pipeline import Pipeline
from .selfmon import SelfReport, hostname
from .sinks.drain import drain
from .sinks.influx import SinkConfigError
from .startup import Startup, make_sink
from .stopping import Stoppable

__all__ = ["Service", "configure_logging", "gather_inventory", "make_sink", "run_service", "stderr_is_journal"]

log = logging.getLogger("ollama_ingest.service")

SLICE_ENTRIES = 5000
SLICE_S = 0.25
STATUS_EVERY_S = 5.0
ADVANCE_EVERY_S = 1.0
UPSERT_EVERY_S = 10.0
MAX_IDLE_WAIT_S = 60.0


def run_service(load_settings: Callable[[], Settings]) -> int:
    """``ollama-ingest run``: a setting or the database refusing us stops it (exit 2 in the CLI) with the
    reason in systemd's STATUS too, so a failed unit's ``systemctl status`` says why."""
    try:
        return Service(load_settings(), hard_exit_s=4.5).run()
    except (ConfigError, SinkConfigError) as exc:
        Notifier().status(f"failed: {exc}")
        raise


class Service(Startup, Stoppable, SelfReport):
    def __init__(self, settings: Settings, *, sink: Sink | None = None, notifier: Notifier | None = None,
                 grace_s: float = 3.0, hard_exit_s: float = 0.0, install_signals: bool = True) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self.notifier = notifier or Notifier()
        self.grace_s, self.hard_exit_s = grace_s, hard_exit_s
        self.install_signals = install_signals
        self.host = hostname()
        self.state_dir = Path(settings.state_dir)
        self._given_sink = sink
        self.sink: Sink | None = None
        self.pipeline: Pipeline | None = None
        self.follower: Follower | None = None
        self.lock: statedir.StateLock | None = None
        self.names = ModelNames()
        self.timers = Deadlines()
        for name in ("status", "advance", "upsert"):  # due at once; selfmon and inventory are set by loop()
            self.timers.at(name, 0.0)
        self.checkpointer = Checkpointer(self.state_dir, settings.flush_interval_s, self.timers)
        self.api = ApiEvidence(settings, self.host, self.timers, self._wake)
        self.failed_entries = 0
        self.caught_up = False
        self.carried: dict = {}  # self-monitoring totals of earlier runs (from the checkpoint)
        self.gaps, self.gap_s = 0, 0.0  # journal entries vacuumed before they were read (this run)
        self._upsert_pending = True  # after a start the open sessions are upserted once caught up
        self._fed_since_upsert = False
        self._waiting_for_db: str | None = None  # why InfluxDB did not answer at the start
        self._logged: set[str] = set()

    # -- writing: one request per turn of the loop; the loop does the waiting ----------------------
    def _write_step(self) -> None:
        was_down = self.sink.outage_s > 0
        self.sink.step()  # a refusal (token, bucket) raises SinkConfigError: exit 2
        if (self.sink.outage_s > 0) != was_down:  # the outage began or ended: say so now, not in 5 s
            self.notifier.status(self.status_text())

    def commit(self, force: bool = False) -> bool:
        """Save the checkpoint if everything fed so far is acknowledged and the cursor moved (design §10)."""
        f = self.follower
        if f is None:
            return False
        return self.checkpointer.commit(f.cursor, self.sink.pending, self._checkpoint, time.monotonic(), force)

    def _checkpoint(self) -> ckpt.Checkpoint:
        f, tl = self.follower, self.pipeline.timeline
        return ckpt.Checkpoint(f.cursor, f.seq, codec.to_json(tl), saved_at=time.time(), counters=self.counters(),
                               open_sessions=tl.open_session_records())

    # -- a quiet journal, and what Ollama's API says ------------------------------------------------
    def _advance(self, now: float) -> None:
        """The journal is quiet: it is complete up to now - settle_s."""
        if self.settings.settle_s < 0 or not self.timers.every("advance", ADVANCE_EVERY_S, now):
            return
        ts_us = self.follower.ts_us
        watermark = time.time_ns() - int(self.settings.settle_s * 1e9)
        if ts_us is not None and watermark > ts_us * 1000:
            self.pipeline.advance(watermark)

    def _upsert_open_sessions(self, now: float, force: bool = False) -> None:
        if not (self._upsert_pending or self._fed_since_upsert):
            return
        if not force and not self._upsert_pending and not self.timers.due("upsert", now):
            return
        self.pipeline.upsert_open_sessions()
        self._upsert_pending = self._fed_since_upsert = False
        self.timers.after("upsert", UPSERT_EVERY_S, now)

    def _api_evidence(self, now: float) -> None:
        """Start the background work that is due; take what finished. An /api/ps answer only once caught up,
        so its wall-clock time falls after the entries read (design §3)."""
        self.api.start_due(now, self.caught_up)
        if self.caught_up and (ps := self.api.finished_ps(now)) is not None:
            ev = ps_for_journal(ps, self.follower.ts_us, self.pipeline.timeline.hosts_seen())
            if ev is not None:
                self.pipeline.feed_event(ev)
        if (done := self.api.finished_inventory()) is not None:
            from .correlate.inventory import names_from
            from .schema.measurements import inventory_points

            infos, ts_ns = done
            self.pipeline.timeline.learn_names(names_from(infos))  # models pulled since
            if infos:
                self.sink.add(inventory_points(infos, self.host, ts_ns))

    # -- the loop ------------------------------------------------------------------------------
    def _read_slice(self) -> int:
        """Feed what the journal has, up to a slice; sets ``caught_up`` when it ran dry."""
        f, feed, full = self.follower, self.pipeline.feed, self.sink.full
        stop = self.stop.is_set
        end = time.monotonic() + SLICE_S
        n = 0
        self.caught_up = False
        while n < SLICE_ENTRIES and not stop():
            e = f.next()
            if e is None:
                self.caught_up = True
                break
            n += 1
            try:
                feed((e,))
            except Exception:  # a bug on one odd entry must not wedge the service in a crash loop
                self.failed_entries += 1
                if "feed" not in self._logged:
                    self._logged.add("feed")
                    log.exception("could not process the journal entry at %s (counted, going on)", e.cursor)
            if full():
                break
            if not n & 127 and time.monotonic() > end:
                break
        if n:
            self._fed_since_upsert = True
        return n

    def _wait_timeout(self, now: float) -> float:
        """Until the earliest deadline that matters now, the sink's next write or the watchdog's ping."""
        s = self.settings
        names = ["selfmon", "status", "inventory"]
        if self.caught_up:  # the ticks of a caught-up journal (not while the sink keeps it from being read)
            names += ["ps"] * (s.ps_interval_s > 0) + ["advance"] * (s.settle_s >= 0) + \
                ["upsert"] * self._fed_since_upsert
        if self.follower is not None and self.checkpointer.wanted(self.follower.cursor, self.sink.pending):
            names.append("commit")
        cands = [MAX_IDLE_WAIT_S, self.timers.next_in(now, names)]
        cands += [t for t in (self.sink.due_in(), self.notifier.next_ping_in()) if t is not None]
        return max(0.0, min(cands))

    def loop(self) -> None:
        s, sink, notifier, timers = self.settings, self.sink, self.notifier, self.timers
        start = time.monotonic()
        timers.at("selfmon", start + s.selfmon_interval_s if s.selfmon_interval_s > 0 else math.inf)
        timers.at("inventory", start if s.inventory_interval_s > 0 else math.inf)  # one at start, then periodic
        while not self.stop.is_set():
            if sink.full():  # not reading: whether the journal has more is not known now
                self.caught_up = False
            else:
                self._read_slice()
            now = time.monotonic()
            if not self.stop.is_set():
                self._api_evidence(now)
            if self.caught_up and not self.stop.is_set():
                self._advance(now)
                self._upsert_open_sessions(now)
            if timers.every("selfmon", s.selfmon_interval_s, now):
                self.selfmon()
            if sink.due():
                self._write_step()
            self.commit()
            notifier.watchdog()
            if timers.every("status", STATUS_EVERY_S, now):
                notifier.status(self.status_text())
            if self.stop.is_set() or sink.due():
                continue
            if sink.full():  # the database is failing (or a batch waits): not reading, only waiting
                self._pause(self._wait_timeout(time.monotonic()))
            elif self.caught_up:
                wake = self._wake_r if self._wake_r >= 0 else None
                self.follower.wait(self._wait_timeout(time.monotonic()), wake)
                self._drain_wakeups()

    def shutdown(self) -> None:
        """Flush what is buffered within the grace period; save the checkpoint only if acknowledged."""
        self.notifier.stopping("stopping: flushing")
        deadline = self.stop_deadline if self.stop_deadline is not None else time.monotonic() + self.grace_s
        self._upsert_open_sessions(time.monotonic(), force=True)
        if self.settings.selfmon_interval_s > 0:
            self.selfmon()
        if drain(self.sink, time.sleep, deadline):  # the deadline bounds every pause and request
            self.commit(force=True)
            log.info("stopped: %s", self.status_text())
        else:
            log.warning("InfluxDB did not acknowledge %d buffered points within %.0f s: not saving the "
                        "checkpoint; those entries will be read again at the next start",
                        self.sink.pending, self.grace_s)

    def run(self) -> int:
        self._install_signals()
        try:
            self.setup()
            self.first_contact()
            if self._waiting_for_db:
                self.notifier.ready(f"InfluxDB unavailable at the start ({self._waiting_for_db}): waiting for it")
            else:
                self.notifier.ready(self.status_text())
            self.notifier.watchdog(force=True)
            self.loop()
            self.shutdown()
            return 0
        finally:
            self._restore_signals()
            if self.sink is not None:
                self.sink.close()
            if self.follower is not None:
                self.follower.close()
            if self.lock is not None:
                self.lock.release()
            self.notifier.close()
