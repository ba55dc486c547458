#!/usr/bin/env python3
"""End-to-end backfill speed into a real InfluxDB 1.6 (the testbed), beside the database's own ceiling.

    python bench/e2e_influx.py                          # 1M-entry era-E export, 3 runs
    python bench/e2e_influx.py --size 100k --runs 5
    python bench/e2e_influx.py path/to/journal.export   # any input open_input() reads
    python bench/e2e_influx.py --profile                # + cProfile of one end-to-end backfill
    python bench/e2e_influx.py --write-docs             # (re)write its section of docs/benchmarks.md

What runs, each in a fresh child process and each run into a fresh database of one private InfluxDB 1.6
(``testbed.Influx1``, loopback only, data in a temp dir):

* **end to end**: ``Pipeline(Timeline(), InfluxSink(v2 shim)).run([open_input(path, prefilter=True)])`` +
  ``sink.close()``, as ``ollama-ingest backfill`` and the demo do (batches of 5000 points, synchronous);
* **line protocol only**: the same pipeline into ``LineProtocolSink`` (a file): parse + correlate +
  serialisation without any HTTP. Its output is the set of points the ceilings below write;
* **ceiling (a)**: that file POSTed to InfluxDB 1.6 ``/write?db=…&precision=n`` directly in batches of 5000
  lines over one keep-alive ``http.client`` connection (the batches are read into memory before timing);
* **ceiling (b)**: the same batches through the v2 shim with influxdb-client's synchronous ``write_api``.

Beside the wall time each row shows the CPU seconds of the three processes involved: the child (our
code and the HTTP client), the driver (it hosts the testbed's v2 shim, a Python thread) and ``influxd``
(``/proc/<pid>/stat``), so where the time goes is visible without a profiler. Peak RSS is ``ru_maxrss``
of the child (``wait4``). Times exclude interpreter start-up and imports.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [p for p in (HERE, ROOT) if p not in sys.path]

from benchlib import DATA, DOCS, machine, parse_size, size_label, warm, write_section  # noqa: E402

BATCH = 5000
TARGET = 50_000  # entries/s end to end on a 1M-entry journal
SECTION = "## End to end into InfluxDB"
CLK_TCK = os.sysconf("SC_CLK_TCK")

ROWS = {
    "e2e": "end to end: open_input(prefilter=True) → Pipeline → InfluxSink → v2 shim → InfluxDB 1.6",
    "lp": "same pipeline → LineProtocolSink (file), no HTTP",
    "direct": "ceiling (a): the points' line protocol → InfluxDB 1.6 /write, http.client keep-alive",
    "shim": "ceiling (b): the same batches → v2 shim → InfluxDB 1.6, influxdb-client write_api (sync)",
}


# ------------------------------------------------------------------------------ worker side (child)

def _pipeline(path: str, sink):
    from ollama_ingest.correlate.timeline import Timeline
    from ollama_ingest.pipeline import Pipeline
    from ollama_ingest.sources import open_input

    return Pipeline(Timeline(), sink), open_input(path, prefilter=True)


def _timed(fn) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    got = fn()
    return {**got, "secs": time.perf_counter() - t0, "cpu": time.process_time() - c0}


def worker_e2e(url: str, bucket: str, path: str) -> dict:
    from ollama_ingest.sinks.influx import InfluxSink

    sink = InfluxSink(url, "bench", bucket, "bench-token", batch_size=BATCH)
    pipe, src = _pipeline(path, sink)

    def run() -> dict:
        s = pipe.run([src])
        sink.close()
        return {"n": s["entries"] + s["other_unit"], "points": s["points"], "written": sink.written,
                "dropped": sink.dropped, "requests": sink.requests, "write_errors": dict(sink.write_errors)}

    return _timed(run)


def worker_lp(path: str, out: str) -> dict:
    from ollama_ingest.sinks.stdout import LineProtocolSink

    with open(out, "w", encoding="utf-8", newline="\n") as f:
        sink = LineProtocolSink(f)
        pipe, src = _pipeline(path, sink)

        def run() -> dict:
            s = pipe.run([src])
            sink.close()
            return {"n": s["entries"] + s["other_unit"], "points": s["points"], "written": sink.written}

        return _timed(run)


def read_batches(lp_file: str, batch: int = BATCH) -> list[bytes]:
    with open(lp_file, "rb") as f:
        lines = f.read().splitlines()
    return [b"\n".join(lines[i:i + batch]) for i in range(0, len(lines), batch)]


def worker_direct(url: str, db: str, lp_file: str) -> dict:
    from urllib.parse import urlencode, urlsplit

    batches = read_batches(lp_file)
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    path = "/write?" + urlencode({"db": db, "precision": "n"})
    headers = {"Content-Type": "text/plain; charset=utf-8"}

    def run() -> dict:
        for body in batches:
            conn.request("POST", path, body=body, headers=headers)
            r = conn.getresponse()
            answer = r.read()
            if r.status != 204:
                raise RuntimeError(f"/write answered {r.status}: {answer[:300]!r}")
        conn.close()
        return {"points": sum(b.count(b"\n") + 1 for b in batches), "requests": len(batches)}

    return _timed(run)


def worker_shim(url: str, bucket: str, lp_file: str) -> dict:
    from influxdb_client import InfluxDBClient, WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS

    batches = read_batches(lp_file)
    client = InfluxDBClient(url=url, token="bench-token", org="bench", timeout=60_000)
    api = client.write_api(write_options=SYNCHRONOUS)

    def run() -> dict:
        for body in batches:
            api.write(bucket=bucket, org="bench", record=body, write_precision=WritePrecision.NS)
        client.close()
        return {"points": sum(b.count(b"\n") + 1 for b in batches), "requests": len(batches)}

    return _timed(run)


def worker_profile(url: str, bucket: str, path: str, out: str) -> dict:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    got = worker_e2e(url, bucket, path)
    prof.disable()
    with open(out, "w") as f:
        st = pstats.Stats(prof, stream=f)
        st.sort_stats("cumulative").print_stats(45)
    parts: dict[str, float] = {}
    for (file, _, func), (_, _, _, ct, _) in st.stats.items():
        for label, (suffix, name) in PROFILE_PARTS.items():
            if file.endswith(suffix) and func == name:
                parts[label] = parts.get(label, 0.0) + ct
    got["profile_parts"] = parts
    return got


# label → (file suffix, function): their cumulative times split one end-to-end backfill (none calls another)
PROFILE_PARTS = {
    "read the export (with the reader's pre-filter)": ("sources/export.py", "entries"),
    "parse entries into events": ("parse/__init__.py", "parse_entry"),
    "correlate (Timeline.feed)": ("correlate/timeline.py", "feed"),
    "correlate at the end of input": ("correlate/timeline.py", "finish"),
    "line protocol (to_line)": ("sinks/lineprotocol.py", "to_line"),
    "HTTP write: influxdb-client → shim → InfluxDB, waiting included": ("sinks/influx.py", "_request"),
}


WORKERS = {"e2e": worker_e2e, "lp": worker_lp, "direct": worker_direct, "shim": worker_shim,
           "profile": worker_profile}


# ------------------------------------------------------------------------------ driver side

def proc_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def proc_hwm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def run_child_wait4(argv: list[str]) -> tuple[str, str, int, int]:
    """Popen + read both pipes + wait4 (so ru_maxrss is this child's own)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import threading

    err_chunks: list[bytes] = []
    t = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()), daemon=True)
    t.start()
    out = p.stdout.read()
    t.join()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return out.decode(), b"".join(err_chunks).decode(errors="replace"), p.returncode, ru.ru_maxrss


