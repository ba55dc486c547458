#!/usr/bin/env python3
"""The same journal stored two ways in InfluxDB 1.6: raw lines (the user's old schema) against ours.

    python bench/raw_vs_ours.py                  # 200k entries of a generated era-E journal, 7 query runs
    python bench/raw_vs_ours.py --size 50k --runs 3
    python bench/raw_vs_ours.py --write-docs     # (re)write its section of docs/benchmarks.md

* **raw**: every entry of the unit as measurement ``ollama_logs``, field ``message`` (the MESSAGE text;
  invalid UTF-8 replaced), tag ``host`` (``_HOSTNAME``), time = the journal's µs time; that is what the
  old approach stored (the user's own working journal (Flux parsing at query time)), written to ``/write`` in batches of 5000;
* **ours**: the normal backfill, ``Pipeline(Timeline(), InfluxSink(v2 shim))`` with the reader pre-filter.

Then: points stored in each (InfluxQL ``count``), bytes on disk of each database (``data/<db>`` +
``wal/<db>``, in allocated blocks like ``du``) right after loading and again once InfluxDB has snapshotted
its WAL and compacted (influxd restarted with ``cache-snapshot-write-cold-duration`` and
``compact-full-write-cold-duration`` lowered to 1 s, the state it reaches by itself after 10 min / 4 h
without writes), and the time of the request-bars query over the whole load and over one hour:

* raw: ``SELECT message FROM ollama_logs WHERE message =~ /\\[GIN\\]/ AND time …``, the JSON decoded, and the
  strings parsed in Python with the seed's Flux logic (Steps 3–5: split on ``|``, trim, regex ``[0-9\\.]+``,
  unit by substring);
* ours: ``SELECT * FROM ollama_request WHERE time …``, the JSON decoded (nothing left to parse).

Each query timing is the median of ``--runs`` runs, raw and ours interleaved, over one keep-alive connection.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [p for p in (HERE, ROOT) if p not in sys.path]

from benchlib import DATA, DOCS, machine, parse_size, size_label, write_section  # noqa: E402
from e2e_influx import stored_points  # noqa: E402

SECTION = "## Raw lines vs ours"
BATCH = 5000
HOUR_NS = 3600 * 10**9
COLD_SETTINGS = {"cache-snapshot-write-cold-duration": '"1s"', "compact-full-write-cold-duration": '"1s"'}


# ------------------------------------------------------------------------------ loading

def load_raw(db, name: str, path: str) -> dict:
    """Every entry of the unit as ollama_logs,host=H message="…" <µs time>, POSTed to /write."""
    from ollama_ingest.correlate.timeline import Timeline
    from ollama_ingest.pipeline import Pipeline
    from ollama_ingest.schema.point import Point
    from ollama_ingest.sinks.lineprotocol import to_line
    from ollama_ingest.sources import open_input

    wanted = Pipeline(Timeline(), sink=None).wanted  # the unit's own lines and systemd's about it, as ours
    conn = http.client.HTTPConnection("127.0.0.1", db.http_port, timeout=120)
    q = "/write?" + urlencode({"db": name, "precision": "n"})
    n = requests = 0
    t_first = t_last = None
    buf: list[str] = []

    def post() -> None:
        nonlocal requests
        conn.request("POST", q, body="\n".join(buf).encode(), headers={"Content-Type": "text/plain; charset=utf-8"})
        r = conn.getresponse()
        body = r.read()
        if r.status != 204:
            raise RuntimeError(f"/write answered {r.status}: {body[:300]!r}")
        requests += 1
        buf.clear()

    t0 = time.perf_counter()
    for e in open_input(path):
        if not wanted(e):
            continue
        buf.append(to_line(Point("ollama_logs", {"host": e.host}, {"message": e.text}, e.ts_us * 1000)))
        n += 1
        t_first = e.ts_us if t_first is None else min(t_first, e.ts_us)
        t_last = e.ts_us if t_last is None else max(t_last, e.ts_us)
        if len(buf) >= BATCH:
            post()
    if buf:
        post()
    conn.close()
    return {"secs": time.perf_counter() - t0, "points": n, "requests": requests,
            "first_ns": t_first * 1000, "last_ns": t_last * 1000}


def load_ours(db, name: str, path: str) -> dict:
    from ollama_ingest.correlate.timeline import Timeline
    from ollama_ingest.pipeline import Pipeline
    from ollama_ingest.sinks.influx import InfluxSink
    from ollama_ingest.sources import open_input

    t0 = time.perf_counter()
    sink = InfluxSink(db.v2_url, "bench", name, "bench-token", batch_size=BATCH)
    s = Pipeline(Timeline(), sink).run([open_input(path, prefilter=True)])
    sink.close()
    return {"secs": time.perf_counter() - t0, "points": s["points"], "entries": s["entries"],
            "requests": sink.requests, "dropped": sink.dropped}


def field_values(db, name: str) -> int:
    """Field values stored (TSM keeps every field of a measurement as its own column of (time, value))."""
    total = 0
    for row in db.query("SHOW MEASUREMENTS", db=name):
        r = db.query(f'SELECT count(*) FROM "{row["name"]}"', db=name)
        total += sum(v for k, v in r[0].items() if k.startswith("count_")) if r else 0
    return total


# ------------------------------------------------------------------------------ disk

def disk_bytes(root: str) -> tuple[int, int, int]:
    """(allocated bytes like du, apparent bytes, files) under root."""
    alloc = size = files = 0
    for d, _, names in os.walk(root):
        for x in names:
            try:
                st = os.lstat(os.path.join(d, x))
            except FileNotFoundError:
                continue
            alloc += st.st_blocks * 512
            size += st.st_size
            files += 1
    return alloc, size, files


def db_disk(db, name: str) -> dict:
    data = disk_bytes(os.path.join(db.dir, "data", name))
    wal = disk_bytes(os.path.join(db.dir, "wal", name))
    tsm = [0, 0]
    for d, _, names in os.walk(os.path.join(db.dir, "data", name)):
        for x in names:
            if x.endswith(".tsm"):
                tsm[0] += 1
                tsm[1] += os.path.getsize(os.path.join(d, x))
    wal_files = sum(len([x for x in names if x.endswith(".wal")])
                    for _, _, names in os.walk(os.path.join(db.dir, "wal", name)))
    return {"data": data[0], "wal": wal[0], "total": data[0] + wal[0], "data_apparent": data[1],
            "wal_apparent": wal[1], "tsm_files": tsm[0], "tsm_bytes": tsm[1], "wal_files": wal_files}


def compact(db, names: list[str], timeout: float = 180.0) -> dict:
    """Restart influxd with the snapshot/compaction cold durations at 1 s and wait until each database has
    TSM files and its data directory has not changed for 5 s.

    influxd replays the WAL at start-up and then snapshots it to TSM, but 1.6 keeps the replayed segment
    until the shard's next write rolls it (its content is already in the TSM files): that leftover is
    reported apart, not counted as storage."""
    text = db.config.read_text()
    if "cache-snapshot-write-cold-duration" not in text:
        extra = "".join(f"  {k} = {v}\n" for k, v in COLD_SETTINGS.items())
        text = text.replace("[data]\n", "[data]\n" + extra, 1)
        db.config.write_text(text)
    t0 = time.monotonic()
    db.stop_server()
    db.start_server()
    last, stable_since, now = None, time.monotonic(), {}
    while time.monotonic() - t0 < timeout:
        now = {n: db_disk(db, n) for n in names}
        key = {n: (d["data"], d["tsm_files"], d["tsm_bytes"]) for n, d in now.items()}
        if key != last:
            last, stable_since = key, time.monotonic()
        if all(d["tsm_files"] for d in now.values()) and time.monotonic() - stable_since >= 5.0:
            break
        time.sleep(0.5)
    return {"seconds": time.monotonic() - t0, "done": all(d["tsm_files"] for d in now.values())}


# ------------------------------------------------------------------------------ queries

class Q:
    """POST /query over one keep-alive connection; times the answer and its JSON decoding apart."""

    def __init__(self, db) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", db.http_port, timeout=300)

    def run(self, influxql: str, name: str) -> tuple[float, float, int, list]:
        body = urlencode({"q": influxql, "db": name, "epoch": "ns"}).encode()
        t0 = time.perf_counter()
        self.conn.request("POST", "/query", body=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = self.conn.getresponse()
        raw = r.read()
        t1 = time.perf_counter()
        if r.status != 200:
            raise RuntimeError(f"{influxql!r}: HTTP {r.status}: {raw[:300]!r}")
        answer = json.loads(raw)
        t2 = time.perf_counter()
        res = answer["results"][0]
        if "error" in res:
            raise RuntimeError(f"{influxql!r}: {res['error']}")
        series = res.get("series", [])
        rows = [dict(zip(s["columns"], v, strict=True)) for s in series for v in s["values"]]
        return t1 - t0, t2 - t1, len(raw), rows

    def close(self) -> None:
        self.conn.close()


_NUM = re.compile(r"[0-9\.]+")


def seed_parse(rows: list[dict]) -> tuple[list[dict], int]:
    """The seed's Flux Steps 3–5, literally, in Python (endpoint, status, latency_ms), and the rows it cannot
    parse (in Flux such a row makes ``int()`` / the index fail, and the whole query with it)."""
    out, failed = [], 0
    for r in rows:
        try:
            parts = r["message"].split("|")
            status = int(parts[1].strip())
            latency_str = parts[2].strip()
            numeric_val = float(_NUM.search(latency_str).group())
            if "ms" in latency_str:
                mult = 1.0
            elif "µs" in latency_str:
                mult = 0.001
            elif "s" in latency_str:
                mult = 1000.0
            else:
                mult = 0.0
            endpoint = parts[4].strip().split('"')[1]
        except (ValueError, IndexError, AttributeError):
            failed += 1
            continue
        out.append({"time": r["time"], "endpoint": endpoint, "status": status, "latency_ms": numeric_val * mult})
    return out, failed


def windows(first_ns: int, last_ns: int) -> list[tuple[str, int, int]]:
    whole = ("whole load", first_ns, last_ns + 1)
    mid = (first_ns + last_ns) // 2
    h0 = mid - mid % HOUR_NS  # the clock hour in the middle of the load
    return [whole, ("one hour", h0, h0 + HOUR_NS)]


def queries(db, lo: int, hi: int) -> dict[str, str]:
    return {"raw": f"SELECT message FROM ollama_logs WHERE message =~ /\\[GIN\\]/ AND time >= {lo} AND time < {hi}",
            "ours": f"SELECT * FROM ollama_request WHERE time >= {lo} AND time < {hi}",
            "ours_cols": f'SELECT "end", latency_ms, endpoint, status, model, "series" FROM ollama_request '
                         f"WHERE time >= {lo} AND time < {hi}"}


KINDS = ("raw", "ours", "ours_cols")
LABELS = {"raw": "raw: `SELECT message FROM ollama_logs WHERE message =~ /\\[GIN\\]/ AND time …`",
          "ours": "ours: `SELECT * FROM ollama_request WHERE time …`",
          "ours_cols": "ours, only what a bar needs: `SELECT \"end\", latency_ms, endpoint, status, model, \"series\" …`"}


def time_queries(db, wins: list, runs: int) -> dict:
    q = Q(db)
    out: dict = {}
    try:
        for label, lo, hi in wins:
            qs = queries(db, lo, hi)
            for kind in KINDS:  # warm-up: the first query of a shard loads its index and blocks
                q.run(qs[kind], kind.split("_")[0])
            samples: dict[str, list] = {k: [] for k in KINDS}
            for _ in range(runs):
                for kind in KINDS:
                    qt, dt, nbytes, rows = q.run(qs[kind], kind.split("_")[0])
                    pt = 0.0
                    if kind == "raw":
                        t0 = time.perf_counter()
                        parsed, failed = seed_parse(rows)
                        pt = time.perf_counter() - t0
                        del parsed
                    samples[kind].append({"query": qt, "decode": dt, "parse": pt, "total": qt + dt + pt,
                                          "bytes": nbytes, "rows": len(rows),
                                          "parse_failed": failed if kind == "raw" else 0})
            res = {}
            for kind, ss in samples.items():
                res[kind] = {k: statistics.median(s[k] for s in ss) for k in ("query", "decode", "parse", "total")}
                res[kind].update(bytes=ss[0]["bytes"], rows=ss[0]["rows"], runs=len(ss), parse_failed=ss[0]["parse_failed"],
                                 total_min=min(s["total"] for s in ss), total_max=max(s["total"] for s in ss))
            res["entries"] = db.query(f"SELECT count(message) FROM ollama_logs WHERE time >= {lo} AND time < {hi}",
                                      db="raw")
            res["entries"] = res["entries"][0]["count"] if res["entries"] else 0
            res["window"] = [lo, hi]
            out[label] = res
    finally:
        q.close()
    return out


def num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"


def correctness(db, lo: int, hi: int) -> dict:
    """Compare the seed's parse of the raw rows with our ollama_request points, by the [GIN] line's time."""
    qs = queries(db, lo, hi)
    raw, failed = seed_parse(db.query(qs["raw"], db="raw"))
    ours = db.query("SELECT \"end\", latency_ms FROM ollama_request", db="ours")  # all: start = end − latency
    by_end: dict[int, list[dict]] = {}
    for r in ours:
        by_end.setdefault(int(r["end"]), []).append(r)
    wrong = unmatched = 0
    examples: list[str] = []
    for r in raw:
        cands = by_end.get(r["time"] // 10**6, [])
        if not cands:
            unmatched += 1
            continue
        if not any(abs(c["latency_ms"] - r["latency_ms"]) <= 1e-6 * max(1.0, abs(c["latency_ms"])) for c in cands):
            wrong += 1
            if len(examples) < 3:
                examples.append(f"{num(cands[0]['latency_ms'])} ms parsed as {num(r['latency_ms'])} ms")
    return {"raw_rows": len(raw) + failed, "parse_failed": failed, "unmatched": unmatched, "latency_wrong": wrong, "examples": examples}


# ------------------------------------------------------------------------------ driver

def run_benchmark(a) -> dict:
    from testbed import Influx1

    path = os.path.join(DATA, f"era-{a.era}-{size_label(a.size)}.export")
    if not os.path.exists(path):
        print(f"generating {path} …", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_journal.py"), "--era", a.era, "-n", str(a.size),
                        "--seed", str(a.seed), "--format", "export", "--out", path], check=True)
    tmp = tempfile.mkdtemp(prefix="raw-vs-ours-")
    db = Influx1(os.path.join(tmp, "influx")).start()
    try:
        print(f"InfluxDB 1.6 on {db.url}, data in {db.dir}", file=sys.stderr)
        for n in ("raw", "ours"):
            db.create_database(n)
        raw_load = load_raw(db, "raw", path)
        print(f"raw: {raw_load['points']:,} points in {raw_load['secs']:.1f} s", file=sys.stderr)
        ours_load = load_ours(db, "ours", path)
        print(f"ours: {ours_load['points']:,} points in {ours_load['secs']:.1f} s", file=sys.stderr)
        disk_loaded = {n: db_disk(db, n) for n in ("raw", "ours")}
        print(f"disk right after loading: {disk_loaded}", file=sys.stderr)
        comp = compact(db, ["raw", "ours"])
        disk = {n: db_disk(db, n) for n in ("raw", "ours")}
        print(f"disk after restart + compaction ({comp['seconds']:.0f} s): {disk}", file=sys.stderr)
        stored = {"raw": stored_points(db, "raw"), "ours": stored_points(db, "ours")}
        values = {n: field_values(db, n) for n in ("raw", "ours")}
        series = {n: db.query("SHOW SERIES", db=n) for n in ("raw", "ours")}
        wins = windows(raw_load["first_ns"], raw_load["last_ns"])
        timings = time_queries(db, wins, a.runs)
        check = correctness(db, wins[0][1], wins[0][2])
        influxd_hwm = 0
        with open(f"/proc/{db.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    influxd_hwm = int(line.split()[1])
    finally:
        db.stop()
        shutil.rmtree(tmp, ignore_errors=True)  # the database, the line protocol, the profile
    with open(path + ".meta.json") as f:
        meta = json.load(f)
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "size": a.size, "era": a.era, "seed": a.seed, "runs": a.runs, "path": os.path.relpath(path, ROOT),
            "meta": {k: meta.get(k) for k in ("entries", "bytes", "kinds", "version")},
            "raw_load": raw_load, "ours_load": ours_load, "disk_loaded": disk_loaded, "disk": disk,
            "compact": comp, "stored": stored, "values": values, "series": {n: len(v) for n, v in series.items()},
            "timings": timings, "check": check, "influxd_hwm_kb": influxd_hwm}


# ------------------------------------------------------------------------------ report

def ms(x: float) -> str:
    return f"{x * 1000:,.1f} ms" if x < 10 else f"{x:,.2f} s"


def mb(x: int) -> str:
    return f"{x / 1e6:,.2f} MB" if x < 1e9 else f"{x / 1e9:,.2f} GB"


def files(n: int) -> str:
    return f"{n} file" + ("" if n == 1 else "s")


def span_text(r: dict) -> str:
    first, last = r["raw_load"]["first_ns"], r["raw_load"]["last_ns"]
    d0 = datetime.fromtimestamp(first / 1e9, timezone.utc)
    return f"{(last - first) / 3.6e12:.1f} h of journal time from {d0:%Y-%m-%d %H:%M} UTC"


def tables(r: dict) -> list[str]:
    sr, so = sum(r["stored"]["raw"].values()), sum(r["stored"]["ours"].values())
    dr, do = r["disk"]["raw"], r["disk"]["ours"]
    lr, lo = r["disk_loaded"]["raw"], r["disk_loaded"]["ours"]
    out = ["| | raw lines (`ollama_logs`) | ours | raw ÷ ours |", "|---|---:|---:|---:|",
           f"| points stored | {sr:,} | {so:,} | {sr / so:,.1f}× |",
           f"| field values stored (each field is its own TSM column) | {r['values']['raw']:,} | "
           f"{r['values']['ours']:,} | {r['values']['raw'] / r['values']['ours']:,.1f}× |",
           f"| series | {r['series']['raw']:,} | {r['series']['ours']:,} | |",
           f"| on disk right after loading (`data/<db>` + `wal/<db>`) | {mb(lr['total'])} (WAL {mb(lr['wal'])}) | "
           f"{mb(lo['total'])} (WAL {mb(lo['wal'])}) | {lr['total'] / lo['total']:,.1f}× |",
           f"| on disk once snapshotted and compacted (`data/<db>`) | **{mb(dr['data'])}** | **{mb(do['data'])}** | "
           f"**{dr['data'] / do['data']:,.1f}×** |",
           f"| of which TSM files | {mb(dr['tsm_bytes'])} ({files(dr['tsm_files'])}) | "
           f"{mb(do['tsm_bytes'])} ({files(do['tsm_files'])}) | {dr['tsm_bytes'] / do['tsm_bytes']:,.1f}× |",
           f"| compacted bytes per journal entry | {dr['data'] / r['meta']['entries']:,.1f} | "
           f"{do['data'] / r['meta']['entries']:,.1f} | |",
           f"| loading time (one run each) | {r['raw_load']['secs']:.1f} s | {r['ours_load']['secs']:.1f} s | |",
           "",
           "| request-bars query | window holds | rows returned | bytes returned | InfluxDB answers | "
           "JSON decoded | Python parse (seed Steps 3–5) | total (median) | min–max |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, t in r["timings"].items():
        for kind in [k for k in KINDS if k in t]:
            x = t[kind]
            what = LABELS[kind]
            out.append(f"| {label}: {what} | {t['entries']:,} entries | {x['rows']:,} | {mb(x['bytes'])} | "
                       f"{ms(x['query'])} | {ms(x['decode'])} | {ms(x['parse']) if kind == 'raw' else '–'} | "
                       f"**{ms(x['total'])}** | {ms(x['total_min'])}–{ms(x['total_max'])} |")
        out.append(f"| {label}: raw ÷ ours (`SELECT *`) | | | | {t['raw']['query'] / t['ours']['query']:,.1f}× | | | "
                   f"**{t['raw']['total'] / t['ours']['total']:,.1f}×** | |")
    return out


def section(r: dict, cmd: str) -> list[str]:
    mach, meta, c = r["machine"], r["meta"], r["check"]
    sr, so = sum(r["stored"]["raw"].values()), sum(r["stored"]["ours"].values())
    dr, do = r["disk"]["raw"]["data"], r["disk"]["ours"]["data"]
    tw, th = r["timings"]["whole load"], r["timings"]["one hour"]
    kinds = meta.get("kinds") or {}
    t_one = r["timings"].get("one hour", {})
    lo = t_one.get("window", [0])[0]
    hour = datetime.fromtimestamp(lo / 1e9, timezone.utc).strftime("%Y-%m-%d %H:00") if lo else "?"
    out = [
        SECTION,
        "",
        f"Generated by `bench/raw_vs_ours.py` ({r['date']}, {mach['nproc']} CPUs, Python {mach['python']}, "
        f"ollama-ingest at {mach.get('commit', '?')}), into two databases of one private InfluxDB 1.6 on loopback.",
        "",
        f"The load: `{r['path']}`, {meta['entries']:,} entries of a generated era-{r['era'].upper()} journal "
        f"(v{meta.get('version')}, seed {r['seed']}: {kinds.get('gin_request', 0):,} requests, "
        f"{kinds.get('gin_health', 0):,} health checks, the rest mostly llama.cpp output). That is the size of a "
        f"busy day; at the generator's pace it spans {span_text(r)}, so “whole load” below is that window "
        f"(a day of a server about {(r['raw_load']['last_ns'] - r['raw_load']['first_ns']) / 8.64e13:.1f}× as "
        f"busy as the generator) and “one hour” is {hour} UTC, in the middle of it.",
        "",
        "* raw lines: every entry as `ollama_logs,host=… message=\"…\"` at its journal time (the user's old schema), "
        "POSTed to `/write` in batches of 5000;",
        "* ours: the normal backfill (`Pipeline` → `InfluxSink` → v2 shim), as `ollama-ingest backfill` does.",
        "",
        *tables(r),
        "",
        "Disk is `du`-style allocated bytes (`st_blocks`; each database also has 8 sparse 4 MiB `_series` "
        "segment files, counted by what they allocate). Right after loading, the points are mostly in the WAL. "
        "The compacted row is after influxd was restarted with `cache-snapshot-write-cold-duration` and "
        "`compact-full-write-cold-duration` at 1 s (the state it reaches by itself after 10 min / 4 h without "
        f"writes) and its data directories stopped changing ({r['compact']['seconds']:.0f} s"
        f"{'' if r['compact']['done'] else ', NOT finished'}). It counts `data/<db>` only: 1.6 snapshots the WAL "
        "it replayed at start-up into TSM but keeps that segment file until the shard's next write "
        f"(raw {mb(r['disk']['raw']['wal'])}, ours {mb(r['disk']['ours']['wal'])} here, a copy of what the TSM "
        "files hold). Queries ran after that, each timing the "
        f"median of {r['runs']} runs (raw and ours interleaved, one keep-alive connection, after one warm-up "
        "query each), InfluxQL on 1.6, where the regex on a field is checked point by point; the seed's Flux on 2.x reads every message of the window too (`strings.containsStr` is not pushed down to storage). “InfluxDB answers” is "
        "request → last byte of the answer. The raw rows are only the first half of the seed's Gantt: its Step 8 "
        "scans every message a second time for `starting llama server` and joins the two in Flux to guess the "
        "session, and it still has no model name; ours has `model`, `series` and the start time in the row. "
        "Ours stamps a request at its start (end − latency) and raw at its end, so a window's edges can hold one "
        "row more or less.",
        "",
        f"Correctness of the old way, on the whole load: the seed's parse gets `latency_ms` wrong for "
        f"**{c['latency_wrong']:,} of {c['raw_rows']:,}** `[GIN]` lines (compared with ours by the line's time; "
        f"{c['unmatched']} not matched)"
        + (f", e.g. {'; '.join(c['examples'])}" if c["examples"] else "")
        + ": a latency in ns (`943ns`) contains `s` and is taken as seconds, and one over a minute (`1m2s`) "
        f"as its first number in seconds. It cannot parse **{c['parse_failed']:,}** lines at all (gin's ANSI "
        "colours around the status: `int()` fails, and in Flux that fails the whole query); the Python timing "
        "skips them. Ours stores gin's Go duration exactly.",
        "",
        f"In short: ours stores {sr / so:,.1f}× fewer points but only {dr / do:,.1f}× fewer bytes, because InfluxDB "
        "compresses the repetitive log text well (the generator's llama.cpp lines repeat from load to load, as "
        "real ones do) and keeps each of our fields as its own column; the request query over a busy day is "
        f"{tw['raw']['total'] / tw['ours']['total']:,.1f}× faster with `SELECT *` and "
        f"{tw['raw']['total'] / tw['ours_cols']['total']:,.1f}× with only the columns a bar needs, while over one "
        f"hour every variant answers within {max(x['total'] for k, x in th.items() if k in KINDS) * 1000:,.0f} ms "
        "(per-query overhead dominates). What the raw way cannot buy back is the "
        "parsing: wrong latencies, rows that fail, and no model or session without a second scan and a join.",
        "",
        f"influxd's peak RSS over the benchmark: {r['influxd_hwm_kb'] / 1024:,.0f} MiB.",
        "",
        "```sh",
        ". .venv/bin/activate",
        cmd,
        "```",
        "",
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=parse_size, default=200_000, help="entries (200000, 200k)")
    ap.add_argument("--era", choices=["e", "f", "g"], default="e")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--runs", type=int, default=15, help="runs of each query")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--from-json", help="do not measure: render the results saved by --json")
    ap.add_argument("--write-docs", action="store_true", help=f"write its section of {os.path.relpath(DOCS, ROOT)}")
    a = ap.parse_args(argv)
    if a.from_json:
        with open(a.from_json) as f:
            r = json.load(f)
    else:
        r = run_benchmark(a)
        r["cmd"] = ("python bench/raw_vs_ours.py" + ("" if a.size == 200_000 else f" --size {size_label(a.size)}")
                    + ("" if a.era == "e" else f" --era {a.era}") + ("" if a.runs == 15 else f" --runs {a.runs}")
                    + " --write-docs")
    print("\n".join(tables(r)))
    c = r["check"]
    print(f"seed parse: latency wrong for {c['latency_wrong']} of {c['raw_rows']} ({c['unmatched']} unmatched) "
          f"{c['examples']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=1)
    if a.write_docs:
        write_section(SECTION, section(r, r["cmd"]))
        print(f"wrote {SECTION!r} in {DOCS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
