"""``ollama-ingest timeline``: read the timeline layers (Flux or InfluxQL) and write one self-contained page."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path


def run_timeline(args) -> int:
    from .cli_options import cli_settings
    from .config import load_settings
    from .report import FluxReader, InfluxQLReader, ReadError, Window
    from .timeline_html import write_timeline

    settings = load_settings(cli_settings(args))
    stop = args.until or datetime.now(timezone.utc)
    if args.since >= stop:
        print("ollama-ingest: --since must be before --until", file=sys.stderr)
        return 2
    out = Path(args.html)
    if not out.parent.is_dir():  # a typo in the path must not silently create directories
        print(f"ollama-ingest: timeline: {out.parent} does not exist (create it, or give --html another path)",
              file=sys.stderr)
        return 2
    window = Window(args.since, stop, args.host or None, args.lookback)
    token = settings.resolved_token()
    if args.query_language == "influxql":
        reader = InfluxQLReader(settings.url, settings.bucket, token, timeout_s=settings.timeout_s,
                                verify_ssl=settings.verify_ssl, ca_file=settings.ca_file)
    else:
        reader = FluxReader(settings.url, settings.org, settings.bucket, token, timeout_s=settings.timeout_s,
                            verify_ssl=settings.verify_ssl, ca_file=settings.ca_file)
    shown_url = settings.url.split("://", 1)[0] + "://" + settings.url.split("://", 1)[-1].rsplit("@", 1)[-1]
    try:
        data = write_timeline(reader, window, out, fit=args.fit, title=args.title,
                              source=f"{shown_url} ({args.query_language}, bucket {settings.bucket})")
    except (ReadError, ValueError) as exc:
        print(f"ollama-ingest: timeline: {exc}{_hint(str(exc), args.query_language)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ollama-ingest: timeline: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        reader.close()
    n = data.count
    if not data.hosts:
        print("ollama-ingest: no Ollama activity in this window (try a longer --since)", file=sys.stderr)
    print(f"{out} ({n['session']} sessions, {n['load']} loads, {n['request']} requests, "
          f"{n['warning']} warnings, {n['unload']} unloads)")
    return 0


def _hint(message: str, language: str) -> str:
    """InfluxDB 1.x has no /api/v2/query: it answers Flux with a bare "404 page not found"."""
    if language == "flux" and "404" in message:
        return (" (this looks like InfluxDB 1.x, which does not answer Flux at /api/v2/query: add --influxql, and "
                "--bucket names the database)")
    return ""
