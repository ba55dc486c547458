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
- when there is nothing to do it blocks in ``select`` on the journal's inotify fd and a wake-up pipe
  (signals), with a timeout for the next flush, retry, checkpoint, tick or watchdog ping: ~0 % CPU; while
  the database is down, on the wake-up pipe alone (the journal is not read), feeding the watchdog and STATUS;
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
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import __version__, statedir
from . import checkpoint as ckpt
from .apievidence import ApiEvidence, EvidenceTicks, gather_inventory, wake_fd_writer
from .config import ConfigError, Settings
from .correlate import codec
from .correlate.names import ModelNames
from .correlate.timeline import Timeline
from .entry import Follower, Sink
from .logsetup import configure_logging, stderr_is_journal
from .notify import Notifier
from .pipeline import Pipeline
from .selfmon import SelfReport, hostname
from .sinks.drain import drain
from .sinks.influx import SinkConfigError
from .sources import InputError, open_follower
from .stopping import Stoppable

__all__ = ["Service", "configure_logging", "gather_inventory", "make_sink", "run_service", "stderr_is_journal"]

log = logging.getLogger("ollama_ingest.service")

SLICE_ENTRIES = 5000
SLICE_S = 0.25
STATUS_EVERY_S = 5.0
ADVANCE_EVERY_S = 1.0
UPSERT_EVERY_S = 10.0
MAX_IDLE_WAIT_S = 60.0


def make_sink(settings: Settings) -> Sink:
    from .sinks.influx import InfluxSink

    token = settings.resolved_token()
    if not token:
        log.warning("no InfluxDB token configured (token, token_file or the credential influx-token): "
                    "writing without one")
    return InfluxSink(settings.url, settings.org, settings.bucket, token, batch_size=settings.batch_size,
                      flush_interval_s=settings.flush_interval_s, timeout_s=settings.timeout_s,
                      verify_ssl=settings.verify_ssl, max_backoff_s=settings.max_backoff_s,
                      ca_file=settings.ca_file)


def run_service(load_settings: Callable[[], Settings]) -> int:
    """``ollama-ingest run``: a setting or the database refusing us stops it (exit 2 in the CLI) with the
    reason in systemd's STATUS too, so a failed unit's ``systemctl status`` says why."""
    try:
        return Service(load_settings(), hard_exit_s=4.5).run()
    except (ConfigError, SinkConfigError) as exc:
        Notifier().status(f"failed: {exc}")
        raise


