"""``ollama-ingest``: the command line at the edge of the pipeline."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime, timedelta, timezone

from pydantic import ValidationError

from . import __version__
from .correlate.timeline import Timeline
from .parse.units import parse_duration_ns
from .pipeline import Pipeline
from .sources import FORMATS, InputError, open_input
from .sources.text import parse_tz

log = logging.getLogger("ollama_ingest")


def parse_when(text: str) -> datetime:
    """``2025-07-22``, ``2025-07-22T23:00:00+03:00``, or a duration ago: ``24h``, ``90m``, ``-2h30m``."""
    t = text.strip()
    try:
        ago = parse_duration_ns(t.lstrip("-").removesuffix(" ago"))
        return datetime.now(timezone.utc) - timedelta(microseconds=ago // 1000)
    except ValueError:
        pass
    try:
        d = datetime.fromisoformat(t.replace(" ", "T", 1) if len(t) > 10 else t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (ISO 8601 or a duration like 24h)") from None
    return d if d.tzinfo else d.astimezone()


def _tz(text: str):
    try:
        return parse_tz(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ollama-ingest", description=__doc__)
    p.add_argument("--version", action="version", version=f"ollama-ingest {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0)
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("backfill", help="read history (local journal, journal files, exports) and write it")
    b.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="journal file/dir, export, JSON or text file, or - for stdin (none: the local journal)")
    b.add_argument("--input-format", choices=FORMATS, default="auto")
    b.add_argument("--since", type=parse_when)
    b.add_argument("--until", type=parse_when)
    b.add_argument("--unit", default=None, help="systemd unit (default ollama.service)")
    b.add_argument("--year", type=int, help="year for short text input (default: inferred)")
    b.add_argument("--tz", type=_tz, help="zone of short text input: IANA name or ±HH:MM (default: inferred)")
    b.add_argument("--models-dir", action="append", default=[], metavar="DIR",
                   help="OLLAMA_MODELS tree to name model blobs (repeatable; the usual places are searched too)")
    b.add_argument("--inventory", action="append", default=[], metavar="FILE",
                   help="JSON from `ollama-ingest inventory --json` on the Ollama host (repeatable)")
    b.add_argument("--ollama-url", help="Ollama API for model names (default: OLLAMA_HOST, 127.0.0.1:11434)")
    b.add_argument("--dry-run", action="store_true", help="print line protocol instead of writing")
    b.add_argument("--output", metavar="FILE", help="write line protocol to FILE instead of InfluxDB")
    b.add_argument("--url")
    b.add_argument("--org")
    b.add_argument("--bucket")
    b.add_argument("--token-file")
    b.add_argument("--batch-size", type=int)
    b.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")

    inv = sub.add_parser("inventory", help="list the models this host has: blob → names")
    inv.add_argument("--json", action="store_true", help="machine-readable, for backfill --inventory elsewhere")
    inv.add_argument("--models-dir", action="append", default=[], metavar="DIR")
    inv.add_argument("--ollama-url", help="default: OLLAMA_HOST, 127.0.0.1:11434")
    inv.add_argument("--no-cli", action="store_true", help="do not run the ollama CLI")

    r = sub.add_parser("run", help="the service: follow the journal live and write to InfluxDB")
    _add_service_options(r)
    r.add_argument("--batch-size", type=int)
    r.add_argument("--flush-interval", type=float, metavar="SECONDS", help="write at least this often (default 1)")
    r.add_argument("--selfmon-interval", type=float, metavar="SECONDS",
                   help="self-monitoring point every SECONDS (default 60, 0: off)")
    r.add_argument("--start-at", choices=("head", "tail"), help="where to start without a checkpoint (default head)")

    c = sub.add_parser("check", help="check journal access, models dir, Ollama API, InfluxDB and the bucket")
    _add_service_options(c)

    tl = sub.add_parser("timeline", help="draw the model lifecycle timeline from InfluxDB as one HTML page")
    tl.add_argument("--html", required=True, metavar="FILE", help="write the page here")
    tl.add_argument("--since", type=parse_when, default="24h", help="window start: ISO time or a duration ago (24h)")
    tl.add_argument("--until", type=parse_when, help="window end (default now)")
    tl.add_argument("--host", action="append", default=[], help="only this host (repeatable; default all)")
    tl.add_argument("--query-language", choices=("flux", "influxql"), default="flux",
                    help="flux (InfluxDB 2.x/3.x, the default) or influxql (InfluxDB 1.x /query)")
    tl.add_argument("--influxql", dest="query_language", action="store_const", const="influxql",
                    help="same as --query-language influxql")
    tl.add_argument("--lookback", default="30d", help="how long before the window a session may have begun (30d)")
    tl.add_argument("--fit", action="store_true", help="zoom each host to its data instead of the whole window")
    tl.add_argument("--title")
    tl.add_argument("--url", help="InfluxDB URL")
    tl.add_argument("--org")
    tl.add_argument("--bucket", help="bucket (InfluxQL: the database)")
    tl.add_argument("--token-file")
    tl.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
    return p


def _add_service_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="InfluxDB URL")
    p.add_argument("--org")
    p.add_argument("--bucket")
    p.add_argument("--token-file")
    p.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
    p.add_argument("--unit", default=None, help="systemd unit (default ollama.service)")
    p.add_argument("--journal-file", action="append", default=[], metavar="FILE",
                   help="follow this .journal file instead of the local journal (repeatable)")
    p.add_argument("--journal-dir", metavar="DIR", help="follow the journal files in DIR")
    p.add_argument("--state-dir", metavar="DIR",
                   help="checkpoint directory (default $STATE_DIRECTORY or /var/lib/ollama-ingest)")
    p.add_argument("--models-dir", action="append", default=[], metavar="DIR",
                   help="OLLAMA_MODELS tree to name model blobs (repeatable)")
    p.add_argument("--ollama-url", help="Ollama API (default from OLLAMA_HOST, else http://127.0.0.1:11434)")


def _service_settings(args):
    from .config import load_settings

    cli = {
        "url": args.url, "org": args.org, "bucket": args.bucket, "token_file": args.token_file,
        "verify_ssl": False if args.insecure else None, "unit": args.unit,
        "journal_files": args.journal_file or None, "journal_dir": args.journal_dir,
        "state_dir": args.state_dir, "models_dir": args.models_dir or None, "ollama_url": args.ollama_url,
        "batch_size": getattr(args, "batch_size", None),
        "flush_interval_s": getattr(args, "flush_interval", None),
        "selfmon_interval_s": getattr(args, "selfmon_interval", None),
        "start_at": getattr(args, "start_at", None),
    }
    return load_settings(cli)


def cmd_run(args) -> int:
    from .service import Service, configure_logging

    configure_logging(args.verbose)
    settings = _service_settings(args)
    return Service(settings, hard_exit_s=4.5).run()


def cmd_check(args) -> int:
    from .check import run_checks

    return run_checks(_service_settings(args), out=sys.stdout)


def _names(args, settings):
    from .correlate import inventory
    from .sources.ollama_api import ollama_url

    infos = inventory.gather([*settings.models_dir, *args.models_dir], args.ollama_url or ollama_url(),
                             use_cli=not getattr(args, "no_cli", False), inventory_files=getattr(args, "inventory", []))
    return infos, inventory.names_from(infos)


def cmd_inventory(args) -> int:
    from .config import load_settings
    from .correlate import inventory

    infos, names = _names(args, load_settings())
    if args.json:
        print(inventory.dump(infos))
        return 0
    if not infos:
        print("no models found (looked in: manifests under OLLAMA_MODELS and the usual places, the ollama CLI, "
              "the Ollama API)", file=sys.stderr)
        return 1
    for blob in sorted(names.by_blob):
        print(f"sha256:{blob[:12]}  {', '.join(names.by_blob[blob])}")
    return 0


def _settings(args):
    """backfill's settings: the same sources and one-line errors (exit 2) as ``run``/``check``."""
    from .config import load_settings

    return load_settings({
        "url": args.url, "org": args.org, "bucket": args.bucket, "token_file": args.token_file,
        "batch_size": args.batch_size, "unit": args.unit,
        "verify_ssl": False if args.insecure else None,
    })