def measure(kind: str, args: list[str], influxd_pid: int | None) -> dict:
    d0 = time.process_time()
    i0 = proc_cpu(influxd_pid) if influxd_pid else 0.0
    t0 = time.perf_counter()
    out, err, code, rss = run_child_wait4([sys.executable, os.path.abspath(__file__), "--worker", kind, *args])
    wall = time.perf_counter() - t0
    if code != 0:
        raise RuntimeError(f"worker {kind} failed ({code}):\n{err[-3000:]}")
    got = json.loads(out.strip().splitlines()[-1])
    got.update(rss_kb=rss, wall=wall, driver_cpu=time.process_time() - d0,
               influxd_cpu=(proc_cpu(influxd_pid) - i0) if influxd_pid else None)
    return got


def stored_points(db, name: str) -> dict[str, int]:
    """Points per measurement: the largest per-field count (every measurement here has a field that
    every one of its points carries, so this is exact for our schema)."""
    counts = {}
    for row in db.query("SHOW MEASUREMENTS", db=name):
        m = row["name"]
        r = db.query(f'SELECT count(*) FROM "{m}"', db=name)
        counts[m] = max((v for k, v in r[0].items() if k.startswith("count_")), default=0) if r else 0
    return counts


def resolve_input(a) -> tuple[str, str]:
    """(path, description); generate bench/data/era-<era>-<size>.export when missing."""
    if a.input:
        return a.input, os.path.relpath(a.input, ROOT) if a.input.startswith(ROOT) else a.input
    path = os.path.join(DATA, f"era-{a.era}-{size_label(a.size)}.export")
    if not os.path.exists(path):
        print(f"generating {path} …", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_journal.py"), "--era", a.era, "-n", str(a.size),
                        "--seed", str(a.seed), "--format", "export", "--out", path], check=True)
    return path, (f"{a.size:,} entries of a generated era-{a.era.upper()} Ollama journal "
                  f"(`bench/gen_journal.py`, seed {a.seed}), export form")


