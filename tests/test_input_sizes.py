"""One entry per line (or per export entry) at every size, in every reader, from files and from stdin;
a line over the cap is a counted skip, and a huge line costs neither memory nor quadratic time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ollama_ingest.sources import open_input
from testbed.journalform import export_entry

ROOT = Path(__file__).resolve().parent.parent
HEAD = 65536  # what the format sniffer reads first
T0 = 1_721_690_783_000_000
SLOG = "time=2024-07-22T23:26:{s:02d}.{ms:03d}Z level=INFO source=server.go:1 msg=\"line {i}\" pad={pad}"


def _slog(i: int, pad: str = "") -> str:
    return SLOG.format(s=i % 60, ms=i % 1000, i=i, pad=pad or "x")


def _record(fmt: str, i: int, pad: str = "") -> bytes:
    msg = _slog(i, pad)
    if fmt == "export":
        return export_entry([("__REALTIME_TIMESTAMP", str(T0 + i)), ("_HOSTNAME", "h"), ("_PID", "7"),
                             ("_SYSTEMD_UNIT", "ollama.service"), ("SYSLOG_IDENTIFIER", "ollama"), ("MESSAGE", msg)])
    if fmt == "json":
        return json.dumps({"__REALTIME_TIMESTAMP": str(T0 + i), "_HOSTNAME": "h", "_PID": "7",
                           "_SYSTEMD_UNIT": "ollama.service", "MESSAGE": msg}).encode() + b"\n"
    if fmt == "text":
        return f"Jul 22 23:26:{i % 60:02d} h ollama[7]: {msg}\n".encode()
    if fmt == "plain":
        return f"{msg}\n".encode()
    if fmt == "docker-json":
        return json.dumps({"log": msg + "\n", "stream": "stderr", "time": "2024-07-22T23:26:23.5Z"}).encode() + b"\n"
    raise ValueError(fmt)


def _stream(fmt: str, target: int | None = None, count: int | None = None) -> tuple[bytes, int]:
    """(data, records): ``count`` records, or as many as fit in ``target`` bytes exactly (the last padded)."""
    if count is not None:
        return b"".join(_record(fmt, i) for i in range(count)), count
    out, i = [], 0
    size = 0
    while True:
        rec = _record(fmt, i)
        if size + 2 * len(rec) > target:
            break
        out.append(rec)
        size += len(rec)
        i += 1
    last = _record(fmt, i)
    pad = "x" * (target - size - len(last) + 1)
    last = _record(fmt, i, pad)
    assert size + len(last) == target, (size, len(last), target)
    out.append(last)
    return b"".join(out), i + 1


CASES = [("1 record", None, 1), ("2 records", None, 2), ("just under 64 KiB", HEAD - 1, None),
         ("exactly 64 KiB", HEAD, None), ("just over 64 KiB", HEAD + 1, None), ("several MiB", 3 << 20, None)]


@pytest.mark.parametrize("fmt", ["export", "json", "text", "plain", "docker-json"])
@pytest.mark.parametrize("label,target,count", CASES, ids=[c[0] for c in CASES])
def test_one_entry_per_record_from_a_file(tmp_path, fmt, label, target, count):
    data, n = _stream(fmt, target, count)
    p = tmp_path / f"in.{fmt}"
    p.write_bytes(data)
    src = open_input(str(p))
    got = list(src)
    assert src.format == fmt
    assert len(got) == n and not src.skipped, (len(got), n, src.skipped)
    assert got[-1].text.startswith(_slog(n - 1)[:40])


def _cli(args: list[str], stdin: bytes) -> subprocess.CompletedProcess:
    env = {**os.environ, "OLLAMA_INGEST_CONFIG": os.devnull, "OLLAMA_HOST": "127.0.0.1:9", "TZ": "UTC"}
    return subprocess.run([sys.executable, "-m", "ollama_ingest.cli", *args], input=stdin, capture_output=True,
                          env=env, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("fmt", ["export", "json", "text", "plain", "docker-json"])
@pytest.mark.parametrize("label,target,count", CASES[:5], ids=[c[0] for c in CASES[:5]])
def test_one_entry_per_record_from_stdin(fmt, label, target, count):
    data, n = _stream(fmt, target, count)
    r = _cli(["backfill", "-", "--dry-run", "--year", "2024", "--tz", "UTC"], data)
    assert r.returncode == 0, r.stderr.decode()
    summary = json.loads(r.stderr.decode().strip().splitlines()[-1])
    assert summary["entries"] == n and summary["skipped"] == 0, summary


def test_a_line_over_the_cap_is_a_counted_skip_and_the_next_lines_are_read(tmp_path):
    big = "x" * ((1 << 20) + 10)
    lines = [_record("text", 0), f"Jul 22 23:26:01 h ollama[7]: {big}\n".encode(), _record("text", 2)]
    p = tmp_path / "in.txt"
    p.write_bytes(b"".join(lines))
    src = open_input(str(p))
    assert [e.text[:40] for e in src] == [_slog(0)[:40], _slog(2)[:40]]
    assert src.skipped == {"text: line longer than 1 MiB": 1}


def test_an_export_entry_over_the_cap_is_a_counted_skip(tmp_path):
    big = export_entry([("__REALTIME_TIMESTAMP", str(T0)), ("MESSAGE", "y" * (9 << 20))])
    p = tmp_path / "in.export"
    p.write_bytes(_record("export", 0) + big + _record("export", 2))
    src = open_input(str(p))
    assert [e.text[:40] for e in src] == [_slog(0)[:40], _slog(2)[:40]]
    assert src.skipped == {"export: entry longer than 8 MiB": 1}


GIANT = """
import sys
sys.stdout.buffer.write({head!r})
chunk = b"z" * (1 << 20)
for _ in range({mib}):
    sys.stdout.buffer.write(chunk)
sys.stdout.buffer.write(b"\\n" + {tail!r})
"""

# The peak RSS of this process's own memory (VmHWM: reset by exec; getrusage's ru_maxrss is not, it starts
# from the forking parent's, which is a whole pytest run)
MEASURE = """
import sys
from ollama_ingest.sources import open_input
src = open_input("-", {fmt!r})
n = sum(1 for _ in src)
hwm = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:"))
print(n, sum(src.skipped.values()), hwm)
"""


@pytest.mark.parametrize("fmt", ["text", "json", "export"])
def test_a_line_of_hundreds_of_mib_keeps_memory_bounded(fmt):
    """Not a timing test: the reader's peak RSS must not grow with the line (it held and re-copied it)."""
    mib = 300
    head = _record(fmt, 0) + (b"Jul 22 23:26:01 h ollama[7]: " if fmt == "text" else
                              b'{"MESSAGE": "' if fmt == "json" else b"__REALTIME_TIMESTAMP=1\nMESSAGE=")
    tail = (b"\n" if fmt == "export" else b"") + _record(fmt, 2)
    gen = subprocess.Popen([sys.executable, "-c", GIANT.format(head=head, mib=mib, tail=tail)],
                           stdout=subprocess.PIPE)
    r = subprocess.run([sys.executable, "-c", MEASURE.format(fmt=fmt)], stdin=gen.stdout, capture_output=True,
                       text=True, cwd=ROOT, timeout=600)
    gen.stdout.close()
    gen.wait()
    assert r.returncode == 0, r.stderr
    n, skipped, rss_kib = map(int, r.stdout.split())
    assert (n, skipped) == (2, 1)
    assert 0 < rss_kib < 150 * 1024, f"peak RSS {rss_kib} KiB for a {mib} MiB line"
