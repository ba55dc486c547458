"""``ollama-ingest backfill``: read history, write it (replacing the window it covers), say what happened.

- At the start InfluxDB must answer within ``START_GIVE_UP_S`` (``--wait``: wait for it, a status line every
  ``STATUS_EVERY_S``); a TLS failure is reported at once (waiting does not fix a certificate).
- In the middle, an outage is waited out with a status line every ``STATUS_EVERY_S``, up to ``--max-outage``;
  then the backfill stops with what was written and how to resume (a rerun replaces the same window).
- Ctrl-C and SIGTERM stop it without a traceback: what is buffered gets a few seconds to land, the summary says
  what was written, and the exit status is 130 / 143.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import time

from .config import Settings
from .correlate import inventory
from .correlate.timeline import Timeline
from .pipeline import Pipeline
from .sinks.drain import drain
from .sinks.influx import InfluxSink, SinkConfigError
from .sinks.stdout import LineProtocolSink, OutputError
from .sources import InputError, open_input, open_journal
from .sources.report import check_inputs, input_warnings

log = logging.getLogger("ollama_ingest.backfill")

START_GIVE_UP_S = 10.0
STATUS_EVERY_S = 10.0
LAST_FLUSH_S = 3.0  # after Ctrl-C / SIGTERM, what is buffered gets this long to land


class Interrupted(Exception):
    """SIGINT / SIGTERM: stop reading, report, exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


class OutageTooLong(Exception):
    """InfluxDB failed for longer than --max-outage in the middle of a backfill."""


def gather_names(settings: Settings, extra_dirs: list[str], use_cli: bool = True, inventory_files=()):
    infos = inventory.gather([*map(str, settings.models_dir), *extra_dirs], settings.ollama_url,
                             use_cli=use_cli, inventory_files=list(inventory_files))
    return infos, inventory.names_from(infos)


class OutageWatch:
    """The backfill's pause between attempts (``drain``'s wait): a status line every ``STATUS_EVERY_S``, and
    ``OutageTooLong`` once the database has failed for ``bound_s`` (the sink keeps the batch: nothing is lost).
    Ctrl-C and SIGTERM end it like any sleep (``KeyboardInterrupt``, ``Interrupted``)."""

    def __init__(self, bound_s: float, url: str, sink: InfluxSink) -> None:
        self.bound_s, self.url, self.sink = bound_s, url, sink
        self._reported = 0.0

    def __call__(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            down = self.sink.outage_s
            if down < self._reported:  # a new outage
                self._reported = 0.0
            if down >= self.bound_s:
                raise OutageTooLong(f"InfluxDB at {self.url} failed for {down:.0f} s (--max-outage "
                                    f"{self.bound_s:g} s)")
            if down - self._reported >= STATUS_EVERY_S:
                self._reported = down
                log.warning("InfluxDB at %s unavailable for %.0f s: the batch waits, nothing is lost; giving up "
                            "after %.0f s (--max-outage)", self.url, int(down), self.bound_s)
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 1.0))


def wait_for_database(sink: InfluxSink, wait: bool) -> None:
    """Return once InfluxDB answers (``probe``); without ``wait`` give up after ``START_GIVE_UP_S`` with one
    line naming the URL. A TLS failure is a ``SinkConfigError`` at once."""
    t0 = last = time.monotonic()
    while True:
        o = sink.probe(timeout_s=min(sink.timeout_s, 5.0))
        if o.ok:
            return
        if o.kind == "fatal":
            raise SinkConfigError(o.why)
        waited = time.monotonic() - t0
        if not wait and waited >= START_GIVE_UP_S:
            raise SinkConfigError(f"{o.why}; nothing answered for {waited:.0f} s. Start InfluxDB, fix the setting "
                                  "url (--url, OLLAMA_INGEST_URL / INFLUXDB_V2_URL), or give --wait to wait for it")
        if wait and time.monotonic() - last >= STATUS_EVERY_S:
            last = time.monotonic()
            log.warning("waiting for InfluxDB (%.0f s): %s", waited, o.why)
        time.sleep(1.0)