def cmd_backfill(args) -> int:
    settings = _settings(args)
    if args.insecure:
        log.warning("TLS certificate verification is off (--insecure)")
    try:
        _infos, names = _names(args, settings)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    timeline = Timeline(names)
    out = None
    if args.dry_run or args.output:
        from .sinks.stdout import LineProtocolSink

        out = sys.stdout if args.dry_run and not args.output else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
        sink = LineProtocolSink(out)
    else:
        from .sinks.influx import InfluxSink

        sink = InfluxSink(settings.url, settings.org, settings.bucket, settings.resolved_token(),
                          batch_size=settings.batch_size, flush_interval_s=settings.flush_interval_s,
                          timeout_s=settings.timeout_s, verify_ssl=settings.verify_ssl,
                          max_backoff_s=settings.max_backoff_s)
    pipeline = Pipeline(timeline, sink, unit=settings.unit)
    sources = []
    for path in args.inputs or [None]:
        if path is None:
            from .parse import interesting
            from .sources.journal import JournalReader

            sources.append(JournalReader(unit=settings.unit, since=args.since, until=args.until, keep=interesting))
        else:
            sources.append(open_input(path, args.input_format, unit=settings.unit, since=args.since, prefilter=True,
                                      until=args.until, year=args.year, tz=args.tz))
    summary = pipeline.run(sources)
    for src in sources:
        for note in getattr(src, "assumptions", []):
            log.warning("%s", note)
    sink.close()
    if out is not None and out is not sys.stdout:
        out.close()
    print(json.dumps(summary, sort_keys=True), file=sys.stderr)
    return 0


