#!/usr/bin/env python3
"""The service's checkpoint at realistic states: its size and how long a save takes (the service saves at
most once per ``flush_interval_s``, 1 s by default).

    python bench/checkpoint_size.py [-n 200000]

Feeds a generated journal of each era (bench/gen_journal.py, cached in bench/data/) through the pipeline,
and every ``--every`` entries measures the state as the service would save it: the correlator to JSON
(``codec.to_json``), the document encoded, and the whole ``checkpoint.save`` (temp file, fsync, rename, fsync
of the directory) into a temporary directory. Prints the largest and the median.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ollama_ingest import checkpoint  # noqa: E402
from ollama_ingest.correlate import codec, inventory  # noqa: E402
from ollama_ingest.correlate.timeline import Timeline  # noqa: E402
from ollama_ingest.pipeline import Pipeline  # noqa: E402
from ollama_ingest.sources import open_input  # noqa: E402
from tests.helpers import ListSink  # noqa: E402


class CountingSink(ListSink):
    def add(self, pts) -> None:  # the points are not kept: only the state matters here
        self.written += len(list(pts))


def measure(path: Path, every: int, directory: Path) -> dict:
    names = inventory.names_from(inventory.from_manifests(ROOT / "fixtures" / "models"))
    p = Pipeline(Timeline(names), CountingSink(), writer=None)
    rows = []
    for i, e in enumerate(open_input(str(path)), 1):
        p.feed((e,))
        if i % every == 0:
            t0 = time.perf_counter()
            state = codec.to_json(p.timeline)
            t1 = time.perf_counter()
            cp = checkpoint.Checkpoint(e.cursor or "s=x", e.seq, state, saved_at=time.time(),
                                       open_sessions=p.timeline.open_session_records())
            size = checkpoint.save(directory, cp)
            t2 = time.perf_counter()
            t3 = time.perf_counter()
            codec.from_json(checkpoint.load(directory).correlator)
            t4 = time.perf_counter()
            rows.append({"size": size, "to_json_ms": (t1 - t0) * 1e3, "save_ms": (t2 - t0) * 1e3,
                         "load_ms": (t4 - t3) * 1e3, "recent": len(p.timeline.schema.recent)})
    return {"entries": i, "saves": len(rows),
            **{f"max_{k}": round(max(r[k] for r in rows), 1) for k in rows[0]},
            **{f"median_{k}": round(statistics.median(r[k] for r in rows), 1) for k in rows[0]}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=200_000)
    ap.add_argument("--every", type=int, default=5_000)
    a = ap.parse_args()
    data = ROOT / "bench" / "data"
    data.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for era in ("e", "g"):
            gen = data / f"oracle-{era}-{a.n}.export"
            if not gen.exists():
                subprocess.run([sys.executable, str(ROOT / "bench" / "gen_journal.py"), "--era", era, "-n", str(a.n),
                                "--out", str(gen)], check=True, stderr=subprocess.DEVNULL)
            print(f"era {era}: {measure(gen, a.every, Path(tmp))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
