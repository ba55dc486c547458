"""``ollama-ingest run``: follow the journal live and write to InfluxDB, exactly, across crashes and outages.

The loop (one thread):

- read entries with the low-level journal reader and feed them one by one to the pipeline (parse →
  correlate → sink buffer), in slices of at most ``SLICE_ENTRIES`` entries / ``SLICE_S`` seconds;
- the sink writes a batch when it is full (``batch_size``) or its oldest point is ``flush_interval_s``
  old; a write blocks, retrying, until the database acknowledged it, so while the database is down
  nothing more is read and memory stays bounded: the journal is the buffer;
- when nothing is buffered any more (everything acknowledged) the checkpoint, the cursor of the last
  fed entry together with the pickled correlator state, is saved atomically (at most once per
  ``flush_interval_s``): a restart resumes from it and produces exactly what an uninterrupted run would
  have (replayed points rewrite identical points);
- when the journal is quiet it is taken to be complete up to ``now - settle_s``: the correlator is told
  so (``Timeline.advance``: held requests are released, keep-alive expiries inferred), and the open
  sessions are upserted (their ``end`` is the host's last journal activity, so a replay writes the same);
- when there is nothing to do it blocks in ``select`` on the journal's inotify fd and a wake-up pipe
  (signals), with a timeout for the next flush, checkpoint, tick or watchdog ping: ~0 % CPU;
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
import os
import signal
import sys
import threading
import time
from pathlib import Path

from . import __version__
from . import checkpoint as ckpt
from .config import ConfigError, Settings
from .correlate.names import ModelNames
from .correlate.timeline import Timeline
from .notify import Notifier
from .pipeline import Pipeline
from .selfmon import hostname, selfmon_point
from .sinks.influx import FlushAborted, SinkConfigError
from .sources.journal import JournalFollower, JournalOpenError

log = logging.getLogger("ollama_ingest.service")

SLICE_ENTRIES = 5000
SLICE_S = 0.25
STATUS_EVERY_S = 5.0
ADVANCE_EVERY_S = 1.0
UPSERT_EVERY_S = 10.0
MAX_IDLE_WAIT_S = 60.0


# -- logging ------------------------------------------------------------------------------------------
_SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class _JournalFormatter(logging.Formatter):
    """``<N>`` priority prefixes: journald turns them into the entry's PRIORITY (SyslogLevelPrefix=)."""

    def format(self, record: logging.LogRecord) -> str:
        prio = _SYSLOG_PRIORITY.get(record.levelno, 6)
        text = super().format(record)
        return "\n".join(f"<{prio}>{line}" for line in text.splitlines() or [""])


