#!/usr/bin/env python3
"""Reading and parsing speed of ollama-ingest against ``journalctl``, on a generated Ollama journal.

    python bench/parse_speed.py                       # 1M entries, era E, 3 runs each
    python bench/parse_speed.py --size 100k --runs 5
    python bench/parse_speed.py --write-docs          # also rewrite its section of docs/benchmarks.md
    python bench/parse_speed.py --profile             # cProfile of parse-only from export

Data (made once, reused; bench/data/ is git-ignored): ``bench/gen_journal.py`` writes the export,
JSON and text forms of the same entries, and ``systemd-journal-remote`` turns the export into journal
files. They go into a directory: in systemd 252 journal-remote rotates its output at 128 MiB and has no
option to raise that, so 1M entries become 3 files, read with ``journalctl --directory`` /
``open_input(<dir>)``.

Every measurement runs in a fresh child process (its own interpreter, no state from earlier runs),
times only the iteration (not start-up or imports) and reports its peak RSS through ``wait4``. Runs
are interleaved round-robin and the median is reported, because this kind of machine is noisy. These are
secondary figures: what a user waits for is the whole process, bench/whole_process.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE,) if p not in sys.path]

from benchlib import DATA, journal_dir, machine, parse_size, size_label, warm, write_section  # noqa: E402

SECTION = "## Parse-only, in process (secondary)"

TARGET_RATE = 150_000
TARGET_RATIO = 0.5

# name → (label, input kind)
MODES = {
    "journalctl": ("journalctl --directory D -o export > /dev/null (C reference)", "journal"),
    "export_read": ("export: open_input() iteration only", "export"),
    "export_parse": ("export: open_input() + parse_entry() (parse-only)", "export"),
    "export_parse_prefilter": ("export: open_input(prefilter=True) + parse_entry()", "export"),
    "json_read": ("json: open_input() iteration only", "json"),
    "json_parse": ("json: open_input() + parse_entry()", "json"),
    "text_read": ("text (short-precise): open_input() iteration only", "text"),
    "text_parse": ("text (short-precise): open_input() + parse_entry()", "text"),
    "journal_read": ("journal: open_input(dir) iteration (unit match, low-level API)", "journal"),
    "journal_read_all": ("journal: open_input(dir, unit=None) iteration", "journal"),
    "journal_parse": ("journal: open_input(dir) + parse_entry()", "journal"),
    "pysystemd_default": ("journal: python-systemd Reader().get_next() loop (reference)", "journal"),
    "pipeline_export": ("export: full Pipeline → LineProtocolSink(/dev/null)", "export"),
    "pipeline_export_prefilter": ("export: full Pipeline, prefilter=True (as the CLI) → LineProtocolSink", "export"),
}
DEFAULT_MODES = list(MODES)


# ------------------------------------------------------------------------------ worker side

def _worker(mode: str, path: str) -> None:
    """Runs in the child: one measurement, printed as JSON on stdout."""
    if mode == "pysystemd_default":
        from systemd import journal

        r = journal.Reader(path=path)
        n = 0
        t0, c0 = time.perf_counter(), time.process_time()
        while True:
            e = r.get_next()
            if not e:
                break
            n += 1
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(json.dumps({"n": n, "secs": secs, "cpu": cpu}))
        return

    from ollama_ingest.parse import ParseStats, parse_entry
    from ollama_ingest.sources import open_input

    extra: dict = {}
    prefilter = mode.endswith("_prefilter")
    if prefilter:
        mode = mode.removesuffix("_prefilter")
    if mode == "journal_read_all":
        src = open_input(path, unit=None)
    elif prefilter:
        src = open_input(path, prefilter=True)
    else:
        src = open_input(path)
    n = 0
    if mode.endswith("_read"):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in src:
            n += 1
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    elif mode.endswith("_parse"):
        st = ParseStats()
        t0, c0 = time.perf_counter(), time.process_time()
        for e in src:
            parse_entry(e, st)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        n = st.entries + getattr(src, "prefiltered", 0)
        extra = {"events": st.events, "noise": st.noise, "ignored": st.ignored,
                 "skipped": sum(st.skipped.values())}
    elif mode == "journal_read_all":
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in src:
            n += 1
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    elif mode == "pipeline_export":
        from ollama_ingest.correlate.timeline import Timeline
        from ollama_ingest.pipeline import Pipeline
        from ollama_ingest.sinks.stdout import LineProtocolSink

        with open(os.devnull, "w") as out:
            p = Pipeline(Timeline(), LineProtocolSink(out))
            t0, c0 = time.perf_counter(), time.process_time()
            summary = p.run([src])
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        n = summary["entries"] + summary.get("other_unit", 0)
        extra = {"points": summary["points"]}
    else:
        raise SystemExit(f"unknown mode {mode}")
    extra["source_skipped"] = sum(src.skipped.values())
    print(json.dumps({"n": n, "secs": secs, "cpu": cpu, **extra}))


# ------------------------------------------------------------------------------ driver side

def _run_child(argv: list[str], stdout=subprocess.PIPE) -> tuple[float, int, str, float]:
    """Run a child; wall seconds, peak RSS in KiB (wait4), its stdout, and its CPU seconds."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    out = b""
    if stdout is subprocess.PIPE:
        out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed ({p.returncode}): {err.decode(errors='replace')[-2000:]}")
    return wall, ru.ru_maxrss, out.decode(), ru.ru_utime + ru.ru_stime


