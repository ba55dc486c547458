"""The README's demo: a private InfluxDB on loopback, the bundled fixtures backfilled into it through
the v2 API, and a per-model summary read back with InfluxQL.

    python -m testbed.demo [--keep] [FIXTURE …]     (from a checkout: bash scripts/setup.sh demo)
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from ollama_ingest.correlate import inventory
from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.pipeline import Pipeline
from ollama_ingest.sinks.influx import InfluxSink
from ollama_ingest.sources import open_input

from . import Influx1

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def summary_rows(db: Influx1, bucket: str) -> list[dict]:
    loads = {(r["host"], r["model"]): r for r in db.query(
        'SELECT count("load_s") AS loads, mean("load_s") AS load_s FROM "ollama_load" GROUP BY "host", "model"',
        db=bucket)}
    reqs = {(r["host"], r["model"]): r for r in db.query(
        'SELECT count("latency_ms") AS requests, percentile("latency_ms", 50) AS p50, '
        'percentile("latency_ms", 95) AS p95 FROM "ollama_request" WHERE "model" =~ /./ GROUP BY "host", "model"',
        db=bucket)}
    rows = []
    for key in sorted(set(loads) | set(reqs)):
        lo, rq = loads.get(key, {}), reqs.get(key, {})
        rows.append({"host": key[0], "model": key[1], "loads": lo.get("loads", 0), "load_s": lo.get("load_s"),
                     "requests": rq.get("requests", 0), "p50_ms": rq.get("p50"), "p95_ms": rq.get("p95")})
    return rows


def print_table(rows: list[dict], out=sys.stdout) -> None:
    def f(v, fmt):
        return "-" if v is None else format(v, fmt)

    w = max([len("model"), *(len(r["model"]) for r in rows)])
    head = f"{'host':<12} {'model':<{w}} {'loads':>5} {'mean load s':>11} {'requests':>8} {'p50 ms':>10} {'p95 ms':>10}"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in rows:
        print(f"{r['host']:<12} {r['model']:<{w}} {r['loads']:>5} {f(r['load_s'], '.2f'):>11} "
              f"{r['requests']:>8} {f(r['p50_ms'], '.1f'):>10} {f(r['p95_ms'], '.1f'):>10}", file=out)


def write_demo_timeline(db: Influx1, bucket: str, path: Path = ROOT / "out" / "timeline.html") -> Path:
    """The HTML timeline of everything backfilled (InfluxQL, as for InfluxDB 1.x), each host zoomed to its data."""
    from datetime import datetime, timedelta, timezone

    from ollama_ingest.report import InfluxQLReader, Window
    from ollama_ingest.timeline_html import write_timeline

    path.parent.mkdir(parents=True, exist_ok=True)
    window = Window(datetime(2000, 1, 1, tzinfo=timezone.utc), datetime.now(timezone.utc) + timedelta(days=3650))
    write_timeline(InfluxQLReader(db.url, bucket), window, path, fit=True,
                   title="ollama-ingest demo: the bundled fixtures", source=f"{db.url} (InfluxQL, database {bucket})")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ollama-ingest-demo", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="*", help="default: every fixtures/*.export")
    ap.add_argument("--models-dir", default=str(FIXTURES / "models"))
    ap.add_argument("--keep", action="store_true",
                    help="write into the database that stays up (scripts/setup.sh db start; started if needed) "
                         "instead of a private one that stops with the demo")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    inputs = args.inputs or sorted(str(p) for p in FIXTURES.glob("*.export"))
    if not inputs:
        print("demo: no inputs (fixtures/*.export missing)", file=sys.stderr)
        return 1
    bucket = "ollama"
    if args.keep:
        from . import serve

        state = serve.start()
        db = _Running(state["influxd_url"], state["url"])
    else:
        db = Influx1().start()
    try:
        db.create_database(bucket)
        print(f"InfluxDB 1.6 on {db.url} (v2 write API at {db.v2_url}), bucket {bucket!r}")
        names = inventory.names_from(inventory.from_manifests(args.models_dir))
        sink = InfluxSink(db.v2_url, "demo", bucket, "demo-token")
        t0 = time.perf_counter()
        pipe = Pipeline(Timeline(names), sink)
        stats = pipe.run([open_input(p, prefilter=True) for p in inputs])
        sink.close()
        took = time.perf_counter() - t0
        print(f"backfilled {len(inputs)} inputs: {stats['entries']} entries → {stats['events']} events → "
              f"{stats['written']} points in {took:.2f} s ({stats['noise']} noise, {stats['skipped']} skipped)\n")
        print_table(summary_rows(db, bucket))
        print(f"\ntimeline: {write_demo_timeline(db, bucket)}")
        if args.keep:
            from . import serve

            print("\nThe database stays up:\n" + serve.describe(state))
        else:
            print(NEXT)
    finally:
        if not args.keep:
            db.stop()
    return 0


NEXT = """
This database stops with the demo. Next, your own journal, in a database that stays up:
  bash scripts/setup.sh db start                       # InfluxDB on 127.0.0.1:8086, data in .db/
  .venv/bin/ollama-ingest backfill                     # the local journal (root, or the systemd-journal group)
  .venv/bin/ollama-ingest timeline --influxql --since 7d --html timeline.html
  bash scripts/setup.sh db stop"""


class _Running:
    """The database of ``scripts/setup.sh db start``, for the demo's read-back (its query is Influx1's)."""

    query = Influx1.query
    create_database = Influx1.create_database

    def __init__(self, url: str, v2_url: str) -> None:
        self.url, self.v2_url = url, v2_url


if __name__ == "__main__":
    sys.exit(main())
