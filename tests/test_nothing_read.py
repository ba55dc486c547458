"""Never a silent zero: an input without a single Ollama line (not a log, empty, a journal without the unit,
a wrong --unit, a format forced wrongly, a window that holds nothing) is an error on stderr that says what
was seen, with a non-zero exit, through the real command line."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testbed.journalform import export_entry

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
JOURNAL_REMOTE = shutil.which("systemd-journal-remote") or "/lib/systemd/systemd-journal-remote"
GIN = '[GIN] 2024/06/01 - 13:52:46 | 200 |  1.5s |       127.0.0.1 | POST     "/api/chat"'


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OLLAMA_INGEST_CONFIG": os.devnull, "OLLAMA_HOST": "127.0.0.1:9", "TZ": "UTC"}
    return subprocess.run([sys.executable, "-m", "ollama_ingest.cli", "backfill", *args, "--dry-run"], input=stdin,
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode != 0, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    return r.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("make,says", [
    (lambda p: p.write_bytes(gzip.compress(GIN.encode())), "is gzip-compressed data, not a log: zcat"),
    (lambda p: shutil.copy(sys.executable, p), "is an ELF executable, not a log"),
    (lambda p: p.write_bytes(os.urandom(8192)), "does not look like a log"),
    (lambda p: p.write_bytes(b""), "is empty (0 bytes)"),
    (lambda p: p.write_text("hello\nworld\n"), "no line of the input has a time"),
    (lambda p: p.mkdir(), "is a directory without journal files"),
])
def test_inputs_that_are_not_ollama_logs(tmp_path, make, says):
    p = tmp_path / "input"
    make(p)
    assert says in error(cli(str(p)))


def test_stdin_that_is_empty_says_so():
    assert "stdin is empty" in error(cli("-", stdin=""))


def test_a_forced_format_that_does_not_fit_says_what_was_seen():
    msg = error(cli(str(FIXTURES / "era-e.short.txt"), "--input-format", "export"))
    assert "could be read as export" in msg and "--input-format" in msg
    msg = error(cli(str(FIXTURES / "era-e.export"), "--input-format", "json"))
    assert "json: line is not JSON" in msg


def test_a_wrong_unit_names_the_units_there_are():
    msg = error(cli(str(FIXTURES / "era-e.export"), "--unit", "olama.service"))
    assert "none of olama.service" in msg and "ollama.service" in msg


def test_a_window_without_entries_says_which_window():
    msg = error(cli(str(FIXTURES / "era-e.export"), "--since", "2031-01-01"))
    assert "no entries between 2031-01-01" in msg


def test_reversed_since_and_until():
    msg = error(cli(str(FIXTURES / "era-e.export"), "--since", "2025-08-01", "--until", "2025-07-01"))
    assert "--since" in msg and "is after --until" in msg


def test_one_silent_input_among_good_ones_still_writes_the_good_ones(tmp_path):
    (tmp_path / "noise.log").write_text("llama_model_loader: - kv 0\nprint_info: file format = GGUF V3\n")
    r = cli(str(FIXTURES / "era-e.export"), str(tmp_path / "noise.log"))
    msg = error(r)
    assert "noise.log: 2 lines read as plain, none of them Ollama's" in r.stderr or "no line of the input" in msg
    assert r.stdout.count("ollama_request,") > 10


@pytest.mark.skipif(not os.path.exists(JOURNAL_REMOTE), reason="systemd-journal-remote not installed")
def test_a_journal_without_the_unit(tmp_path):
    data = export_entry([("__REALTIME_TIMESTAMP", "1721690783639029"), ("_HOSTNAME", "h"), ("_PID", "9"),
                         ("_SYSTEMD_UNIT", "cron.service"), ("SYSLOG_IDENTIFIER", "cron"), ("MESSAGE", "job")])
    (tmp_path / "in.export").write_bytes(data)
    out = tmp_path / "j" / "x.journal"
    out.parent.mkdir()
    subprocess.run([JOURNAL_REMOTE, "-o", str(out), str(tmp_path / "in.export")], check=True, capture_output=True)
    for target in (out, out.parent):
        msg = error(cli(str(target)))
        assert "no entries of ollama.service in" in msg and "none named like ollama" in msg


def test_many_unrecognised_lines_are_said_and_listed_with_v(tmp_path):
    lines = ["Jun 01 13:52:46 h ollama[7]: " + GIN] + ["some pasted shell prompt $ ls"] * 30 + ["● ollama.service"] * 4
    p = tmp_path / "paste.txt"
    p.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "OLLAMA_INGEST_CONFIG": os.devnull, "OLLAMA_HOST": "127.0.0.1:9", "TZ": "UTC"}
    r = subprocess.run([sys.executable, "-m", "ollama_ingest.cli", "-v", "backfill", str(p), "--dry-run"],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "34 of 35 records not recognised as text" in r.stderr
    assert "30 × 'some pasted shell prompt $ ls'" in r.stderr and "4 × '● ollama.service'" in r.stderr
    summary = json.loads(r.stderr.strip().splitlines()[-1])
    assert summary["inputs"][0]["unrecognised"][0] == ["some pasted shell prompt $ ls", 30]

