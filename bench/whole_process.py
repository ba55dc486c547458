#!/usr/bin/env python3
"""Whole processes side by side: ``ollama-ingest backfill … --dry-run`` as a user runs it, against
``journalctl -o export`` on the same entries, on two inputs, in one run.

    python bench/whole_process.py                   # 7 rounds, both inputs, start-up
    python bench/whole_process.py --rounds 9 --write-docs
    python bench/whole_process.py --json r.json     # keep the samples; --from-json r.json --write-docs renders them
    python bench/whole_process.py --tree before=/tmp/base --tree after=.   # A/B of two checkouts, same rounds

The inputs (generated once into bench/data/, git-ignored, see benchlib.py):

* **generated**: 1M entries of ``bench/gen_journal.py`` (era E, seed 42): ~850 B entries, 84 % llama.cpp output;
* **day-shaped**: 200k entries of ``bench/gen_journal.py --day``: ~500 B entries, ~75 % llama.cpp output.

Each is an export file and the same entries as journal files (``systemd-journal-remote``, one directory D).
Every round runs, for each input, ``journalctl --directory D -o export > /dev/null``, ``ollama-ingest backfill
X.export --dry-run > /dev/null`` and ``ollama-ingest backfill D --dry-run > /dev/null``: whole processes, start-up
and imports included, in an order rotated every round so that load from other processes spreads over all of
them. The ratio "× journalctl" is entries/s ours ÷ journalctl's, taken per round (the two ran seconds apart)
and reported as the median and range of the rounds. Wall time, CPU time (``ru_utime + ru_stime`` from
``wait4``), and from /proc/PID/status read every 20 ms the peak RSS (``VmHWM``; ``ru_maxrss`` would count
the forked driver's pages before ``exec``) and the peak anonymous RSS (``RssAnon``: the memory of the
process without the journal files it maps).
Start-up: ``ollama-ingest --version`` and ``ollama-ingest backfill --help`` beside a bare ``python -c pass``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE,) if p not in sys.path]

from benchlib import ROOT, generated_export, journal_dir, machine, warm, write_head  # noqa: E402
from docs_whole_process import page  # noqa: E402

INPUTS = {  # name → (era, entries, day-shaped)
    "generated": ("e", 1_000_000, False),
    "day": ("e", 200_000, True),
}
MODES = ("journalctl", "export", "journal")  # with --tree: "<label> export", "<label> journal" for each
STARTUP = ("python -c pass", "ollama-ingest --version", "ollama-ingest backfill --help")
CLI = os.path.join(ROOT, ".venv", "bin", "ollama-ingest")
POLL_S = 0.02


def _status_kb(pid: int, keys: tuple[str, ...]) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in keys:
                    out[k] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return out


def run(argv: list[str], env: dict) -> dict:
    """One whole process, stdout to /dev/null: wall s, CPU s, peak RSS, peak anonymous RSS and its stderr."""
    with open(os.devnull, "wb") as null, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=null, stderr=err, env=env)
        peak = {"VmHWM": 0, "RssAnon": 0}
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                got = _status_kb(p.pid, ("VmHWM", "RssAnon"))
                if not got:
                    return
                for k, v in got.items():
                    peak[k] = max(peak[k], v)
                done.wait(POLL_S)

        poller = threading.Thread(target=sample, daemon=True)
        poller.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        poller.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    if p.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed ({p.returncode}): {stderr[-2000:]}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_kb": peak["VmHWM"], "anon_kb": peak["RssAnon"],
            "stderr": stderr}


def trees(specs: list[str]) -> dict[str, str]:
    """``--tree LABEL=DIR`` → {label: checkout}; none: this checkout alone, unlabelled."""
    if not specs:
        return {"": ROOT}
    return {spec.split("=", 1)[0]: os.path.abspath(spec.split("=", 1)[1]) for spec in specs}


def tree_env(tree: str) -> dict:
    """The venv's ollama-ingest script runs the package of ``tree`` (PYTHONPATH comes before the editable
    install): a whole process exactly as a user starts it, from another checkout. As for a user, Python keeps
    the compiled modules (an environment with PYTHONDONTWRITEBYTECODE would compile every module every run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LC_ALL"] = "C.UTF-8"
    if tree != ROOT:
        env["PYTHONPATH"] = tree
    return env


def compile_tree(tree: str) -> None:
    """Write every module's bytecode before measuring, as the first run of an installed package leaves it."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(tree, "ollama_ingest")], check=True,
                   env=tree_env(tree), stdout=subprocess.DEVNULL)


def commands(envs: dict[str, dict], export: str, jdir: str) -> dict[str, tuple[list[str], dict]]:
    """mode → (argv, environment): journalctl, then each checkout on the export and on the journal files."""
    cmds = {"journalctl": (["journalctl", "--directory", jdir, "-o", "export", "--no-pager"], tree_env(ROOT))}
    for label, env in envs.items():
        cmds[f"{label} export".strip()] = ([CLI, "backfill", export, "--dry-run"], env)
        cmds[f"{label} journal".strip()] = ([CLI, "backfill", jdir, "--dry-run"], env)
    return cmds


def check_summary(stderr: str, entries: int, label: str) -> dict:
    """The run's own summary (JSON on stderr): it read every entry, completely."""
    s = json.loads(stderr[stderr.index("{"):])
    if s.get("status") != "complete" or s.get("entries") != entries:
        raise RuntimeError(f"{label}: read {s.get('entries')} of {entries} entries, status {s.get('status')}")
    return {"points": s.get("points"), "entries": s.get("entries")}


def measure(a) -> dict:
    clis = trees(a.tree)
    envs = {label: tree_env(tree) for label, tree in clis.items()}
    for tree in clis.values():
        compile_tree(tree)
    inputs: dict[str, dict] = {}
    for name in a.inputs:
        era, n, day = INPUTS[name]
        export, meta = generated_export(era, n, day=day)
        jdir, jinfo = journal_dir(export)
        warm(export)
        warm(jdir)
        inputs[name] = {"export": os.path.relpath(export, ROOT), "journal_dir": os.path.relpath(jdir, ROOT),
                        "entries": meta.get("entries", n), "export_bytes": os.path.getsize(export),
                        "journal": jinfo, "kinds": meta.get("kinds", {}), "cmds": commands(envs, export, jdir)}
    jobs = [(name, mode) for name in inputs for mode in inputs[name]["cmds"]]
    samples: dict[str, dict[str, list[dict]]] = {name: {m: [] for m in inp["cmds"]} for name, inp in inputs.items()}
    uptime = [os.getloadavg()]
    for r in range(a.rounds):
        k = r % len(jobs)
        for name, mode in jobs[k:] + jobs[:k]:  # rotated: each job follows a different one every round
            inp = inputs[name]
            got = run(*inp["cmds"][mode])
            if mode != "journalctl":
                got.update(check_summary(got["stderr"], inp["entries"], f"{name} {mode}"))
            del got["stderr"]
            got["round"] = r
            samples[name][mode].append(got)
            print(f"round {r + 1}/{a.rounds} {name:9s} {mode:16s} {got['wall']:7.2f} s  cpu {got['cpu']:6.2f} s  "
                  f"{inp['entries'] / got['wall']:9,.0f} entries/s  rss {got['rss_kb'] / 1024:5.0f} MiB  "
                  f"anon {got['anon_kb'] / 1024:5.0f} MiB", file=sys.stderr, flush=True)
        uptime.append(os.getloadavg())
    argvs = {"python -c pass": ([sys.executable, "-c", "pass"], tree_env(ROOT))}
    for label, env in envs.items():
        argvs[f"{STARTUP[1]} {label}".strip()] = ([CLI, "--version"], env)
        argvs[f"{STARTUP[2]} {label}".strip()] = ([CLI, "backfill", "--help"], env)
    startup: dict[str, list[dict]] = {c: [] for c in argvs}
    names = list(argvs)
    for r in range(a.startup_rounds):
        for c in names[r % len(names):] + names[:r % len(names)]:
            got = run(*argvs[c])
            startup[c].append({"wall": got["wall"], "cpu": got["cpu"], "rss_kb": got["rss_kb"]})
    uptime.append(os.getloadavg())
    for inp in inputs.values():
        inp["cmds"] = {m: shlex.join(c).replace(ROOT + "/", "") for m, (c, _env) in inp["cmds"].items()}
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "rounds": a.rounds, "startup_rounds": a.startup_rounds, "trees": clis, "inputs": inputs, "samples": samples,
            "startup": startup, "loadavg": uptime}