def stderr_is_journal() -> bool:
    stream = os.environ.get("JOURNAL_STREAM", "")
    dev, _, ino = stream.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def configure_logging(verbose: int = 0) -> None:
    """Logs go to stderr with their level: INFO by default for the service, DEBUG with -v."""
    level = logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    if stderr_is_journal():
        handler.setFormatter(_JournalFormatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    if verbose < 2:  # urllib3 at DEBUG logs every request line; only with -vv
        logging.getLogger("urllib3").setLevel(logging.WARNING)
        logging.getLogger("influxdb_client").setLevel(logging.WARNING)


# -- helpers -------------------------------------------------------------------------------------------
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


def prepare_state_dir(path: Path) -> Path:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"bad setting state_dir: cannot create {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"bad setting state_dir: {path} is not writable by this user (uid {os.getuid()})")
    return path


def make_sink(settings: Settings, sleep):
    from .sinks.influx import InfluxSink

    token = settings.resolved_token()
    if not token:
        log.warning("no InfluxDB token configured (token, token_file or the credential influx-token): "
                    "writing without one")
    return InfluxSink(settings.url, settings.org, settings.bucket, token, batch_size=settings.batch_size,
                      flush_interval_s=settings.flush_interval_s, timeout_s=settings.timeout_s,
                      verify_ssl=settings.verify_ssl, max_backoff_s=settings.max_backoff_s, sleep=sleep,
                      ca_file=settings.ca_file)


# -- the service -------------------------------------------------------------------------------------
class Service:
    def __init__(self, settings: Settings, *, sink=None, notifier: Notifier | None = None,
                 grace_s: float = 3.0, hard_exit_s: float = 0.0, install_signals: bool = True) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self.notifier = notifier or Notifier()
        self.grace_s, self.hard_exit_s = grace_s, hard_exit_s
        self.install_signals = install_signals
        self.host = hostname()
        self.state_dir = Path(settings.state_dir)
        self._given_sink = sink
        self.sink = None
        self.pipeline: Pipeline | None = None
        self.follower: JournalFollower | None = None
        self.names = ModelNames()
        self.committed_cursor: str | None = None
        self.last_commit = float("-inf")
        self.commits = 0
        self.failed_entries = 0
        self.caught_up = False
        self.base_counters = {"written": 0, "dropped": 0, "write_errors": 0}
        self._wake_r = self._wake_w = -1
        self._old_handlers: dict = {}
        self._old_wakeup = -1
        self._upsert_pending = True  # after a start the open sessions are upserted once caught up
        self._fed_since_upsert = False
        self._last_upsert = float("-inf")
        self._next = {"selfmon": float("inf"), "status": 0.0, "advance": 0.0, "inventory": float("inf")}
        self._inventory_thread: threading.Thread | None = None
        self._inventory_done: tuple | None = None
        self._ps_thread: threading.Thread | None = None
        self._ps_done: list = []  # ApiPs events polled in the background, fed by the main loop
        self._ps_next = 0.0
        self._logged: set[str] = set()

    # -- setup ---------------------------------------------------------------------------------
    def setup(self) -> None:
        s = self.settings
        prepare_state_dir(self.state_dir)
        ckpt.remove_stale_temp_files(self.state_dir)
        if not s.verify_ssl:
            log.warning("TLS certificate verification is off (verify_ssl = false / --insecure)")
        try:
            cp = ckpt.load(self.state_dir)
        except ckpt.CheckpointError as exc:
            log.warning("%s: starting without it (from the %s of the journal)", exc, s.start_at)
            cp = None
        files = [str(f) for f in s.journal_files] or None
        try:
            self.follower = JournalFollower(files=files, directory=str(s.journal_dir) if s.journal_dir else None,
                                            unit=s.unit)
        except JournalOpenError as exc:
            raise ConfigError(f"bad setting journal_files/journal_dir: {exc}") from None
        self.sink = self._given_sink if self._given_sink is not None else make_sink(s, self._sleep)
        from .correlate.inventory import names_from

        self.names = names_from(gather_inventory(s, api=False))  # the API is asked in the background
        if not files and not s.journal_dir and os.geteuid() != 0:
            from .check import _in_group

            if not _in_group("systemd-journal", "adm", "wheel"):
                log.warning("this user (uid %d) is not in the systemd-journal group: it sees only its own "
                            "journal entries, not ollama.service's", os.getuid())
        state = cp.state if cp else None
        if cp is not None and state is None:
            log.warning("the saved correlator state (version %s) cannot be loaded (%s): resuming from the "
                        "checkpoint's cursor with a fresh state", cp.version, cp.state_error)
        elif state is not None and cp.version != __version__:
            # the classes may have changed shape without failing to unpickle: do not trust it
            log.warning("the saved correlator state is from version %s, this is %s: resuming from the "
                        "checkpoint's cursor with a fresh state", cp.version, __version__)
            state = {k: v for k, v in state.items() if k != "timeline"}
        timeline = state.get("timeline") if state else None
        if state is not None and "timeline" in state and not isinstance(timeline, Timeline):
            log.warning("the saved correlator state holds no timeline: resuming with a fresh state")
            timeline = None
        self.pipeline = Pipeline(timeline or self._fresh_timeline(), self.sink, unit=s.unit)
        self._merge_names(self.names)
        if state is not None:
            self._restore_counters(state)
        where = self.follower.seek(cp.cursor if cp else None, cp.seq if cp else 0, s.start_at)
        if where == "resumed":
            log.info("resuming after the checkpoint of %s (entry %d)",
                     time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(cp.saved_at)), cp.seq)
            self.committed_cursor = cp.cursor
        elif where == "lost":
            log.warning("the checkpoint's journal entry is no longer in %s (rotated or vacuumed away): "
                        "starting again from the oldest entry, with a fresh correlator state",
                        self.follower.source)
            self.pipeline.timeline = self._fresh_timeline()
        else:
            log.info("no checkpoint yet: starting at the %s of %s", where, self.follower.source)
        log.info("ollama-ingest %s: following %s in %s → %s bucket %r (org %r); state in %s",
                 __version__, s.unit, self.follower.source, s.url, s.bucket, s.org, self.state_dir)

    def _fresh_timeline(self) -> Timeline:
        return Timeline(ModelNames({b: list(n) for b, n in self.names.by_blob.items()}))

    def _merge_names(self, names: ModelNames) -> None:
        """Models pulled since: names for blobs the correlator does not know yet (known ones keep theirs)."""
        known = getattr(getattr(self.pipeline.timeline, "names", None), "by_blob", None)
        if isinstance(known, dict):
            for blob, n in names.by_blob.items():
                known.setdefault(blob, list(n))

    def _restore_counters(self, state: dict) -> None:
        p = self.pipeline
        stats = state.get("stats")
        if stats is not None and type(stats) is type(p.stats):
            p.stats = stats
        p.other_unit = int(state.get("other_unit", 0))
        p.points = int(state.get("points", 0))
        self.base_counters.update({k: int(v) for k, v in state.get("sink", {}).items() if k in self.base_counters})

    def _state(self) -> dict:
        p = self.pipeline
        return {"timeline": p.timeline, "stats": p.stats, "other_unit": p.other_unit, "points": p.points,
                "sink": self._sink_totals(), "version": __version__}

    def _sink_totals(self) -> dict:
        sink = self.sink
        errors = getattr(sink, "write_errors", {})
        return {"written": self.base_counters["written"] + getattr(sink, "written", 0),
                "dropped": self.base_counters["dropped"] + getattr(sink, "dropped", 0),
                "write_errors": self.base_counters["write_errors"] + sum(errors.values())}

    # -- signals -------------------------------------------------------------------------------
    def _install_signals(self) -> None:
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
        if self.sink is not None:
            self.sink.deadline = time.monotonic() + self.grace_s
        self.stop.set()
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"\0")
            except OSError:
                pass
        if self.hard_exit_s > 0:
            threading.Thread(target=self._backstop, name="shutdown-backstop", daemon=True).start()

    def _backstop(self) -> None:
        time.sleep(self.hard_exit_s)
        try:
            sys.stderr.write("ollama-ingest: shutdown took too long; exiting without saving the checkpoint "
                             "(entries since the last one will be read again)\n")
            sys.stderr.flush()
        finally:
            os._exit(0)

    def _drain_wakeups(self) -> None:
        if self._wake_r >= 0:
            try:
                while os.read(self._wake_r, 512):
                    pass
            except (BlockingIOError, InterruptedError):
                pass

    # -- while the database is down: the sink's retry sleep --------------------------------------
    def _sleep(self, seconds: float) -> None:
        """The sink's pause between attempts: wakes early on stop, keeps the watchdog and STATUS fed."""
        end = time.monotonic() + seconds
        while not self.stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            self.notifier.watchdog()
            self.notifier.status(f"InfluxDB unavailable: holding {self.sink.pending if self.sink else 0} "
                                 "points, not reading the journal until it is back")
            ping = self.notifier.next_ping_in()
            self.stop.wait(max(0.01, min(left, ping if ping is not None else left, 5.0)))

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
            size = ckpt.save(self.state_dir, f.cursor, f.seq, self._state())
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

    def _ps_tick(self) -> None:
        """Live evidence from Ollama's /api/ps (design §3): a model that disappears was unloaded, an
        ``expires_at`` that moves tells which model just finished a request. Polled in a thread; fed here,
        only once caught up, so its wall-clock time falls after the journal entries already read. It is
        not replayable: a restart keeps what it taught the correlator (the checkpoint), nothing more."""
        from .sources.ollama_api import poll_ps

        while self._ps_done:
            ev = self._ps_done.pop(0)
            f = self.follower
            if f is not None and f.ts_us is not None and ev.ts_us * 1000 <= f.ts_us * 1000:
                continue  # the journal moved past it meanwhile: it would arrive out of order
            self._emit(self.pipeline.timeline.feed(ev.model_copy(update={"host": self.journal_host or ev.host})))
        now = time.monotonic()
        if self._ps_thread is not None and self._ps_thread.is_alive() or now < self._ps_next:
            return
        self._ps_next = now + self.settings.ps_interval_s

        def work() -> None:
            try:
                self._ps_done.append(poll_ps(self.settings.ollama_url, self.host))
                if "ps-down" in self._logged:
                    self._logged.discard("ps-down")
                    log.info("the Ollama API answers again at %s", self.settings.ollama_url)
            except (OSError, ValueError) as exc:
                self._ps_next = time.monotonic() + 30.0  # not there (yet): ask again later
                if "ps-down" not in self._logged:
                    self._logged.add("ps-down")
                    log.info("no /api/ps evidence: the Ollama API at %s does not answer (%s)",
                             self.settings.ollama_url, type(exc).__name__)

        self._ps_thread = threading.Thread(target=work, name="api-ps", daemon=True)
        self._ps_thread.start()

    @property
    def journal_host(self) -> str | None:
        hosts = getattr(self.pipeline.timeline, "hosts", {}) if self.pipeline else {}
        return next(iter(hosts), None) if len(hosts) == 1 else None

    def _inventory_tick(self) -> None:
        """Every inventory_interval_s: gather in a thread (the API may be slow), write when it is done."""
        done = self._inventory_done
        if done is not None:
            from .correlate.inventory import inventory_points, names_from

            infos, ts_ns = done
            self._inventory_done = None
            self._merge_names(names_from(infos))
            if infos:
                self.sink.add(inventory_points(infos, self.host, ts_ns))
        if self._inventory_thread is None or not self._inventory_thread.is_alive():
            if time.monotonic() >= self._next["inventory"]:
                self._next["inventory"] = time.monotonic() + self.settings.inventory_interval_s

                def work() -> None:
                    infos = gather_inventory(self.settings)
                    self._inventory_done = (infos, time.time_ns())
                    if self._wake_w >= 0:
                        try:
                            os.write(self._wake_w, b"\0")
                        except OSError:
                            pass

                self._inventory_thread = threading.Thread(target=work, name="inventory", daemon=True)
                self._inventory_thread.start()

    # -- self-monitoring -----------------------------------------------------------------------
    def counters(self) -> dict:
        st = self.pipeline.stats
        totals = self._sink_totals()
        return {"entries": st.entries + self.pipeline.other_unit, "events": st.events,
                "unparsed": sum(st.skipped.values()), "noise": st.noise, "dropped": totals["dropped"],
                "write_errors": totals["write_errors"], "points_written": totals["written"]}

    def selfmon(self) -> None:
        pt = selfmon_point(self.host, newest_entry_us=self.follower.ts_us, **self.counters(),
                           failed_entries=self.failed_entries or None)
        self.sink.add([pt])

    def status_text(self) -> str:
        c = self.counters()
        lag = ""
        if self.follower is not None and self.follower.ts_us is not None:
            lag = f", newest entry {max(0.0, time.time() - self.follower.ts_us / 1e6):.1f} s ago"
        return (f"following {self.settings.unit}: {c['entries']} entries, {c['points_written']} points "
                f"written, {c['dropped']} dropped{lag}")

    # -- the loop ------------------------------------------------------------------------------
    def _read_slice(self) -> int:
        """Feed what the journal has, up to a slice; sets ``caught_up`` when it ran dry."""
        f, feed = self.follower, self.pipeline.feed
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
            except (FlushAborted, SinkConfigError):
                raise
            except Exception:  # a bug on one odd entry must not wedge the service in a crash loop
                self.failed_entries += 1
                if "feed" not in self._logged:
                    self._logged.add("feed")
                    log.exception("could not process the journal entry at %s (counted, going on)", e.cursor)
            if not n & 127 and time.monotonic() > end:
                break
        if n:
            self._fed_since_upsert = True
        return n

    def _wait_timeout(self, now: float) -> float:
        cands = [MAX_IDLE_WAIT_S, self._next["selfmon"] - now, self._next["status"] - now,
                 self._next["inventory"] - now]
        if self.settings.ps_interval_s > 0 and self.caught_up:
            cands.append(self._ps_next - now)
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
            nxt["inventory"] = start  # one at start, then every interval
        while not self.stop.is_set():
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
                sink.flush()
            self.commit()
            notifier.watchdog()
            if now >= nxt["status"]:
                notifier.status(self.status_text())
                nxt["status"] = now + STATUS_EVERY_S
            if self.caught_up and not self.stop.is_set() and not sink.due():
                wake = self._wake_r if self._wake_r >= 0 else None
                self.follower.wait(self._wait_timeout(time.monotonic()), wake)
                self._drain_wakeups()

    def shutdown(self) -> None:
        """Flush what is buffered within the grace period; save the checkpoint only if acknowledged."""
        self.notifier.stopping("stopping: flushing")
        if self.sink.deadline is None:
            self.sink.deadline = time.monotonic() + self.grace_s
        try:
            self._upsert_open_sessions(time.monotonic(), force=True)
            if self.settings.selfmon_interval_s > 0:
                self.selfmon()
            self.sink.flush()
            self.commit(force=True)
            log.info("stopped: %s", self.status_text())
        except FlushAborted:
            log.warning("InfluxDB did not acknowledge %d buffered points within %.0f s: not saving the "
                        "checkpoint; those entries will be read again at the next start",
                        self.sink.pending, self.grace_s)

    def run(self) -> int:
        self._install_signals()
        try:
            self.setup()
            self.notifier.ready(self.status_text())
            self.notifier.watchdog(force=True)
            try:
                self.loop()
            except FlushAborted:
                pass  # stopping while the database was unavailable
            self.shutdown()
            return 0
        finally:
            self._restore_signals()
            client = getattr(self.sink, "client", None)
            if client is not None:
                client.close()
            if self.follower is not None:
                self.follower.close()
            self.notifier.close()