def measure(mode: str, paths: dict[str, str]) -> dict:
    kind = MODES[mode][1]
    path = paths[kind]
    if mode == "journalctl":
        with open(os.devnull, "wb") as null:
            wall, rss, _, cpu = _run_child(["journalctl", "--directory", path, "-o", "export", "--no-pager"],
                                           stdout=null)
        return {"n": None, "secs": wall, "cpu": cpu, "rss_kb": rss}
    wall, rss, out, _ = _run_child([sys.executable, os.path.abspath(__file__), "--worker", mode, path])
    got = json.loads(out.strip().splitlines()[-1])
    got["rss_kb"] = rss
    got["wall"] = wall
    return got


def prepare(era: str, n: int, seed: int, need: set[str]) -> tuple[dict[str, str], dict]:
    """Generate missing inputs; return paths and what preparation cost (from meta files)."""
    os.makedirs(DATA, exist_ok=True)
    stem = os.path.join(DATA, f"era-{era}-{size_label(n)}")
    paths = {"export": stem + ".export", "json": stem + ".json", "text": stem + ".txt",
             "journal": stem + ".journal.d"}
    prep: dict = {}
    gen = os.path.join(HERE, "gen_journal.py")
    for fmt in ("export", "json", "text"):
        if fmt not in need and not (fmt == "export" and "journal" in need):
            continue
        p = paths[fmt]
        if not os.path.exists(p):
            print(f"generating {p} …", file=sys.stderr)
            subprocess.run([sys.executable, gen, "--era", era, "-n", str(n), "--seed", str(seed),
                            "--format", fmt, "--out", p], check=True)
        meta = p + ".meta.json"
        if os.path.exists(meta):
            with open(meta) as f:
                prep[fmt] = json.load(f)
        prep.setdefault(fmt, {})["bytes_on_disk"] = os.path.getsize(p)
    if "journal" in need:
        paths["journal"], prep["journal"] = journal_dir(paths["export"])
    return paths, prep


def fmt_rate(r: float | None) -> str:
    return "–" if r is None else f"{r:,.0f}"


