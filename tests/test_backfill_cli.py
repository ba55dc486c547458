"""The backfill command people can trust (issue 12.2–12.6): fail fast on a database that is not there, bounded
waiting in the middle, TLS errors at once, Ctrl-C / SIGTERM with a summary, whole lines on a full disk,
progress on a terminal only, and a summary for people. Real InfluxDB, real TLS, a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import termios
import time

import pytest

from testbed.faultproxy import Fault, FaultProxy

from .service_support import ROOT, run_cli, service_env

FIX = ROOT / "fixtures"
ERA_E = str(FIX / "era-e.export")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def interruptible() -> None:
    """Ctrl-C as at a terminal: a suite started in the background (`… &` from a script) passes SIGINT on
    ignored, and a process that starts with it ignored rightly keeps ignoring it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(args: list[str], env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ollama_ingest.cli", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=service_env(env),
                            cwd=ROOT, preexec_fn=interruptible, **kw)


def summary_of(stderr: str) -> dict:
    return json.loads(stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def big_export(tmp_path_factory):
    """100k generated entries (85 MB): long enough to be interrupted, to fill a small disk, to show progress."""
    path = tmp_path_factory.mktemp("gen") / "gen.export"
    subprocess.run([sys.executable, str(ROOT / "bench" / "gen_journal.py"), "-n", "100000", "--out", str(path)],
                   check=True, capture_output=True, timeout=300)
    return str(path)


# -- 12.2: fail fast at the start, bounded waiting in the middle -------------------------------------------------
def test_nothing_listening_is_a_clear_error_within_30_s(influx_db):
    _, db = influx_db
    url = f"http://127.0.0.1:{closed_port()}"
    t0 = time.monotonic()
    r = run_cli(["backfill", ERA_E, "--url", url, "--bucket", db], timeout=60)
    took = time.monotonic() - t0
    assert r.returncode == 2 and took < 30, (took, r.stderr)
    assert r.stderr.count("\n") == 1 and url in r.stderr and "--wait" in r.stderr and "Traceback" not in r.stderr


def test_a_silent_listener_is_a_clear_error_within_30_s(influx_db):
    _, db = influx_db
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (the kernel does) and never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        t0 = time.monotonic()
        r = run_cli(["backfill", ERA_E, "--url", url, "--bucket", db], timeout=60)
        took = time.monotonic() - t0
    assert r.returncode == 2 and took < 30, (took, r.stderr)
    assert url in r.stderr and "Traceback" not in r.stderr


def test_wait_waits_for_the_database_to_come(influx_db):
    influx, db = influx_db
    port = closed_port()
    p = spawn(["backfill", ERA_E, "--url", f"http://127.0.0.1:{port}", "--bucket", db, "--wait", "--json"])
    time.sleep(12)  # longer than a backfill without --wait gives it
    assert p.poll() is None, p.communicate()
    px = FaultProxy(influx.v2_url, paths=("/nothing",)).start(port)
    try:
        _, err = p.communicate(timeout=60)
    finally:
        px.stop()
    assert p.returncode == 0, err
    assert "waiting for InfluxDB" in err and summary_of(err)["written"] == 171


def test_an_outage_in_the_middle_says_so_every_10_s_then_stops_and_a_rerun_completes(influx_db, dbs):
    influx, db = influx_db
    px = FaultProxy(influx.v2_url, paths=("/api/v2/write",)).start()
    passed = []

    def chooser(path):  # two writes land, then the database refuses everything
        passed.append(path)
        return None if len(passed) <= 2 else Fault("status", status=503)

    px.chooser = chooser
    try:
        t0 = time.monotonic()
        r = run_cli(["backfill", ERA_E, "--url", px.url, "--bucket", db, "--batch-size", "20", "--max-outage", "13s",
                     "--json"], timeout=90)
        took = time.monotonic() - t0
    finally:
        px.stop()
    assert r.returncode == 1 and 13 <= took < 40, (took, r.stderr)
    assert "unavailable for 10 s" in r.stderr and "Traceback" not in r.stderr
    s = summary_of(r.stderr)
    assert s["status"] == "stopped" and "--max-outage" in s["why"] and s["written"] == 40
    # the rerun (idempotent) completes it: the same points as one clean backfill
    r2 = run_cli(["backfill", ERA_E, "--url", influx.v2_url, "--bucket", db], timeout=60)
    fresh = dbs("fresh")
    r3 = run_cli(["backfill", ERA_E, "--url", influx.v2_url, "--bucket", fresh], timeout=60)
    assert r2.returncode == r3.returncode == 0
    q = 'SELECT count("latency_ms") AS n FROM "ollama_request"'
    assert influx.query(q, db=db) == influx.query(q, db=fresh) == [{"time": 0, "n": 93}]


# -- 12.3: TLS -----------------------------------------------------------------------------------------------------
@pytest.fixture
def tls(influx, tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    px = FaultProxy(influx.v2_url, paths=("/",), ssl_context=ctx).start()
    yield px.url, cert
    px.stop()


def test_a_self_signed_certificate_is_reported_at_once_and_ca_file_trusts_it(influx_db, tls, tmp_path):
    influx, db = influx_db
    url, cert = tls
    t0 = time.monotonic()
    r = run_cli(["backfill", ERA_E, "--url", url, "--bucket", db], timeout=60)
    assert r.returncode == 2 and time.monotonic() - t0 < 10, r.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in r.stderr and "ca_file" in r.stderr and r.stderr.count("\n") == 1
    # `check` names the certificate error, not "no answer from /ping"
    c = run_cli(["check", "--url", url, "--bucket", db, "--journal-file", "/nonexistent.journal",
                 "--state-dir", str(tmp_path / "s")])
    line = next(ln for ln in c.stdout.splitlines() if " influxdb " in ln)
    assert line.startswith("FAIL") and "CERTIFICATE_VERIFY_FAILED" in line and "no answer" not in line
    # the CA, from --ca-file or from influxdb-client's own INFLUXDB_V2_SSL_CA_CERT
    for args, env in [(["--ca-file", str(cert)], {}), ([], {"INFLUXDB_V2_SSL_CA_CERT": str(cert)})]:
        ok = run_cli(["backfill", ERA_E, "--url", url, "--bucket", db, "--json", *args], env, timeout=60)
        assert ok.returncode == 0 and summary_of(ok.stderr)["written"] == 171, ok.stderr
    c = run_cli(["check", "--url", url, "--bucket", db, "--ca-file", str(cert), "--journal-file",
                 "/nonexistent.journal", "--state-dir", str(tmp_path / "s")])
    assert any(ln.startswith("ok   influxdb") for ln in c.stdout.splitlines()), c.stdout


# -- 12.4: interrupting, and a full disk ---------------------------------------------------------------------------
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_stop_with_the_summary_and_no_traceback(influx_db, big_export, sig, code):
    influx, db = influx_db
    px = FaultProxy(influx.v2_url, paths=("/api/v2/write",)).start()
    seen = []

    def chooser(path):  # three writes land, then the database hangs
        seen.append(path)
        return None if len(seen) <= 3 else Fault("slow", hold_s=60)

    px.chooser = chooser
    try:
        p = spawn(["backfill", big_export, "--url", px.url, "--bucket", db, "--batch-size", "500"])
        t0 = time.monotonic()
        while px.counts["slow"] < 1 and time.monotonic() - t0 < 60 and p.poll() is None:
            time.sleep(0.1)
        p.send_signal(sig)
        _, err = p.communicate(timeout=30)
    finally:
        px.stop()
    assert p.returncode == code, err
    assert "Traceback" not in err
    s = summary_of(err)
    assert s["status"] == "interrupted" and s["written"] > 0 and s["entries"] < 100_000
    stored = sum(len(influx.query(f'SELECT * FROM "{m}"', db=db)) for m in s["points_by_measurement"])
    assert stored >= s["written"]  # what it says was written is there (a write held by the proxy landed too)


def test_a_full_disk_is_a_clear_error_and_the_file_ends_with_whole_lines(big_export, tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        out = mnt / "points.lp"
        r = run_cli(["backfill", big_export, "--output", str(out)], timeout=120)
        data = out.read_bytes()
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "No space left on device" in r.stderr
    s = summary_of(r.stderr)
    assert s["status"] == "failed" and 0 < s["written"] < s["points"]
    assert data.endswith(b"\n") and data.count(b"\n") == s["written"]
    assert all(ln.count(b" ") >= 2 and ln.rsplit(b" ", 1)[1].isdigit() for ln in data.splitlines())


def test_dev_full_is_a_clear_error():
    r = run_cli(["backfill", ERA_E, "--output", "/dev/full"], timeout=60)
    assert r.returncode == 1 and "No space left on device" in r.stderr and "Traceback" not in r.stderr


# -- 12.5 / 12.6: progress and the summary on a terminal; JSON elsewhere ------------------------------------------
def run_in_pty(args: list[str], env: dict | None = None, timeout: float = 120) -> tuple[int, str]:
    """The CLI with stderr (and stdout) on a real pseudo-terminal; returns (exit status, what it showed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 40 rows, 120 columns
    p = subprocess.Popen([sys.executable, "-m", "ollama_ingest.cli", *args], stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=slave, env=service_env(env), cwd=ROOT)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not data:
                break
            chunks.append(data)
        elif p.poll() is not None:
            break
    os.close(master)
    return p.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


def test_progress_and_a_readable_summary_on_a_terminal(big_export, tmp_path):
    code, shown = run_in_pty(["backfill", big_export, "--output", str(tmp_path / "x.lp")])
    assert code == 0, shown
    assert "%|" in shown and "entries/s" in shown and "B/s" in shown  # a percentage, a rate, bytes per second
    assert "<" in shown  # tqdm's ETA: elapsed<remaining
    for word in ("covered", "hosts", "models", "unnamed", "--models-dir", "--inventory", "read", "points",
                 "ollama_request", "written"):
        assert word in shown, (word, shown[-2000:])
    assert "{" not in shown.splitlines()[-1]  # not the JSON form


def test_no_progress_and_json_when_stderr_is_not_a_terminal(big_export, tmp_path):
    r = run_cli(["backfill", big_export, "--output", str(tmp_path / "x.lp")], timeout=120)
    assert r.returncode == 0
    assert r.stderr.count("\n") == 1 and "\r" not in r.stderr and "%|" not in r.stderr
    s = json.loads(r.stderr)
    for key in ("entries", "parsed", "events", "noise", "ignored", "skipped", "skip_reasons", "points",
                "points_by_measurement", "hosts", "models", "assumptions", "status", "written"):
        assert key in s, key
    assert s["points"] == sum(s["points_by_measurement"].values()) == s["written"]


def test_json_on_a_terminal_and_dry_run_reports_nothing_written():
    code, shown = run_in_pty(["backfill", ERA_E, "--dry-run", "--json"])
    assert code == 0
    s = json.loads(shown.strip().splitlines()[-1])
    assert "written" not in s and s["points"] == 171
    r = run_cli(["backfill", ERA_E, "--dry-run"])
    assert "written" not in json.loads(r.stderr) and r.stdout.count("\n") == 171


def test_text_input_assumptions_are_in_the_summary():
    code, shown = run_in_pty(["backfill", str(FIX / "era-e.short.txt"), "--dry-run"])
    assert code == 0 and "assumed" in shown and "year" in shown, shown[-1500:]
