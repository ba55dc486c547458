"""`run --follow-file`: a log file followed live like `tail -F`, through rotation by rename and by
copytruncate, with its cursor (position + inode + device) checkpointed only after the database acknowledged.
Real files; the service as a subprocess against the test-bed InfluxDB."""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from ollama_ingest.sources.follow import FileFollower, parse_cursor

from .service_support import MODELS, ROOT, Daemon, OllamaSim

GIN = '[GIN] 2024/07/21 - 15:41:03 | 200 |  5.0121123s |       127.0.0.1 | POST     "/api/chat"'


def slog_at(i: int) -> str:
    return f"time=2024-07-21T15:41:{i % 60:02d}.{i % 1000:03d}-07:00 level=INFO source=a.go:1 msg=\"line {i}\""


def append(path: Path, *lines: str, end: str = "\n") -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(x + end for x in lines))


def drain(f: FileFollower) -> list[str]:
    out = []
    while (e := f.next()) is not None:
        out.append(e.text)
    return out


def test_lines_in_order_a_partial_line_waits_for_its_end(tmp_path):
    p = tmp_path / "ollama.log"
    append(p, slog_at(0), slog_at(1))
    f = FileFollower(str(p))
    assert f.seek() == "head"
    assert drain(f) == [slog_at(0), slog_at(1)] and f.seq == 2
    assert f.cursor.startswith(f"file:{p.stat().st_dev}:{p.stat().st_ino}:{p.stat().st_size}:")
    with open(p, "a") as fh:
        fh.write(slog_at(2)[:20])
    assert f.wait(1.0) is True and drain(f) == []  # not a line yet
    append(p, slog_at(2)[20:])
    assert f.wait(1.0) is True and drain(f) == [slog_at(2)]
    assert f.wait(0.3) is False  # nothing new: the timeout
    r, w = os.pipe()
    os.write(w, b"x")
    t0 = time.monotonic()
    assert f.wait(5.0, r) is False and time.monotonic() - t0 < 1  # a wake-up (a signal) ends the wait
    os.close(r)
    os.close(w)
    f.close()


def test_rotation_by_rename_and_by_copytruncate(tmp_path):
    p = tmp_path / "ollama.log"
    append(p, slog_at(0))
    f = FileFollower(str(p))
    f.seek()
    assert drain(f) == [slog_at(0)]
    append(p, slog_at(1))  # written before the rename: read from the old file
    os.rename(p, tmp_path / "ollama.log.1")
    assert f.wait(1.0) is True
    assert drain(f) == [slog_at(1)]
    append(p, slog_at(2), slog_at(3))  # the new file at the path
    assert f.wait(1.0) is True
    assert drain(f) == [slog_at(2), slog_at(3)]
    shutil.copy(p, tmp_path / "ollama.log.2")  # copytruncate
    with open(p, "r+") as fh:
        fh.truncate(0)
    append(p, slog_at(4))
    assert f.wait(1.0) is True
    assert drain(f) == [slog_at(4)]
    assert f.seq == 5
    f.close()


def test_resume_at_a_cursor_on_the_same_file_a_renamed_one_or_lost(tmp_path):
    p = tmp_path / "ollama.log"
    append(p, *[slog_at(i) for i in range(4)])
    f = FileFollower(str(p))
    f.seek()
    f.next(), f.next()
    cursor, seq = f.cursor, f.seq
    f.close()
    g = FileFollower(str(p))
    assert g.seek(cursor, seq) == "resumed" and drain(g) == [slog_at(2), slog_at(3)] and g.seq == 4
    g.close()
    # rotated by rename while stopped: the rest of the old file first, then the new one
    os.rename(p, tmp_path / "ollama.log.1")
    append(p, slog_at(9))
    h = FileFollower(str(p))
    assert h.seek(cursor, seq) == "resumed" and drain(h) == [slog_at(2), slog_at(3), slog_at(9)]
    h.close()
    # the old file gone too: lost, from the head of the path
    (tmp_path / "ollama.log.1").unlink()
    k = FileFollower(str(p))
    assert k.seek(cursor, seq) == "lost" and drain(k) == [slog_at(9)] and k.seq == 1
    k.close()
    assert parse_cursor("s=abc;i=1") is None


def test_start_at_the_tail_and_a_file_not_there_yet(tmp_path):
    p = tmp_path / "later.log"
    f = FileFollower(str(p))
    assert f.seek(start_at="tail") == "tail" and f.next() is None
    append(p, slog_at(0))
    assert f.wait(1.0) is True and drain(f) == [slog_at(0)]
    append(p, slog_at(1))
    g = FileFollower(str(p))
    assert g.seek(start_at="tail") == "tail" and g.next() is None
    append(p, slog_at(2))
    assert g.wait(1.0) and drain(g) == [slog_at(2)]