def table(results: dict, modes: list[str]) -> list[str]:
    ref = results.get("journalctl", {}).get("rate")
    cref = results.get("journalctl", {}).get("cpu_rate")
    rows = ["| measurement | entries/s (wall, median) | × journalctl | min–max entries/s (wall) | "
            "entries per CPU-second (median) | × journalctl (CPU) | peak RSS |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for m in modes:
        r = results.get(m)
        if not r:
            continue
        ratio = f"{r['rate'] / ref:.2f}×" if ref else "–"
        cratio = f"{r['cpu_rate'] / cref:.2f}×" if cref else "–"
        rows.append(f"| {MODES[m][0]} | {fmt_rate(r['rate'])} | {ratio} | "
                    f"{fmt_rate(r['rate_min'])}–{fmt_rate(r['rate_max'])} | {fmt_rate(r['cpu_rate'])} | {cratio} | "
                    f"{r['rss_kb'] / 1024:.0f} MiB |")
    return rows


def profile(path: str, top: int) -> str:
    """cProfile of parse-only from the export form (run in a child, printed by tottime)."""
    code = f"""
import cProfile, pstats, io
from ollama_ingest.sources import open_input
from ollama_ingest.parse import parse_entry, ParseStats
src = open_input({path!r}); st = ParseStats()
pr = cProfile.Profile(); pr.enable()
for e in src:
    parse_entry(e, st)
pr.disable()
s = io.StringIO(); pstats.Stats(pr, stream=s).strip_dirs().sort_stats("tottime").print_stats({top}); print(s.getvalue())
"""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--size", type=parse_size, default=1_000_000, help="entries (1000000, 100k, 1m)")
    ap.add_argument("--era", choices=["e", "f", "g"], default="e")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated modes: " + ",".join(MODES))
    ap.add_argument("--write-docs", action="store_true", help=f"write its section of docs/benchmarks.md ({SECTION})")
    ap.add_argument("--profile", action="store_true", help="also print a cProfile of parse-only from export")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--from-json", help="do not measure: render the results saved by --json")
    a = ap.parse_args(argv)
    if a.worker:
        _worker(*a.worker)
        return 0

    if a.from_json:
        with open(a.from_json) as f:
            report = json.load(f)
        stem = os.path.join(DATA, f"era-{report['era']}-{size_label(report['size'])}")
        export_path = stem + ".export"
    else:
        report, export_path = run_benchmark(a)
    a.size, a.era, a.runs, a.seed = report["size"], report["era"], report["runs"], report.get("seed", a.seed)
    a.only = ",".join(m for m in report["modes"]) if report["modes"] != DEFAULT_MODES else ""

    lines = table(report["results"], report["modes"])
    print("\n".join(lines))
    verdict = judge_all(report["results"])
    if verdict:
        print(verdict)
    po = report["results"].get("export_parse")
    if po:
        print(f"peak RSS of a parse-only child: {po['rss_kb'] / 1024:.0f} MiB")
    for w in report["warnings"]:
        print("WARNING:", w, file=sys.stderr)

    if a.profile:
        print("profiling parse-only from export …", file=sys.stderr)
        report["profile"] = profile(export_path, 25)
        print(report["profile"])
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    if a.write_docs:
        cmd = ("python bench/parse_speed.py" + ("" if a.size == 1_000_000 else f" --size {size_label(a.size)}")
               + ("" if a.era == "e" else f" --era {a.era}") + ("" if a.runs == 3 else f" --runs {a.runs}")
               + (f" --only {a.only}" if a.only else "") + (" --profile" if a.profile else "") + " --write-docs")
        write_docs(report, lines, verdict, cmd)
        print(f"wrote {SECTION!r} in docs/benchmarks.md", file=sys.stderr)
    return 0


def run_benchmark(a) -> tuple[dict, str]:
    modes = [m for m in a.only.split(",") if m] or DEFAULT_MODES
    for m in modes:
        if m not in MODES:
            raise SystemExit(f"unknown mode {m!r} (choose from {', '.join(MODES)})")
    need = {MODES[m][1] for m in modes}
    paths, prep = prepare(a.era, a.size, a.seed, need)
    for kind in need:
        warm(paths[kind])

    samples: dict[str, list[dict]] = {m: [] for m in modes}
    for r in range(a.runs):
        for m in modes:
            got = measure(m, paths)
            samples[m].append(got)
            n = got["n"] if got["n"] is not None else a.size
            print(f"run {r + 1}/{a.runs} {m:26s} {n / got['secs']:>10,.0f} entries/s  "
                  f"{n / got['cpu']:>10,.0f} entries/cpu-s  {got['secs']:6.2f} s  "
                  f"rss {got['rss_kb'] / 1024:5.0f} MiB", file=sys.stderr, flush=True)

    results: dict[str, dict] = {}
    warnings: list[str] = []
    for m, ss in samples.items():
        ns = {s["n"] for s in ss if s["n"] is not None}
        n = ns.pop() if len(ns) == 1 else a.size
        if n != a.size:
            warnings.append(f"{m}: saw {n} entries, expected {a.size}")
        rates = [n / s["secs"] for s in ss]
        cpu_rates = [n / s["cpu"] for s in ss]
        results[m] = {"n": n, "secs": statistics.median(s["secs"] for s in ss), "rate": statistics.median(rates),
                      "cpu_rate": statistics.median(cpu_rates), "rate_min": min(rates), "rate_max": max(rates),
                      "rss_kb": max(s["rss_kb"] for s in ss), "samples": ss}
    report = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
              "size": a.size, "era": a.era, "seed": a.seed, "runs": a.runs, "modes": modes,
              "results": results, "prep": prep, "warnings": warnings}
    return report, paths["export"]