def summarise(report: dict) -> dict:
    """Medians and ranges per input and mode; the ratios per round (ours ÷ journalctl, entries/s)."""
    out: dict = {}
    for name, by_mode in report["samples"].items():
        n = report["inputs"][name]["entries"]
        ref = {s["round"]: s for s in by_mode["journalctl"]}
        rows = {}
        for mode, ss in by_mode.items():
            walls = [s["wall"] for s in ss]
            cpus = [s["cpu"] for s in ss]
            ratio = [ref[s["round"]]["wall"] / s["wall"] for s in ss if s["round"] in ref]
            cratio = [ref[s["round"]]["cpu"] / s["cpu"] for s in ss if s["round"] in ref]
            rows[mode] = {"wall": statistics.median(walls), "wall_min": min(walls), "wall_max": max(walls),
                          "rate": n / statistics.median(walls), "cpu": statistics.median(cpus),
                          "cpu_rate": n / statistics.median(cpus), "ratio": statistics.median(ratio),
                          "ratio_min": min(ratio), "ratio_max": max(ratio), "cpu_ratio": statistics.median(cratio),
                          "rss_kb": max(s["rss_kb"] for s in ss), "anon_kb": max(s["anon_kb"] for s in ss),
                          "points": ss[0].get("points"), "runs": len(ss)}
        out[name] = rows
    start = {}
    for c, ss in report["startup"].items():
        walls = [s["wall"] for s in ss]
        start[c] = {"wall": statistics.median(walls), "wall_min": min(walls), "wall_max": max(walls),
                    "cpu": statistics.median(s["cpu"] for s in ss), "rss_kb": max(s["rss_kb"] for s in ss),
                    "runs": len(ss)}
    return {"inputs": out, "startup": start}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="rounds of every input × mode (default 7)")
    ap.add_argument("--startup-rounds", type=int, default=21, help="runs of each start-up command (default 21)")
    ap.add_argument("--inputs", default="generated,day", help="comma-separated: " + ", ".join(INPUTS))
    ap.add_argument("--tree", action="append", default=[], metavar="LABEL=DIR",
                    help="measure the package of this checkout (repeatable: A/B in the same rounds; default: this one)")
    ap.add_argument("--json", help="also write the raw samples to this file")
    ap.add_argument("--from-json", help="do not measure: render the samples saved by --json")
    ap.add_argument("--write-docs", action="store_true", help="rewrite the head of docs/benchmarks.md from this run")
    a = ap.parse_args(argv)
    a.inputs = [x for x in a.inputs.split(",") if x]
    if a.from_json:
        with open(a.from_json) as f:
            report = json.load(f)
    else:
        report = measure(a)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    lines = page(report, summarise(report))
    print("\n".join(lines))
    if a.write_docs:
        write_head(lines)
        print("wrote docs/benchmarks.md (above the mark)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
