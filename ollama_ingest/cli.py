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
    return p


def _names(args, settings):
    from .correlate import inventory
    from .sources.ollama_api import ollama_url

    infos = inventory.gather([*settings.models_dir, *args.models_dir], args.ollama_url or ollama_url(),
                             use_cli=not getattr(args, "no_cli", False), inventory_files=getattr(args, "inventory", []))
    return infos, inventory.names_from(infos)


def cmd_inventory(args) -> int:
    from .config import Settings
    from .correlate import inventory

    infos, names = _names(args, Settings())
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
    from .config import Settings

    overrides = {k: v for k, v in {
        "url": args.url, "org": args.org, "bucket": args.bucket, "token_file": args.token_file,
        "batch_size": args.batch_size, "unit": args.unit,
        "verify_ssl": False if args.insecure else None,
    }.items() if v is not None}
    return Settings(**overrides)


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
                          timeout_s=settings.timeout_s, verify_ssl=settings.verify_ssl)
    pipeline = Pipeline(timeline, sink, unit=settings.unit)
    sources = []
    for path in args.inputs or [None]:
        if path is None:
            from .sources.journal import JournalReader

            sources.append(JournalReader(unit=settings.unit, since=args.since, until=args.until))
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from .sinks.influx import SinkConfigError

    try:
        if args.command == "backfill":
            return cmd_backfill(args)
        if args.command == "inventory":
            return cmd_inventory(args)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err.get("loc", ())) or "config"
        print(f"ollama-ingest: bad setting {key}: {err.get('msg')}", file=sys.stderr)
        return 2
    except (InputError, SinkConfigError) as exc:
        print(f"ollama-ingest: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
