#!/usr/bin/env python3
"""Where a dry-run backfill's time goes: the same work cut after each stage, each cut a whole process.

    python bench/stages.py bench/data/day-e-200k.export          # 5 rounds, cuts interleaved
    python bench/stages.py bench/data/era-e-1m.journal.d --rounds 3

Cuts (each includes the ones before it): ``python`` (the interpreter alone), ``imports`` (the modules a
dry-run backfill imports), ``read`` (iterate the input as the CLI opens it, reader pre-filter on), ``parse``
(+ ``parse_entry``), ``correlate`` (+ ``Timeline.feed``), ``line protocol`` (+ ``LineProtocolSink`` to
/dev/null, i.e. ``Pipeline.run``), and ``CLI`` (``ollama-ingest backfill INPUT --dry-run``). A stage's cost is
the difference between the medians of its cut and the one before; the CLI's extra is what the command adds
(settings, model names, the summary).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLI = os.path.join(ROOT, ".venv", "bin", "ollama-ingest")

IMPORTS = ("import ollama_ingest.cli, ollama_ingest.backfill, ollama_ingest.pipeline, "
           "ollama_ingest.sources.export, ollama_ingest.sinks.stdout")
_OPEN = IMPORTS + """
import sys
from ollama_ingest.sources import open_input
src = open_input(sys.argv[1], prefilter=True)
"""
CUTS = {
    "python": "pass",
    "imports": IMPORTS,
    "read": _OPEN + "for e in src: pass",
    "parse": _OPEN + """
from ollama_ingest.parse import ParseStats, parse_entry
st = ParseStats()
for e in src: parse_entry(e, st)
""",
    "correlate": _OPEN + """
from ollama_ingest.parse import ParseStats, parse_entry
from ollama_ingest.correlate.timeline import Timeline
st, tl = ParseStats(), Timeline()
for e in src:
    for ev in parse_entry(e, st): tl.feed(ev)
tl.finish()
""",
    "line protocol": _OPEN + """
import os
from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.pipeline import Pipeline
from ollama_ingest.sinks.stdout import LineProtocolSink
with open(os.devnull, "w") as out:
    Pipeline(Timeline(), LineProtocolSink(out)).run([src])
""",
}


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # bytecode kept, as for a user


def run(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cli", default=CLI)
    a = ap.parse_args(argv)
    py = os.path.join(os.path.dirname(a.cli), "python")
    cmds = {name: [py, "-c", code, a.input] for name, code in CUTS.items()}
    cmds["CLI"] = [a.cli, "backfill", a.input, "--dry-run"]
    subprocess.run([py, "-m", "compileall", "-q", os.path.join(ROOT, "ollama_ingest")], check=True, env=ENV,
                   stdout=subprocess.DEVNULL)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    names = list(cmds)
    for r in range(a.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            times[name].append(run(cmds[name]))
    prev = 0.0
    print(f"{'cut':15s} {'median s':>9s} {'min–max s':>13s} {'stage s':>8s}")
    for name in names:
        med = statistics.median(times[name])
        print(f"{name:15s} {med:9.3f} {min(times[name]):6.3f}–{max(times[name]):<6.3f} {med - prev:8.3f}")
        prev = med
    return 0


if __name__ == "__main__":
    sys.exit(main())
