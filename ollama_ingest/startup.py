"""How ``ollama-ingest run`` starts (mixed into ``service.Service``): the state directory (lock, checkpoint),
the follower positioned after the checkpoint's entry, the correlator restored (or a fresh one that takes up
the sessions that were open, and asks /api/ps once before reading), a journal gap written and counted, and
the first contact with InfluxDB before READY=1."""

from __future__ import annotations

import logging
import time

from . import __version__, statedir
from . import checkpoint as ckpt
from .apievidence import gather_inventory
from .config import ConfigError, Settings
from .correlate.names import ModelNames
from .correlate.timeline import Timeline
from .entry import Sink
from .pipeline import Pipeline
from .sinks.influx import SinkConfigError
from .sources import InputError, open_follower

log = logging.getLogger("ollama_ingest.service")


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


class Startup:
    """Expects the ``Service``'s settings, state_dir, host, api, checkpointer, names, gaps and gap_s; sets
    lock, follower, sink, pipeline and carried."""

    def setup(self) -> None:
        s = self.settings
        statedir.prepare_state_dir(self.state_dir)
        self.lock = statedir.StateLock.acquire(self.state_dir)
        ckpt.remove_stale_temp_files(self.state_dir)
        if not s.verify_ssl:
            log.warning("TLS certificate verification is off (verify_ssl = false / --insecure)")
        cp = statedir.load_checkpoint(self.state_dir, s.start_at)
        try:
            self.follower = open_follower(s)  # the journal, or the log file of follow_file
        except InputError as exc:
            raise ConfigError(str(exc)) from None
        self.sink = self._given_sink if self._given_sink is not None else make_sink(s)
        from .correlate.inventory import names_from
        from .sources.journal import system_journal_unreadable

        self.names = names_from(gather_inventory(s, api=False))  # the API is asked in the background
        if not s.journal_files and not s.journal_dir and not s.follow_file and (problem := system_journal_unreadable()):
            log.warning("%s", problem)
        restored = statedir.restore(cp)
        self.carried = restored.carried
        self.pipeline = Pipeline(restored.timeline or self._fresh_timeline(), self.sink, unit=s.unit, writer=None)
        self.pipeline.timeline.learn_names(self.names)
        self._resume(cp, restored.fresh)
        log.info("ollama-ingest %s: following %s in %s → %s bucket %r (org %r); state in %s",
                 __version__, s.unit, self.follower.source, s.url, s.bucket, s.org, self.state_dir)

    def _resume(self, cp: ckpt.Checkpoint | None, fresh: bool) -> None:
        """Position the follower after the checkpoint's entry; a fresh state takes up what was open."""
        s = self.settings
        where = self.follower.seek(cp.cursor if cp else None, cp.seq if cp else 0, s.start_at)
        if where == "resumed":
            log.info("resuming after the checkpoint of %s (entry %d)",
                     time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(cp.saved_at)), cp.seq)
            self.checkpointer.committed_cursor = cp.cursor
        elif where == "lost":
            log.warning("the checkpoint's journal entry is no longer in %s (rotated or vacuumed away): "
                        "starting again from the oldest entry, with a fresh correlator state",
                        self.follower.source)
            self.pipeline.timeline = self._fresh_timeline()
            fresh = True
            if not s.follow_file:
                self._journal_gap(cp)
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
                self.pipeline.feed_event(ps)

    def _journal_gap(self, cp: ckpt.Checkpoint) -> None:
        s = self.settings
        gap = statedir.journal_gap(cp, [str(f) for f in s.journal_files] or None,
                                   str(s.journal_dir) if s.journal_dir else None, s.unit, self.host)
        if gap is not None:
            point, gap_s = gap
            self.gaps += 1
            self.gap_s += gap_s
            self.sink.add([point])

    def _fresh_timeline(self) -> Timeline:
        return Timeline(ModelNames({b: list(n) for b, n in self.names.by_blob.items()}))

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