# -- the service -------------------------------------------------------------------------------------
class Service(Stoppable, SelfReport, EvidenceTicks):
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
        self.committed_cursor: str | None = None
        self.last_commit = float("-inf")
        self.commits = 0
        self.failed_entries = 0
        self.caught_up = False
        self.carried: dict = {}  # self-monitoring totals of earlier runs (from the checkpoint)
        self.gaps, self.gap_s = 0, 0.0  # journal entries vacuumed before they were read (this run)
        self._upsert_pending = True  # after a start the open sessions are upserted once caught up
        self._fed_since_upsert = False
        self._last_upsert = float("-inf")
        self._next = {"selfmon": float("inf"), "status": 0.0, "advance": 0.0}
        self.api = ApiEvidence(settings, self.host, wake_fd_writer(lambda: self._wake_w))
        self._waiting_for_db: str | None = None  # why InfluxDB did not answer at the start
        self._logged: set[str] = set()

    # -- setup ---------------------------------------------------------------------------------
    def setup(self) -> None:
        s = self.settings
        statedir.prepare_state_dir(self.state_dir)
        self.lock = statedir.StateLock.acquire(self.state_dir)
        ckpt.remove_stale_temp_files(self.state_dir)
        if not s.verify_ssl:
            log.warning("TLS certificate verification is off (verify_ssl = false / --insecure)")
        cp = statedir.load_checkpoint(self.state_dir, s.start_at)
        files = [str(f) for f in s.journal_files] or None
        try:
            self.follower = open_follower(s)  # the journal, or the log file of follow_file
        except InputError as exc:
            raise ConfigError(str(exc)) from None
        self.sink = self._given_sink if self._given_sink is not None else make_sink(s)
        from .check import system_journal_unreadable
        from .correlate.inventory import names_from

        self.names = names_from(gather_inventory(s, api=False))  # the API is asked in the background
        if not files and not s.journal_dir and not s.follow_file and (problem := system_journal_unreadable()):
            log.warning("%s", problem)
        restored = statedir.restore(cp)
        self.carried = restored.carried
        self.pipeline = Pipeline(restored.timeline or self._fresh_timeline(), self.sink, unit=s.unit, writer=None)
        self._merge_names(self.names)
        where = self.follower.seek(cp.cursor if cp else None, cp.seq if cp else 0, s.start_at)
        fresh = restored.fresh
        if where == "resumed":
            log.info("resuming after the checkpoint of %s (entry %d)",
                     time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(cp.saved_at)), cp.seq)
            self.committed_cursor = cp.cursor
        elif where == "lost":
            log.warning("the checkpoint's journal entry is no longer in %s (rotated or vacuumed away): "
                        "starting again from the oldest entry, with a fresh correlator state",
                        self.follower.source)
            self.pipeline.timeline = self._fresh_timeline()
            fresh = True
            if not s.follow_file:
                self._journal_gap(cp, files, str(s.journal_dir) if s.journal_dir else None)
        else:
            log.info("no checkpoint yet: starting at the %s of %s", where, self.follower.source)
        taken = self.pipeline.timeline.resume_open(cp.open_sessions) if fresh and cp else 0
        if taken:
            log.info("taking up the %d sessions that were open when the state was lost", taken)
        if fresh and where in ("resumed", "tail") and s.ps_interval_s > 0:
            # Reading starts in the middle of the story: sessions loaded before it are only known to
            # Ollama. One poll now, fed before the journal (when reading from the head, the journal
            # itself holds the loads, and the regular polls start once caught up).
            ps = self.api.poll_ps_now()
            if ps is not None:
                self._emit(self.pipeline.timeline.feed(ps))
        log.info("ollama-ingest %s: following %s in %s → %s bucket %r (org %r); state in %s",
                 __version__, s.unit, self.follower.source, s.url, s.bucket, s.org, self.state_dir)

    def _journal_gap(self, cp: ckpt.Checkpoint, files: list[str] | None, directory: str | None) -> None:
        gap = statedir.journal_gap(cp, files, directory, self.settings.unit, self.host)
        if gap is not None:
            point, gap_s = gap
            self.gaps += 1
            self.gap_s += gap_s
            self.sink.add([point])

    def _fresh_timeline(self) -> Timeline:
        return Timeline(ModelNames({b: list(n) for b, n in self.names.by_blob.items()}))

    def _merge_names(self, names: ModelNames) -> None:
        """Models pulled since: names for blobs the correlator does not know yet (known ones keep theirs)."""
        self.pipeline.timeline.learn_names(names)

    # -- writing: one request per turn of the loop; the loop does the waiting ----------------------
    def _write_step(self) -> None:
        was_down = self.sink.outage_s > 0
        self.sink.step()  # a refusal (token, bucket) raises SinkConfigError: exit 2
        if (self.sink.outage_s > 0) != was_down:  # the outage began or ended: say so now, not in 5 s
            self.notifier.status(self.status_text())

    # -- checkpoint ----------------------------------------------------------------------------
    def _commit_wanted(self) -> bool:
        f = self.follower
        return not self.sink.pending and f is not None and f.cursor is not None and f.cursor != self.committed_cursor

    def commit(self, force: bool = False) -> bool:
        """Save the checkpoint if everything fed so far is acknowledged and the cursor moved."""
        if not self._commit_wanted():
            return False
        now = time.monotonic()
        if not force and now - self.last_commit < self.settings.flush_interval_s:
            return False
        f = self.follower
        try:
            tl = self.pipeline.timeline
            size = ckpt.save(self.state_dir, ckpt.Checkpoint(
                f.cursor, f.seq, codec.to_json(tl), saved_at=time.time(), counters=self.counters(),
                open_sessions=tl.open_session_records()))
        except OSError as exc:  # disk full, read-only: keep writing data; a restart re-reads more
            self.last_commit = now
            if "save" not in self._logged:
                self._logged.add("save")
                log.error("cannot save the checkpoint in %s: %s (going on; a restart will re-read from the "
                          "last one saved)", self.state_dir, exc.strerror or exc)
            return False
        if "save" in self._logged:
            self._logged.discard("save")
            log.warning("checkpoint saved again")
        self.committed_cursor, self.last_commit = f.cursor, now
        self.commits += 1
        log.debug("checkpoint saved: entry %d, %d bytes, %.1f ms", f.seq, size, (time.monotonic() - now) * 1000)
        return True

    # -- points that are not one entry's ---------------------------------------------------------
    def _emit(self, pts) -> None:
        if pts:
            self.pipeline.points += len(pts)
            self.sink.add(pts)

    def _advance(self, now_mono: float) -> None:
        """The journal is quiet: it is complete up to now - settle_s."""
        if self.settings.settle_s < 0 or now_mono < self._next["advance"]:
            return
        self._next["advance"] = now_mono + ADVANCE_EVERY_S
        f = self.follower
        watermark = time.time_ns() - int(self.settings.settle_s * 1e9)
        if f.ts_us is not None and watermark > f.ts_us * 1000:
            self._emit(self.pipeline.timeline.advance(watermark))

    def _upsert_open_sessions(self, now_mono: float, force: bool = False) -> None:
        if not (self._upsert_pending or self._fed_since_upsert):
            return
        if not force and not self._upsert_pending and now_mono - self._last_upsert < UPSERT_EVERY_S:
            return
        self._emit(self.pipeline.timeline.open_sessions())
        self._upsert_pending = self._fed_since_upsert = False
        self._last_upsert = now_mono

    def first_contact(self) -> None:
        """Before READY=1: one write to InfluxDB (the first self-monitoring point) proves URL, bucket, org
        and token. Refused: ``SinkConfigError`` (the unit fails, STATUS says why). Unavailable: READY all
        the same, in a deliberate "waiting for InfluxDB" state (the journal is the buffer)."""
        pt = self._selfmon_point()
        o = self.sink.probe(pt)
        if o.kind == "fatal":
            raise SinkConfigError(o.why)
        if o.kind == "retry":
            self.sink.add([pt])  # written when the database answers
            self._waiting_for_db = o.why

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
        cands = [MAX_IDLE_WAIT_S, self._next["selfmon"] - now, self._next["status"] - now,
                 self.api.inventory_next - now]
        if self.caught_up:  # the ticks of a caught-up journal (not while the sink keeps it from being read)
            if self.settings.ps_interval_s > 0:
                cands.append(self.api.ps_next - now)
            if self.settings.settle_s >= 0:
                cands.append(self._next["advance"] - now)
            if self._fed_since_upsert:
                cands.append(self._last_upsert + UPSERT_EVERY_S - now)
        if self._commit_wanted():
            cands.append(self.last_commit + self.settings.flush_interval_s - now)
        for t in (self.sink.due_in(), self.notifier.next_ping_in()):
            if t is not None:
                cands.append(t)
        return max(0.0, min(cands))

    def loop(self) -> None:
        s = self.settings
        sink, notifier, nxt = self.sink, self.notifier, self._next
        start = time.monotonic()
        if s.selfmon_interval_s > 0:
            nxt["selfmon"] = start + s.selfmon_interval_s
        if s.inventory_interval_s > 0:
            self.api.inventory_next = start  # one at start, then every interval
        while not self.stop.is_set():
            if sink.full():  # not reading: whether the journal has more is not known now
                self.caught_up = False
            else:
                self._read_slice()
            now = time.monotonic()
            if self.caught_up and not self.stop.is_set():
                if s.ps_interval_s > 0:
                    self._ps_tick()
                self._advance(now)
                self._upsert_open_sessions(now)
            if now >= nxt["selfmon"]:
                self.selfmon()
                nxt["selfmon"] = now + s.selfmon_interval_s
            if s.inventory_interval_s > 0:
                self._inventory_tick()
            if sink.due():
                self._write_step()
            self.commit()
            notifier.watchdog()
            if now >= nxt["status"]:
                notifier.status(self.status_text())
                nxt["status"] = now + STATUS_EVERY_S
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
