"""1M mutated entries through backfill: every reader and parser sees broken input; nothing may crash.

    python bench/fuzz_backfill.py [--entries 1000000] [--seed 1]

Mutations of real lines from the era fixtures (cuts, inserted bytes incl. NUL/ANSI/invalid UTF-8,
deleted and duplicated spans, swapped fields), written as an export stream with some broken framing
(wrong binary lengths, missing blank lines, truncated fields), then read back by the export reader and
run through parse → correlate → line protocol. Prints the counts: entries, events, noise, skipped by
reason, points. Exit code 1 if anything raised.
"""

from __future__ import annotations

import argparse
import io
import random
import struct
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ollama_ingest.correlate.timeline import Timeline  # noqa: E402
from ollama_ingest.pipeline import Pipeline  # noqa: E402
from ollama_ingest.sinks.stdout import LineProtocolSink  # noqa: E402
from ollama_ingest.sources import open_input  # noqa: E402
from ollama_ingest.sources.export import ExportReader  # noqa: E402

JUNK = [b"\x00", b"\x1b[31m", b"\xff\xfe", b"\xc3", b"\n", b'"', b"\\", b"=", b" msg=", b"[GIN] ", b"time=",
        b"sha256-", b"|", b"\xe2\x80\xa8", b"9" * 30, b"-1", b"\t"]


def real_lines() -> list[bytes]:
    out = []
    for f in sorted((ROOT / "fixtures").glob("era-*.export")):
        for e in open_input(str(f)):
            m = e.message
            out.append(m if isinstance(m, bytes) else m.encode())
    return out


def mutate(rnd: random.Random, line: bytes) -> bytes:
    for _ in range(rnd.randrange(0, 4)):
        i = rnd.randrange(len(line) + 1)
        op = rnd.randrange(5)
        if op == 0:
            line = line[:i]
        elif op == 1:
            line = line[:i] + rnd.choice(JUNK) + line[i:]
        elif op == 2:
            line = line[:i] + line[i + rnd.randrange(1, 20):]
        elif op == 3:
            line = line[:i] + line[i:i + rnd.randrange(1, 40)] * 2 + line[i:]
        else:
            line = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 20))) + line
    return line


def entry(rnd: random.Random, ts: int, msg: bytes) -> bytes:
    fields = [(b"__REALTIME_TIMESTAMP", str(ts).encode()), (b"_HOSTNAME", b"fuzz"), (b"_PID", b"1617"),
              (b"SYSLOG_IDENTIFIER", b"ollama"), (b"_SYSTEMD_UNIT", b"ollama.service"), (b"MESSAGE", msg)]
    if rnd.random() < 0.02:
        fields[rnd.randrange(len(fields))] = (b"_PID", b"x" * rnd.randrange(3))
    out = b""
    for k, v in fields:
        binary = rnd.random() < 0.05 or any(c < 32 and c != 9 for c in v) or b"\n" in v
        if binary:
            n = len(v)
            r = rnd.random()
            if r < 0.01:
                n += rnd.randrange(-5, 50)  # a wrong length
            out += k + b"\n" + struct.pack("<Q", max(0, n)) + v + b"\n"
        else:
            out += k + b"=" + v + b"\n"
    return out + (b"" if rnd.random() < 0.01 else b"\n")  # sometimes no blank line


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    lines = real_lines()
    t0 = time.perf_counter()
    buf = bytearray()
    ts = 1_753_226_783_000_000
    for _ in range(args.entries):
        ts += rnd.randrange(0, 2_000_000)
        buf += entry(rnd, ts, mutate(rnd, rnd.choice(lines)))
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        reader = ExportReader(io.BytesIO(bytes(buf)))
        # every point through line protocol, kept in memory (no writer: nothing is written out)
        stats = Pipeline(Timeline(), LineProtocolSink(io.StringIO())).run([reader])
    except Exception:  # the point of the exercise: report it, exit 1
        traceback.print_exc()
        print("CRASH", file=sys.stderr)
        return 1
    took = time.perf_counter() - t0
    print(f"mutated entries written: {args.entries:,} ({len(buf) / 1e6:.0f} MB, generated in {gen:.1f} s)")
    print(f"read back: {stats['entries']:,} entries in {took:.1f} s ({stats['entries'] / took:,.0f}/s), 0 crashes")
    print(f"events {stats['events']:,}  noise {stats['noise']:,}  ignored {stats['ignored']:,}  "
          f"points {stats['points']:,}  skipped {stats['skipped']:,}")
    for reason, n in sorted(stats["skip_reasons"].items(), key=lambda x: -x[1]):
        print(f"  {n:>9,}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