def test_a_docker_json_file_log_is_followed(tmp_path):
    p = tmp_path / "c-json.log"

    def rec(line, t, nl=True):
        return json.dumps({"log": line + ("\n" if nl else ""), "stream": "stderr", "time": t})

    append(p, rec(slog_at(0), "2024-07-21T22:41:00.5Z"), rec(GIN[:30], "2024-07-21T22:41:03.1Z", nl=False))
    f = FileFollower(str(p), host="box")
    f.seek()
    assert drain(f) == [slog_at(0)]  # the split line waits for its rest
    append(p, rec(GIN[30:], "2024-07-21T22:41:03.2Z"))
    assert f.wait(1.0)
    (e,) = [f.next()]
    assert e.text == GIN and e.host == "box" and e.ts_us == 1721601663_200000


# -- the service -------------------------------------------------------------------------------------------
class FileDaemon(Daemon):
    def __init__(self, path: Path, url: str, bucket: str, state_dir: Path, log: Path, args=None, env=None):
        super().__init__(path, url, bucket, state_dir, log, args, env)
        i = self.cmd.index("--journal-file")
        self.cmd[i:i + 2] = ["--follow-file", str(path), "--host", "docker-host"]

    def wait_for_cursor(self, prefix: str, timeout: float = 60.0) -> float:
        """Until the checkpoint's cursor is at the given file and offset (everything acknowledged up to it)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if (self.checkpoint_cursor() or "").startswith(prefix):
                return time.monotonic() - t0
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"the daemon exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"checkpoint did not reach {prefix} in {timeout} s:\n{self.log_text()[-3000:]}")


def _now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class JsonFileWriter:
    """Writes Ollama's lines as Docker's json-file driver does; rotates like Docker (rename) or logrotate."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sim = OllamaSim(random.Random(7), models=[MODELS[0]])
        self.gins = 0

    def write(self, lines) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            for ln in lines:
                if ln.kind != "ollama":
                    continue
                msg = ln.message if isinstance(ln.message, str) else ln.message.decode("utf-8", "replace")
                self.gins += msg.startswith("[GIN]")
                f.write(json.dumps({"log": msg + "\n", "stream": "stderr", "time": _now_rfc3339()}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def cursor(self) -> str:
        st = self.path.stat()
        return f"file:{st.st_dev}:{st.st_ino}:{st.st_size}:"  # the line's length and checksum follow


def requests_in(influx, db) -> int:
    rows = influx.query("SELECT count(latency_ms) AS n FROM ollama_request WHERE host = 'docker-host'", db=db)
    return rows[0]["n"] if rows else 0


def test_the_service_follows_a_docker_log_through_both_rotations_and_restarts(influx_db, tmp_path):
    influx, db = influx_db
    log = tmp_path / "abc-json.log"
    w = JsonFileWriter(log)
    w.write(w.sim.boot() + w.sim.lines(120))
    state = tmp_path / "state"
    d = FileDaemon(log, influx.v2_url, db, state, tmp_path / "d1.log").start()
    try:
        d.wait_for_cursor(w.cursor(), timeout=60)
        # Docker's max-size: the file is renamed, a new one takes the path
        w.write(w.sim.lines(40))
        os.rename(log, tmp_path / "abc-json.log.1")
        w.write(w.sim.lines(60))
        d.wait_for_cursor(w.cursor(), timeout=60)
        assert d.stop()[0] == 0
    finally:
        d.ensure_dead()
    assert "rotated" in d.log_text()
    # while stopped: more lines, then logrotate's copytruncate
    w.write(w.sim.lines(50))
    shutil.copy(log, tmp_path / "abc-json.log.2")
    with open(log, "r+") as fh:
        fh.truncate(0)
    w.write(w.sim.lines(30))
    d2 = FileDaemon(log, influx.v2_url, db, state, tmp_path / "d2.log").start()
    try:
        d2.wait_for_cursor(w.cursor(), timeout=60)
        # truncated while running, too
        with open(log, "r+") as fh:
            fh.truncate(0)
        w.write(w.sim.lines(40))
        d2.wait_for_cursor(w.cursor(), timeout=60)
        assert d2.stop()[0] == 0
    finally:
        d2.ensure_dead()
    text = d2.log_text()
    assert "rotated while stopped: reading the rest of" in text and "abc-json.log.2" in text, text[-3000:]
    assert "was truncated" in text, text[-3000:]
    # every [GIN] line, exactly once: the 50 lines cut away with the copytruncate were read from the copy
    assert requests_in(influx, db) == w.gins
    assert parse_cursor(d2.checkpoint_cursor()) is not None


def test_run_follow_file_refuses_what_cannot_be_followed(tmp_path):
    import subprocess

    from .service_support import service_env

    p = tmp_path / "x.export"
    p.write_text("__CURSOR=s=1\n__REALTIME_TIMESTAMP=1\nMESSAGE=x\n\n")
    r = subprocess.run([sys.executable, "-m", "ollama_ingest.cli", "run", "--follow-file", str(p), "--state-dir",
                        str(tmp_path / "s"), "--url", "http://127.0.0.1:9"], capture_output=True, text=True,
                       env=service_env(), cwd=ROOT, timeout=60)
    assert r.returncode != 0 and "cannot be followed" in r.stderr, r.stderr

