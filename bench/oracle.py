#!/usr/bin/env python3
"""The refactoring oracle: ``backfill --dry-run`` on every fixture, every scenario and a generated journal.

    python bench/oracle.py OUT_DIR            # writes OUT_DIR/<input>.lp and OUT_DIR/<input>.summary.json
    diff -r BEFORE_DIR AFTER_DIR              # a pure refactoring changes nothing

Run it from a checkout before and after a change (each checkout with its own .venv): the CLI is run as a
user runs it, one whole process per input, so everything from the reader to the line protocol is covered.
The generated journal (200k entries per era, ``bench/gen_journal.py``, fixed seed) is cached in
``bench/data/``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def inputs(n: int) -> list[tuple[str, Path]]:
    out = []
    for p in sorted(FIXTURES.glob("era-*")):
        if p.suffix in (".export", ".json", ".txt"):
            out.append((p.name, p))
    for p in sorted((FIXTURES / "scenarios").glob("*.export")):
        out.append(("scenario-" + p.name, p))
    data = ROOT / "bench" / "data"
    data.mkdir(exist_ok=True)
    for era in ("e", "g"):
        gen = data / f"oracle-{era}-{n}.export"
        if not gen.exists():
            subprocess.run([sys.executable, str(ROOT / "bench" / "gen_journal.py"), "--era", era, "-n", str(n),
                            "--out", str(gen)], check=True, stderr=subprocess.DEVNULL)
        out.append((gen.name, gen))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("-n", type=int, default=200_000, help="entries of each generated journal (200000)")
    ap.add_argument("--cli", default=str(ROOT / ".venv" / "bin" / "ollama-ingest"))
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TZ": "UTC", "LC_ALL": "C.UTF-8", "OLLAMA_HOST": "127.0.0.1:9",
           "OLLAMA_INGEST_CONFIG": os.devnull}
    for name, path in inputs(a.n):
        cmd = [a.cli, "backfill", str(path), "--dry-run", "--models-dir", str(FIXTURES / "models"), "--unit",
               "ollama.service"]
        with open(a.out / f"{name}.lp", "wb") as lp:
            r = subprocess.run(cmd, stdout=lp, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        rc = r.returncode
        # the run's own duration is the one thing in the summary that is not a function of the input
        (a.out / f"{name}.summary.json").write_bytes(re.sub(rb'"seconds": [0-9.]+, ', b"", r.stderr))
        print(f"{name}: exit {rc}, {(a.out / f'{name}.lp').stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