@contextlib.contextmanager
def stop_signals():
    """SIGTERM raises ``Interrupted`` like Ctrl-C raises KeyboardInterrupt (main thread only)."""
    def on_signal(signum, _frame):
        raise Interrupted(signum)

    old = signal.signal(signal.SIGTERM, on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def make_influx_sink(settings: Settings, args) -> tuple[InfluxSink, OutageWatch]:
    token = settings.resolved_token()
    sink = InfluxSink(settings.url, settings.org, settings.bucket, token, batch_size=settings.batch_size,
                      flush_interval_s=settings.flush_interval_s, timeout_s=settings.timeout_s,
                      verify_ssl=settings.verify_ssl, max_backoff_s=settings.max_backoff_s, ca_file=settings.ca_file)
    return sink, OutageWatch(args.max_outage, settings.url, sink)


def open_sources(args, settings: Settings) -> list:
    sources = []
    for path in args.inputs or [None]:
        if path is None:
            sources.append(open_journal(unit=settings.unit, since=args.since, until=args.until, prefilter=True,
                                        host=args.host))
        else:
            sources.append(open_input(path, args.input_format, unit=settings.unit, since=args.since, prefilter=True,
                                      until=args.until, year=args.year, tz=args.tz, host=args.host))
    return sources


def run_backfill(args, settings: Settings) -> int:
    """The whole backfill; returns the exit status (0, 1 stopped or failed, 130/143 interrupted)."""
    with stop_signals():
        try:
            return _backfill(args, settings)
        except (KeyboardInterrupt, Interrupted) as exc:  # before anything was read: nothing to report
            code = exc.exit_code if isinstance(exc, Interrupted) else 130
            print(f"ollama-ingest: interrupted ({'SIGTERM' if code == 143 else 'Ctrl-C'}) before reading; "
                  "nothing written", file=sys.stderr)
            return code


def _backfill(args, settings: Settings) -> int:
    from . import summary as summary_mod
    from .progress import Progress

    if args.insecure:
        log.warning("TLS certificate verification is off (--insecure)")
    try:
        _infos, names = gather_names(settings, args.models_dir, inventory_files=args.inventory)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    sources = open_sources(args, settings)  # a wrong input is said before the database is asked
    out = influx = replacing = None
    writer = drain  # a file never asks to wait
    if args.dry_run or args.output:
        try:
            out = sys.stdout if args.dry_run and not args.output else open(args.output, "wb")  # noqa: SIM115
        except OSError as exc:
            raise InputError(f"cannot write {args.output}: {exc.strerror}") from None
        sink = LineProtocolSink(out, name=args.output or "stdout")
    else:
        influx, watch = make_influx_sink(settings, args)
        try:
            wait_for_database(influx, args.wait)
        except BaseException:
            influx.close()
            raise
        sink = influx
        writer = functools.partial(drain, wait=watch)  # an outage is waited out, said, and bounded
    pipeline = Pipeline(Timeline(names), sink, unit=settings.unit, writer=writer)
    if influx is not None and not args.no_replace:
        from .sinks.replace import ReplacingSink

        pipeline.sink = replacing = ReplacingSink(influx, pipeline.spans)
    progress = Progress()
    status, code, why = "complete", 0, ""
    t0 = time.monotonic()
    try:
        with progress.logging():
            labels = [os.path.basename(p.rstrip("/")) or p for p in args.inputs] or ["the local journal"]
            pipeline.run([progress.track(src, label) for src, label in zip(sources, labels, strict=True)])
    except (KeyboardInterrupt, Interrupted) as exc:
        code = exc.exit_code if isinstance(exc, Interrupted) else 130
        status, why = "interrupted", "SIGTERM" if code == 143 else "Ctrl-C"
        progress.close()
        _last_flush(pipeline.sink)
    except OutageTooLong as exc:
        status, code, why = "stopped", 1, str(exc)
    except OutputError as exc:
        status, code, why = "failed", 1, str(exc)
    finally:
        progress.close()
        pipeline.sink.close()
        if out is not None and out is not sys.stdout:
            with contextlib.suppress(OSError):
                out.close()
    facts = summary_mod.collect(pipeline, sources, sink=sink, replacing=replacing, dry_run=args.dry_run,
                                output=args.output, status=status, why=why, seconds=time.monotonic() - t0)
    for note in input_warnings(facts["inputs"], pipeline.stats.unknown_msgs, args.verbose):
        log.warning("%s", note)
    summary_mod.report(facts, json_form=args.json or not sys.stderr.isatty(), target=_target(args, settings))
    if status == "complete":
        check_inputs(facts["inputs"])  # an input without a single Ollama line is an error, never a silent zero
    return code


def _last_flush(sink) -> None:
    """After an interrupt: what is buffered gets ``LAST_FLUSH_S`` to land; a second Ctrl-C gives up at once."""
    try:
        drain(sink, time.sleep, time.monotonic() + LAST_FLUSH_S)
    except (KeyboardInterrupt, Interrupted, OSError, OutputError, SinkConfigError):
        pass


def _target(args, settings: Settings) -> str:
    if args.dry_run and not args.output:
        return "stdout"
    if args.output:
        return args.output
    return f"{settings.url}, bucket {settings.bucket}"