def judge_all(results: dict) -> str:
    ref = results.get("journalctl", {}).get("rate")
    cref = results.get("journalctl", {}).get("cpu_rate")

    def ok(x: bool) -> str:
        return "met" if x else "NOT met"

    def judge(label: str, r: dict) -> str:
        out = (f"{label}: {r['rate']:,.0f}/s wall ({ok(r['rate'] >= TARGET_RATE)}), "
               f"{r['cpu_rate']:,.0f}/CPU-s ({ok(r['cpu_rate'] >= TARGET_RATE)})")
        if ref and cref:
            out += (f"; {r['rate'] / ref:.2f}× journalctl wall ({ok(r['rate'] >= TARGET_RATIO * ref)}), "
                    f"{r['cpu_rate'] / cref:.2f}× CPU ({ok(r['cpu_rate'] >= TARGET_RATIO * cref)})")
        return out

    po = results.get("export_parse")
    if not po:
        return ""
    verdict = (f"Target: parse-only from export ≥ {TARGET_RATE:,} entries/s and ≥ {TARGET_RATIO}× journalctl. "
               + judge("Parse-only", po))
    pf = results.get("export_parse_prefilter")
    if pf:
        verdict += ". " + judge("With the reader pre-filter (`prefilter=True`, as the CLI)", pf)
    return verdict + "."


NAMES = {"noise": "llama.cpp / runner / llama-server output", "slog_info": "slog INFO", "slog_warn": "slog WARN",
         "gin_health": "[GIN] health checks", "gin_request": "[GIN] requests",
         "binary": "binary MESSAGE (ANSI colours, invalid UTF-8)", "systemd": "systemd (PID 1)"}


def write_docs(report: dict, lines: list[str], verdict: str, cmd: str) -> None:
    """Its section of docs/benchmarks.md: secondary figures (in-process, parse-only), below the whole-process
    results of bench/whole_process.py."""
    prep, mach, size = report["prep"], report["machine"], report["size"]
    exp = prep.get("export", {})
    kinds = exp.get("kinds", {})
    total = sum(kinds.values()) or 1
    mix_s = ", ".join(f"{NAMES.get(k, k)} {v / total:.2%}" if v / total >= 0.001 else
                      f"{NAMES.get(k, k)} {v} entries" for k, v in kinds.items())
    sizes = []
    for kind, label in (("export", "export"), ("json", "JSON (`-o json`)"), ("text", "text (`-o short-precise -a`)"),
                        ("journal", "journal files")):
        p = prep.get(kind)
        if p:
            sizes.append(f"{label} {p['bytes_on_disk'] / 1e6:,.0f} MB ({p['bytes_on_disk'] / size:,.0f} B/entry)")
    out = [
        SECTION,
        "",
        f"Secondary figures: parts of the work measured inside one Python process, not what a user waits for "
        f"(that is the table at the top). Generated by `bench/parse_speed.py` ({report['date']}, ollama-ingest at "
        f"{mach.get('commit', '?')}). Input: {size:,} entries of a generated era-{report['era'].upper()} journal "
        f"(v{exp.get('version', '?')}, seed {report.get('seed', '?')}; {mix_s}), the same entries as "
        + ", ".join(sizes) + f". Each figure is the median of {report['runs']} runs, each in a fresh process, "
        "interleaved; times cover the iteration only (no start-up, no imports), except journalctl, timed as a "
        "whole process reading the directory D of journal files. “Peak RSS” is `ru_maxrss` of the child, which "
        "counts the mapped journal files and the forked parent's pages before `exec`.",
        "",
        *lines,
        "",
    ]
    if verdict:
        out += [verdict, ""]
    out += ["```sh", ". .venv/bin/activate", cmd, "```", "",
            "`--only export_parse,journalctl` limits the measurements, `--size 100k` makes a quick run, `--json FILE` "
            "keeps the raw samples and `--from-json FILE --write-docs` renders this section again from them; "
            "`--profile` adds a cProfile of parse-only.", ""]
    if report.get("profile"):
        out += ["cProfile of parse-only from the export form (`--profile`; cProfile inflates call-heavy code, so "
                "read the shares, not the absolute times):", "", "```",
                *[ln.rstrip() for ln in report["profile"].strip().splitlines()], "```", ""]
    if report["warnings"]:
        out += ["Warnings:", "", *[f"* {w}" for w in report["warnings"]], ""]
    write_section(SECTION, out)


if __name__ == "__main__":
    sys.exit(main())
