"""See what your Ollama server did: which model was loaded when, how long loads took, every request inside
the model that served it, warnings and unloads. ollama-ingest reads Ollama's journal (live, or history from
the journal, its exports and text) and writes it to InfluxDB for Grafana, or draws it as one HTML page.

Start with `backfill` (history into InfluxDB) and `timeline` (the picture); `run` is the service that follows
the journal live, `check` tells whether it can do its job on this host. Settings come from the command line,
then the environment (OLLAMA_INGEST_*, INFLUXDB_V2_*), then /etc/ollama-ingest/config.toml (OLLAMA_INGEST_CONFIG
names another file). Each subcommand's --help lists its options.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from datetime import datetime, timedelta, timezone

from . import __version__
from .cli_options import add_group, add_verbose, cli_settings, setting_default
from .sources import FORMAT_HELP, FORMATS, InputError

# Start-up is what --version, --help and every command pay: what only a command needs (pydantic, the parsers,
# the sinks) is imported by the command, and the option converters import what they use when they run.
log = logging.getLogger("ollama_ingest")

_WEEKS_DAYS = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(.*)")


def parse_ago(text: str) -> timedelta:
    """``7d``, ``2w``, ``1d12h``, ``24h``, ``90m``: Go's duration units plus days and weeks, which Go lacks but
    people type for a history (README's own ``--since 7d``). Raises ValueError if it is not one."""
    from .parse.units import parse_duration_ns

    weeks, days, rest = _WEEKS_DAYS.fullmatch(text).groups()  # always matches: every group may be empty
    if rest.startswith("-") and (weeks or days):
        raise ValueError(f"not a duration: {text!r}")
    if not (weeks or days):
        return timedelta(microseconds=parse_duration_ns(rest) // 1000)
    return timedelta(weeks=int(weeks or 0), days=int(days or 0),
                     microseconds=parse_duration_ns(rest) // 1000 if rest else 0)


def parse_when(text: str) -> datetime:
    """``2025-07-22``, ``2025-07-22T23:00:00+03:00``, or a duration ago: ``7d``, ``24h``, ``90m``, ``-2h30m``."""
    t = text.strip()
    try:
        return datetime.now(timezone.utc) - parse_ago(t.lstrip("-").removesuffix(" ago"))
    except ValueError:
        pass
    try:
        d = datetime.fromisoformat(t.replace(" ", "T", 1) if len(t) > 10 else t)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (ISO 8601, or a duration ago like 24h, 7d, 2w)") from None
    return d if d.tzinfo else d.astimezone()


def parse_seconds(text: str) -> float:
    """``10m``, ``90s``, ``1h30m`` or plain seconds → seconds."""
    from .parse.units import parse_duration_ns

    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_duration_ns(text.strip()) / 1e9
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 10m, 90s, 1h)") from None


def _tz(text: str):
    from .sources.clock import parse_tz

    try:
        return parse_tz(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


SERVICE_GROUPS = ("influx", "unit", "journal", "models")  # what `run` and `check` share


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ollama-ingest", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"ollama-ingest {__version__}")
    add_verbose(p, top=True)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("backfill", help="read history (the journal, journal files, exports, text) into InfluxDB",
                       description="Read Ollama's history and write it to InfluxDB. A backfill replaces what earlier "
                                   "backfills wrote for the same hosts and time: re-running never doubles anything.")
    add_verbose(b)
    b.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="a journal file or directory, an export, JSON or journalctl text file, Ollama's own log "
                        "(ollama serve, server.log, docker/compose/kubectl logs, Docker's json-file log), or - for "
                        "stdin (default: the local journal)")
    b.add_argument("--input-format", choices=FORMATS, default="auto",
                   help=f"force the input format (default: auto, detected from the first bytes). {FORMAT_HELP}")
    b.add_argument("--since", type=parse_when, metavar="WHEN",
                   help="only entries from WHEN on: ISO 8601, or a duration ago like 24h, 7d, 2w (default: the beginning)")
    b.add_argument("--until", type=parse_when, metavar="WHEN", help="only entries up to WHEN (default: the end)")
    b.add_argument("--year", type=int, help="the year of short text input, which has none (default: inferred from "
                                            "Ollama's own dates)")
    b.add_argument("--tz", type=_tz, help="the zone of times printed without one (journalctl short text, [GIN] and "
                                          "Go-log lines): IANA name or ±HH:MM, e.g. --tz -07:00 (default: inferred "
                                          "from Ollama's own dates)")
    b.add_argument("--host", help="the host tag of every entry (default: the host each input names, else this "
                                  "machine's name)")
    b.add_argument("--inventory", action="append", default=[], metavar="FILE",
                   help="model names from `ollama-ingest inventory --json` run on the Ollama host; repeatable "
                        "(default: none)")
    b.add_argument("--dry-run", action="store_true", help="print the line protocol instead of writing it "
                                                          "(default: write to InfluxDB)")
    b.add_argument("--output", metavar="FILE", help="write the line protocol to FILE, for `influx write -f` "
                                                    "(default: write to InfluxDB)")
    b.add_argument("--wait", action="store_true",
                   help="wait for InfluxDB to answer at the start (default: give up after 10 s with an error)")
    b.add_argument("--max-outage", type=parse_seconds, default=600.0, metavar="DURATION",
                   help="stop when InfluxDB fails for this long in the middle of a backfill; a rerun "
                        "resumes (default: 10m)")
    b.add_argument("--no-replace", action="store_true",
                   help="do not delete what earlier backfills wrote in the window this one covers, for a "
                        "database without the v2 delete API (default: replace)")
    b.add_argument("--json", action="store_true",
                   help="the summary on stderr as one JSON object (default: readable on a terminal, JSON otherwise)")
    for group in ("unit", "models", "influx", "writing"):
        add_group(b, group)

    inv = sub.add_parser("inventory", help="list the models this host has: blob → names",
                         description="List the models this host has (manifests, the ollama CLI, the API).")
    add_verbose(inv)
    inv.add_argument("--json", action="store_true",
                     help="machine-readable, the file `backfill --inventory` takes elsewhere (default: a list)")
    inv.add_argument("--no-cli", action="store_true", help="do not run the ollama CLI (default: run it if found)")
    add_group(inv, "models")

    r = sub.add_parser("run", help="the service: follow the journal live and write to InfluxDB",
                       description="Follow the journal live and write to InfluxDB (what the systemd unit runs).")
    add_verbose(r)
    add_group(r, "writing")
    r.add_argument("--flush-interval", type=float, metavar="SECONDS", help="write at least this often "
                   + setting_default("flush_interval_s", "OLLAMA_INGEST_FLUSH_INTERVAL_S", "1"))
    r.add_argument("--selfmon-interval", type=float, metavar="SECONDS",
                   help="a self-monitoring point every SECONDS, 0: off " + setting_default(
                       "selfmon_interval_s", "OLLAMA_INGEST_SELFMON_INTERVAL_S", "60"))
    r.add_argument("--start-at", choices=("head", "tail"), help="where to start without a checkpoint "
                   + setting_default("start_at", "OLLAMA_INGEST_START_AT", "head"))
    add_follow_file(r, "follow this log file instead of the journal")
    r.add_argument("--host", help="the host tag of every entry " + setting_default(
        "host", "OLLAMA_INGEST_HOST", "the host the input names, else this machine's name"))
    for group in SERVICE_GROUPS:
        add_group(r, group)

    c = sub.add_parser("check", help="check journal access, models dir, Ollama API, InfluxDB and the bucket",
                       description="Can the service do its job here? One line per check; exit 1 if one failed.")
    add_verbose(c)
    add_follow_file(c, "check this log file (readable, a format `run` can follow) instead of the journal")
    for group in SERVICE_GROUPS:
        add_group(c, group)

    tl = sub.add_parser("timeline", help="draw the model lifecycle timeline from InfluxDB as one HTML page",
                        description="Read the timeline from InfluxDB and write it as one self-contained HTML page.")
    add_verbose(tl)
    tl.add_argument("--html", required=True, metavar="FILE",
                    help="write the page here; its directory must exist (required)")
    tl.add_argument("--since", type=parse_when, default="24h", metavar="WHEN",
                    help="window start: ISO time or a duration ago like 24h, 7d, 2w (default: 24h)")
    tl.add_argument("--until", type=parse_when, metavar="WHEN", help="window end (default: now)")
    tl.add_argument("--host", action="append", default=[], help="only this host; repeatable (default: every host)")
    tl.add_argument("--query-language", choices=("flux", "influxql"), default="flux",
                    help="flux for InfluxDB 2.x/3.x, influxql for InfluxDB 1.x /query (default: flux)")
    tl.add_argument("--influxql", dest="query_language", action="store_const", const="influxql",
                    help="same as --query-language influxql (default: flux)")
    tl.add_argument("--lookback", default="30d",
                    help="how long before the window a session may have begun (default: 30d)")
    fit = tl.add_mutually_exclusive_group()
    fit.add_argument("--fit", dest="fit", action="store_const", const=True,
                     help="zoom each host to its data (default: only when the data covers under a tenth of the "
                          "window)")
    fit.add_argument("--whole-window", dest="fit", action="store_const", const=False,
                     help="always draw the whole window (default: see --fit)")
    tl.add_argument("--title", help="the page title (default: Ollama model timeline)")
    add_group(tl, "influx", bucket="bucket (InfluxQL: the database) to read")
    return p


def add_follow_file(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--follow-file", metavar="PATH", help=f"{what}: Ollama's output, Docker's json-file log "
                   "(/var/lib/docker/containers/ID/ID-json.log), docker/compose/kubectl logs; survives rotation by "
                   "rename and by copytruncate " + setting_default("follow_file", "OLLAMA_INGEST_FOLLOW_FILE",
                                                                   "the journal"))


def _service_settings(args, **more):
    """``run``'s and ``check``'s settings: their options on top; the service's --models-dir replaces the
    setting models_dir (a backfill's adds to it)."""
    from .config import load_settings

    return load_settings({**cli_settings(args), "models_dir": args.models_dir or None, **more})


def cmd_run(args) -> int:
    from .service import configure_logging, run_service

    configure_logging(args.verbose)
    run_only = {"flush_interval_s": args.flush_interval, "selfmon_interval_s": args.selfmon_interval,
                "start_at": args.start_at, "follow_file": args.follow_file, "host": args.host}
    return run_service(lambda: _service_settings(args, **run_only))


def cmd_check(args) -> int:
    from .check import adopt_unit_environment, run_checks

    adopt_unit_environment()  # outside the unit: test what the unit will use
    return run_checks(_service_settings(args, follow_file=args.follow_file), out=sys.stdout)


def cmd_inventory(args) -> int:
    from .backfill import gather_names
    from .config import load_settings
    from .correlate import inventory

    settings = load_settings(cli_settings(args))
    infos, names = gather_names(settings, args.models_dir, use_cli=not args.no_cli)
    if args.json:
        print(inventory.dump(infos))
        return 0
    if not infos:
        print(f"no models found (looked in: manifests under OLLAMA_MODELS and the usual places, the ollama CLI, "
              f"the Ollama API at {settings.ollama_url})", file=sys.stderr)
        return 1
    for blob in sorted(names.by_blob):
        print(f"sha256:{blob[:12]}  {', '.join(names.by_blob[blob])}")
    return 0


def _settings(args):
    """backfill's settings: the same sources and one-line errors (exit 2) as ``run``/``check``."""
    from .config import load_settings

    return load_settings(cli_settings(args))


def cmd_backfill(args) -> int:
    from .backfill import run_backfill

    return run_backfill(args, _settings(args))


def cmd_timeline(args) -> int:
    from .timeline_cmd import run_timeline

    return run_timeline(args)


COMMANDS = {"backfill": cmd_backfill, "inventory": cmd_inventory, "run": cmd_run, "check": cmd_check,
            "timeline": cmd_timeline}


_DASH_VALUES = ("--tz", "--since", "--until")


def glue_dash_values(argv: list[str]) -> list[str]:
    """``--tz -07:00`` as typed: argparse takes a value that starts with "-" for an option, so such a value
    of these options is joined to it (``--tz=-07:00``)."""
    out: list[str] = []
    it = iter(argv)
    for a in it:
        out.append(a)
        if a == "--":
            out.extend(it)
            break
        if a in _DASH_VALUES:
            nxt = next(it, None)
            if nxt is None:
                break
            if nxt.startswith("-") and nxt != "-" and not nxt.startswith("--"):
                out[-1] = f"{a}={nxt}"
            else:
                out.append(nxt)
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(glue_dash_values(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from pydantic import ValidationError

    from .config import ConfigError
    from .sinks.influx import SinkConfigError

    try:
        return COMMANDS[args.command](args)
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


if __name__ == "__main__":
    sys.exit(main())