def run_benchmark(a) -> dict:
    from testbed import Influx1

    path, desc = resolve_input(a)
    warm(path)
    tmp = tempfile.mkdtemp(prefix="e2e-influx-")
    lp_file = os.path.join(tmp, "points.lp")
    db = Influx1(os.path.join(tmp, "influx")).start()
    samples: dict[str, list[dict]] = {k: [] for k in ROWS}
    checks: dict = {}
    try:
        pid = db.proc.pid
        print(f"InfluxDB 1.6 on {db.url} (v2 shim {db.v2_url}), data in {db.dir}", file=sys.stderr)
        got = measure("lp", [path, lp_file], pid)
        samples["lp"].append(got)
        lp_bytes = os.path.getsize(lp_file)
        written: dict[str, int] = {}
        with open(lp_file, "rb") as f:
            for line in f:
                m = line.split(b",", 1)[0].split(b" ", 1)[0].decode()
                written[m] = written.get(m, 0) + 1
        print(f"line protocol: {got['points']:,} points, {lp_bytes / 1e6:.1f} MB, {got['secs']:.2f} s",
              file=sys.stderr)
        for r in range(a.runs):
            for kind in ("e2e", "direct", "shim"):
                name = f"{kind}_{r}"
                db.create_database(name)
                url = db.v2_url if kind in ("e2e", "shim") else db.url
                got = measure(kind, [url, name, path if kind == "e2e" else lp_file], pid)
                got["stored"] = stored_points(db, name)
                samples[kind].append(got)
                n = got.get("n")
                print(f"run {r + 1}/{a.runs} {kind:6s} {got['secs']:7.2f} s  "
                      + (f"{n / got['secs']:9,.0f} entries/s  " if n else "")
                      + f"{got['points'] / got['secs']:9,.0f} points/s  child cpu {got['cpu']:6.2f} s  "
                      f"shim/driver cpu {got['driver_cpu']:5.2f} s  influxd cpu {got['influxd_cpu']:5.2f} s  "
                      f"rss {got['rss_kb'] / 1024:4.0f} MiB  stored {sum(got['stored'].values()):,}",
                      file=sys.stderr, flush=True)
                if r > 0 or kind != "e2e":
                    db.drop_database(name)
            if r == 0:
                checks["stored_e2e"] = stored_points(db, "e2e_0")
                db.drop_database("e2e_0")
        if a.lp_runs > 1:  # more samples of the no-HTTP pipeline, for a steadier median
            for _ in range(a.lp_runs - 1):
                samples["lp"].append(measure("lp", [path, lp_file], pid))
        influxd_hwm = proc_hwm_kb(pid)
        profile, profile_parts = "", {}
        if a.profile:
            db.create_database("profile")
            out = os.path.join(tmp, "profile.txt")
            print("profiling one end-to-end backfill (cProfile) …", file=sys.stderr)
            pg = measure("profile", [db.v2_url, "profile", path, out], pid)
            with open(out) as f:
                profile = f.read()
            profile = f"(cProfile run: {pg['secs']:.1f} s wall, {pg['cpu']:.1f} s CPU)\n" + profile
            profile_parts = {**pg["profile_parts"], "_total": pg["secs"]}
    finally:
        db.stop()
        shutil.rmtree(tmp, ignore_errors=True)  # the database, the line protocol, the profile
    n = samples["e2e"][0]["n"]
    results = {}
    for kind, ss in samples.items():
        if not ss:
            continue
        res = {k: statistics.median(s[k] for s in ss) for k in ("secs", "cpu", "driver_cpu", "influxd_cpu")}
        res.update(points=ss[0]["points"], requests=ss[0].get("requests"), rss_kb=max(s["rss_kb"] for s in ss),
                   runs=len(ss), samples=ss,
                   points_rate=statistics.median(s["points"] / s["secs"] for s in ss),
                   entries_rate=statistics.median(n / s["secs"] for s in ss) if kind in ("e2e", "lp") else None,
                   rate_min=min(s["points"] / s["secs"] for s in ss), rate_max=max(s["points"] / s["secs"] for s in ss))
        results[kind] = res
    warnings = []
    pts = {k: samples[k][0]["points"] for k in ROWS if samples[k]}
    if len(set(pts.values())) != 1:
        warnings.append(f"the rows wrote different numbers of points: {pts}")
    stored = {k: [sum(s["stored"].values()) for s in samples[k]] for k in ("e2e", "direct", "shim")}
    if len({x for v in stored.values() for x in v}) != 1:
        warnings.append(f"the databases hold different numbers of points: {stored}")
    for s in samples["e2e"]:
        if s.get("dropped") or s.get("write_errors"):
            warnings.append(f"end-to-end run dropped {s.get('dropped')} points, write errors {s.get('write_errors')}")
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "input": desc, "path": path, "entries": n, "runs": a.runs, "lp_bytes": lp_bytes,
            "results": results, "stored": checks.get("stored_e2e", {}), "written": written, "influxd_hwm_kb": influxd_hwm,
            "profile": profile, "profile_parts": profile_parts, "warnings": warnings}