def cmd_timeline(args) -> int:
    """Read the timeline layers (Flux or InfluxQL) and write one self-contained HTML page."""
    from datetime import datetime, timezone
    from pathlib import Path

    from .config import load_settings
    from .report import FluxReader, InfluxQLReader, ReadError, Window
    from .timeline_html import write_timeline

    settings = load_settings({"url": args.url, "org": args.org, "bucket": args.bucket,
                              "token_file": args.token_file, "verify_ssl": False if args.insecure else None})
    stop = args.until or datetime.now(timezone.utc)
    if args.since >= stop:
        print("ollama-ingest: --since must be before --until", file=sys.stderr)
        return 2
    window = Window(args.since, stop, args.host or None, args.lookback)
    token = settings.resolved_token()
    if args.query_language == "influxql":
        reader = InfluxQLReader(settings.url, settings.bucket, token, timeout_s=settings.timeout_s,
                                verify_ssl=settings.verify_ssl)
    else:
        reader = FluxReader(settings.url, settings.org, settings.bucket, token, timeout_s=settings.timeout_s,
                            verify_ssl=settings.verify_ssl)
    out = Path(args.html)
    out.parent.mkdir(parents=True, exist_ok=True)
    shown_url = settings.url.split("://", 1)[0] + "://" + settings.url.split("://", 1)[-1].rsplit("@", 1)[-1]
    try:
        data = write_timeline(reader, window, out, fit=args.fit, title=args.title,
                              source=f"{shown_url} ({args.query_language}, bucket {settings.bucket})")
    except (ReadError, ValueError) as exc:
        print(f"ollama-ingest: timeline: {exc}", file=sys.stderr)
        return 1
    finally:
        getattr(reader, "close", lambda: None)()
    n = data.count
    if not data.hosts:
        print("ollama-ingest: no Ollama activity in this window (try a longer --since)", file=sys.stderr)
    print(f"{out} ({n['session']} sessions, {n['load']} loads, {n['request']} requests, "
          f"{n['warning']} warnings, {n['unload']} unloads)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from .config import ConfigError
    from .sinks.influx import SinkConfigError

    try:
        if args.command == "backfill":
            return cmd_backfill(args)
        if args.command == "inventory":
            return cmd_inventory(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "check":
            return cmd_check(args)
        if args.command == "timeline":
            return cmd_timeline(args)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err.get("loc", ())) or "config"
        print(f"ollama-ingest: bad setting {key}: {err.get('msg')}", file=sys.stderr)
        return 2
    except (InputError, SinkConfigError, ConfigError) as exc:
        print(f"ollama-ingest: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