# ------------------------------------------------------------------------------ report

def fmt(x: float | None, spec: str = ",.0f") -> str:
    return "–" if x is None else format(x, spec)


def table(report: dict) -> list[str]:
    res = report["results"]
    rows = ["| measurement | entries/s (median) | points/s (median) | points/s min–max | wall s | "
            "child CPU s | shim (driver) CPU s | influxd CPU s | entries per CPU-s (all three) | requests | "
            "child peak RSS |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, label in ROWS.items():
        r = res.get(kind)
        if not r:
            continue
        shim = r["driver_cpu"] if kind in ("e2e", "shim") else None
        cpu_all = r["cpu"] + (shim or 0.0) + (r["influxd_cpu"] or 0.0)
        per_cpu = report["entries"] / cpu_all if kind in ("e2e", "lp") else None
        rows.append(f"| {label} | {fmt(r['entries_rate'])} | {fmt(r['points_rate'])} | "
                    f"{fmt(r['rate_min'])}–{fmt(r['rate_max'])} | {r['secs']:.2f} | {r['cpu']:.2f} | "
                    f"{fmt(shim, '.2f')} | {fmt(r['influxd_cpu'], '.2f')} | {fmt(per_cpu)} | {fmt(r['requests'])} | "
                    f"{r['rss_kb'] / 1024:.0f} MiB |")
    return rows


def breakdown(report: dict) -> list[str]:
    """Where the end-to-end wall time goes, from the CPU accounting of one run (the median one by wall time):
    the writes are synchronous, so the child either works or waits for the shim and InfluxDB."""
    res = report["results"]
    e2e, direct, shim = (res.get(k) for k in ("e2e", "direct", "shim"))
    if not e2e:
        return []
    ss = sorted(e2e["samples"], key=lambda x: x["secs"])
    run = ss[len(ss) // 2]
    total, child = run["secs"], run["cpu"]
    wait = max(0.0, total - child)

    def pct(x: float) -> str:
        return f"{x:.2f} s ({x / total:.0%})"

    out = [f"In the median end-to-end run ({total:.2f} s wall):",
           "",
           f"* our process working: {pct(child)} of CPU: reading, parsing, correlating, line protocol, "
           "and the HTTP client (split by the profile below);",
           f"* our process waiting for its writes to be acknowledged: {pct(wait)}; meanwhile influxd used "
           f"{run['influxd_cpu']:.2f} s of CPU (several threads) and the v2 shim {run['driver_cpu']:.2f} s."]
    if direct and shim:
        out += ["",
                f"The same {e2e['points']:,} points, already serialised, go into InfluxDB 1.6 in {direct['secs']:.2f} s "
                f"directly ({direct['points_rate']:,.0f} points/s) and in {shim['secs']:.2f} s through the shim with "
                f"influxdb-client ({shim['points_rate']:,.0f} points/s): the database takes points about "
                f"{direct['points_rate'] / e2e['points_rate']:,.0f}× as fast as the pipeline makes them, and the "
                f"shim + client add {max(0.0, shim['secs'] - direct['secs']):.2f} s to {direct['requests']} requests "
                "(within the noise)."]
    return out


def verdict(report: dict) -> str:
    e2e = report["results"]["e2e"]
    ok = e2e["entries_rate"] >= TARGET
    return (f"Target: end to end ≥ {TARGET:,} entries/s on a 1M-entry journal: {e2e['entries_rate']:,.0f} entries/s "
            f"({'met' if ok else 'NOT met'}"
            + ("" if report["entries"] == 1_000_000 else f"; this run read {report['entries']:,} entries") + ").")


def section(report: dict, cmd: str) -> list[str]:
    mach = report["machine"]
    res = report["results"]
    stored, written = report["stored"], report.get("written", {})
    out = [
        SECTION,
        "",
        f"Generated by `bench/e2e_influx.py` ({report['date']}, {mach['nproc']} CPUs ({mach['cpu']}), "
        f"Python {mach['python']}, ollama-ingest at {mach.get('commit', '?')}). Input: {report['input']}; "
        f"{res['e2e']['points']:,} points ({report['lp_bytes'] / 1e6:,.1f} MB of line protocol). Each row is the "
        f"median of {report['runs']} runs (the no-HTTP row: {res['lp']['runs']}), each in a fresh process and "
        "each write into a fresh database of a private InfluxDB 1.6 (Debian's `influxdb`, on loopback, through "
        "the checkout's `testbed/`); runs are interleaved. Times cover the work only (no interpreter start-up, "
        "no imports).",
        "",
        *table(report),
        "",
        verdict(report),
        "",
        "The CPU columns are the three processes of a run: the child (our code and the HTTP client), the driver "
        "(it hosts the testbed's v2 shim, a Python `ThreadingHTTPServer` that forwards each request to "
        "`/write` on a new connection) and `influxd`. On this 2-core machine they take turns more than they "
        "overlap: every write is synchronous, so the pipeline waits while the shim and InfluxDB work.",
        "",
        *breakdown(report),
        "",
        f"Stored after an end-to-end run: {sum(stored.values()):,} points ("
        + ", ".join(f"`{m}` {c:,}" for m, c in sorted(stored.items())) + ")"
        + (("; fewer than the points written where a point is rewritten with the same identity: "
            + ", ".join(f"`{m}` {written[m]:,} written → {stored.get(m, 0):,} stored" for m in sorted(written)
                        if written[m] != stored.get(m, 0))
            + " (sessions are upserted as they go on; an `unload` event is rewritten when later evidence "
              "revises its reason)") if any(written.get(m) != c for m, c in stored.items()) else "")
        + f". influxd's peak RSS over the whole benchmark: {report['influxd_hwm_kb'] / 1024:,.0f} MiB.",
        "",
    ]
    if report.get("notes"):
        out += [*report["notes"], ""]
    if report.get("profile_parts"):
        out += ["One end-to-end backfill under cProfile (`--profile`; cProfile inflates call-heavy Python code "
                "several-fold, so read the shares, not the seconds):", "", *profile_table(report["profile_parts"]), ""]
    if report["warnings"]:
        out += ["Warnings:", "", *[f"* {w}" for w in report["warnings"]], ""]
    out += ["```sh", cmd, "```", ""]
    return out


def profile_table(parts: dict) -> list[str]:
    total = parts["_total"]
    rows = ["| part | cumulative s | share |", "|---|---:|---:|"]
    named = {k: v for k, v in parts.items() if not k.startswith("_")}
    for k, v in sorted(named.items(), key=lambda kv: -kv[1]):
        rows.append(f"| {k} | {v:.1f} | {v / total:.0%} |")
    rest = total - sum(named.values())
    rows.append(f"| the rest (Pipeline.feed's loop, InfluxSink.add, the 1 s flush check) | {rest:.1f} | {rest / total:.0%} |")
    rows.append(f"| total | {total:.1f} | 100% |")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("input", nargs="?", help="an input (default: the generated export of --size entries)")
    ap.add_argument("--size", type=parse_size, default=1_000_000, help="entries (1000000, 100k, 1m)")
    ap.add_argument("--era", choices=["e", "f", "g"], default="e")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lp-runs", type=int, default=3, help="runs of the no-HTTP pipeline (the first makes the file)")
    ap.add_argument("--profile", action="store_true", help="also cProfile one end-to-end backfill")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--from-json", help="do not measure: render the results saved by --json")
    ap.add_argument("--note", action="append", default=[], help="a paragraph to add to the docs section")
    ap.add_argument("--write-docs", action="store_true", help=f"write its section of {os.path.relpath(DOCS, ROOT)}")
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(WORKERS[a.worker[0]](*a.worker[1:])))
        return 0
    if a.from_json:
        with open(a.from_json) as f:
            report = json.load(f)
    else:
        report = run_benchmark(a)
        report["cmd"] = ("python bench/e2e_influx.py" + (f" {report['input']}" if a.input else "")
                         + ("" if a.input or a.size == 1_000_000 else f" --size {size_label(a.size)}")
                         + ("" if a.runs == 3 else f" --runs {a.runs}") + (" --profile" if a.profile else "")
                         + " --write-docs")
    if a.note:
        report["notes"] = a.note
    print("\n".join(table(report)))
    print(verdict(report))
    print("\n".join(breakdown(report)))
    if report.get("profile"):
        print(report["profile"])
    if report.get("profile_parts"):
        print("\n".join(profile_table(report["profile_parts"])))
    for w in report["warnings"]:
        print("WARNING:", w, file=sys.stderr)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    if a.write_docs:
        write_section(SECTION, section(report, ". .venv/bin/activate\n" + report["cmd"]))
        print(f"wrote {SECTION!r} in {DOCS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
