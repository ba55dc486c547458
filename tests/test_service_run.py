"""``ollama-ingest run`` as systemd runs it: SIGTERM, sd_notify and the watchdog, resume rules, the
checkpoint, config errors, the token. The daemon runs as a subprocess on a real .journal file."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import uuid

import pytest

from ollama_ingest import __version__, checkpoint
from ollama_ingest.correlate import codec
from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.sources.journal import JournalFollower
from testbed import V2Shim

from .service_support import (
    MODELS,
    Daemon,
    JournalWriter,
    Line,
    NotifySocket,
    OllamaSim,
    diff_dumps,
    dump,
    gin,
    last_cursor,
    need_journal_remote,
    one_model_journal,
    run_cli,
    service_env,
    slog,
)


@pytest.fixture
def journal(tmp_path):
    return one_model_journal(tmp_path / "ollama.journal", seed=3, lines=200)


def requests_in(influx, db) -> int:
    rows = influx.query("SELECT count(latency_ms) AS n FROM ollama_request", db=db)
    return rows[0]["n"] if rows else 0


def expected_requests(w: JournalWriter) -> int:
    """[GIN] lines in the journal: one ollama_request point each."""
    from ollama_ingest.sources import open_input

    return sum(1 for e in open_input(str(w.path)) if "[GIN]" in e.text)


# -- SIGTERM -----------------------------------------------------------------------------------------------
def test_sigterm_flushes_commits_and_exits_0(influx_db, journal, tmp_path):
    influx, db = influx_db
    # a flush interval far away: the points are still buffered when SIGTERM comes
    d = Daemon(journal.path, influx.v2_url, db, tmp_path / "state", tmp_path / "d.log",
               ["--flush-interval", "60", "--batch-size", "100000"], env={"OLLAMA_INGEST_SETTLE_S": "-1"})
    d.start()
    try:
        deadline = time.monotonic() + 20
        while "following" not in d.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        assert requests_in(influx, db) == 0  # nothing written yet
        rc, took = d.stop()
    finally:
        d.ensure_dead()
    assert rc == 0 and took < 5, d.log_text()
    assert requests_in(influx, db) == expected_requests(journal)
    assert d.checkpoint_cursor() == last_cursor(journal.path)
    assert "SIGTERM: stopping" in d.log_text() and "stopped:" in d.log_text()


@pytest.mark.parametrize("how", ["stopped", "paused"])
def test_sigterm_while_the_database_is_down_exits_0_within_5s_and_loses_nothing(influx_db, journal, tmp_path, how):
    influx, db = influx_db
    state = tmp_path / "state"
    d = Daemon(journal.path, influx.v2_url, db, state, tmp_path / "d.log")
    d.start()
    try:
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        before = d.checkpoint_cursor()
        if how == "stopped":
            influx.stop_server()  # connections reset: the sink sleeps between retries
        else:
            influx.pause()  # connections hang: a request is in flight when SIGTERM comes
        journal.append(journal.sim.lines(300))
        time.sleep(2.5)
        rc, took = d.stop()
        assert rc == 0 and took < 5, (rc, took, d.log_text())
        assert d.checkpoint_cursor() == before  # nothing acknowledged: the checkpoint did not move
    finally:
        influx.ensure_running()
        d.ensure_dead()
    # after a restart everything arrives
    d2 = Daemon(journal.path, influx.v2_url, db, state, tmp_path / "d2.log").start()
    try:
        d2.wait_for_cursor(last_cursor(journal.path), timeout=30)
        assert d2.stop()[0] == 0
    finally:
        d2.ensure_dead()
    assert requests_in(influx, db) == expected_requests(journal)


# -- sd_notify and the watchdog ---------------------------------------------------------------------------
@pytest.mark.parametrize("abstract", [False, True], ids=["path", "abstract"])
def test_ready_status_watchdog_stopping(influx_db, journal, tmp_path, abstract):
    influx, db = influx_db
    addr = f"@ollama-ingest-test-{uuid.uuid4().hex}" if abstract else str(tmp_path / "notify.sock")
    ns = NotifySocket(addr)
    d = Daemon(journal.path, influx.v2_url, db, tmp_path / "state", tmp_path / "d.log",
               env={"NOTIFY_SOCKET": addr, "WATCHDOG_USEC": "300000"})
    try:
        d.start()
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        time.sleep(1.0)
        influx.stop_server()  # the watchdog keeps being fed while the sink waits for the database
        journal.append(journal.sim.lines(50))
        t_down = time.monotonic()
        time.sleep(1.5)
        influx.start_server()
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        rc, _ = d.stop()
        assert rc == 0
        time.sleep(0.3)
    finally:
        influx.ensure_running()
        d.ensure_dead()
        ns.close()
    lines = ns.lines()
    kinds = [ln.split("=", 1)[0] for _, ln in lines]
    assert kinds[0] == "READY"
    assert f"MAINPID={d.pid}" in [ln for _, ln in lines]
    assert any(ln.startswith("STATUS=following ollama.service") for _, ln in lines)
    assert any(ln.startswith("STATUS=InfluxDB unavailable") for _, ln in lines)
    assert kinds[-2:] == ["STOPPING", "STATUS"] or kinds[-1] == "STOPPING"
    pings = [t for t, ln in lines if ln == "WATCHDOG=1"]
    gaps = [b - a for a, b in zip(pings, pings[1:], strict=False)]
    assert len(pings) >= 15 and max(gaps) < 0.3, gaps  # every 0.1 s, never the 0.3 s timeout
    assert sum(1 for t in pings if t_down < t < t_down + 1.5) >= 8  # also while the database was down


def test_watchdog_pid_of_another_process_is_not_ours(influx_db, journal, tmp_path):
    influx, db = influx_db
    addr = str(tmp_path / "notify.sock")
    ns = NotifySocket(addr)
    d = Daemon(journal.path, influx.v2_url, db, tmp_path / "state", tmp_path / "d.log",
               env={"NOTIFY_SOCKET": addr, "WATCHDOG_USEC": "100000", "WATCHDOG_PID": "1"})
    try:
        d.start()
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        time.sleep(0.5)
        assert d.stop()[0] == 0
    finally:
        d.ensure_dead()
        ns.close()
    assert "WATCHDOG=1" not in [ln for _, ln in ns.lines()]
    assert "READY=1" in [ln for _, ln in ns.lines()]


# -- resume rules -------------------------------------------------------------------------------------------
def test_follower_steps_past_the_cursor_entry_and_numbers_entries_on(journal):
    f = JournalFollower(files=[str(journal.path)])
    assert f.seek() == "head"
    first = [f.next() for _ in range(10)]
    mid = first[6]
    g = JournalFollower(files=[str(journal.path)])
    assert g.seek(mid.cursor, mid.seq) == "resumed"
    e = g.next()
    assert (e.cursor, e.seq, e.message) == (first[7].cursor, first[7].seq, first[7].message)
    h = JournalFollower(files=[str(journal.path)])
    assert h.seek(start_at="tail") == "tail" and h.next() is None
    journal.append([Line(gin(1000, "/api/tags", "GET"))])
    assert h.wait(5) is True
    assert "[GIN]" in h.next().text and h.next() is None
    for x in (f, g, h):
        x.close()


def test_a_cursor_rotated_away_falls_back_to_the_oldest_entry_logged_once(influx_db, journal, tmp_path):
    influx, db = influx_db
    state = tmp_path / "state"
    d = Daemon(journal.path, influx.v2_url, db, state, tmp_path / "d1.log").start()
    try:
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        assert d.stop()[0] == 0
    finally:
        d.ensure_dead()
    # the journal was rotated and vacuumed: a new file (new seqnum id) with newer entries only
    journal.path.unlink()
    journal.append(journal.sim.boot() + journal.sim.lines(150))
    d2 = Daemon(journal.path, influx.v2_url, db, state, tmp_path / "d2.log").start()
    try:
        d2.wait_for_cursor(last_cursor(journal.path), timeout=30)
        assert d2.stop()[0] == 0
    finally:
        d2.ensure_dead()
    log = d2.log_text()
    assert log.count("no longer in") == 1 and "starting again from the oldest entry" in log, log
    f = JournalFollower(files=[str(journal.path)])
    f.seek()
    n = 0
    while f.next() is not None:
        n += 1
    f.close()
    assert checkpoint.load(state).seq == n  # every entry of the new file, numbered from its head


def test_a_state_that_cannot_be_loaded_resumes_from_the_cursor_with_a_fresh_state(influx_db, journal, tmp_path):
    influx, db = influx_db
    state = tmp_path / "state"
    d = Daemon(journal.path, influx.v2_url, db, state, tmp_path / "d1.log").start()
    try:
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        assert d.stop()[0] == 0
    finally:
        d.ensure_dead()
    cp = checkpoint.load(state)
    assert cp.correlator["hosts"] and cp.seq > 0
    # a damaged state, or one of a shape this version does not know
    doc = json.loads((state / "checkpoint").read_bytes())
    doc["correlator"]["hosts"] = {"h": {"loaded": ["not", "an", "id"]}}
    (state / "checkpoint").write_text(json.dumps(doc))
    journal.append(journal.sim.lines(40))
    d2 = Daemon(journal.path, influx.v2_url, db, state, tmp_path / "d2.log").start()
    try:
        d2.wait_for_cursor(last_cursor(journal.path), timeout=30)
        assert d2.stop()[0] == 0
    finally:
        d2.ensure_dead()
    log = d2.log_text()
    assert "cannot be loaded" in log and "resuming after the checkpoint" in log, log
    cp2 = checkpoint.load(state)
    assert cp2.seq > cp.seq  # entry numbers continue from the cursor, not from the head
    entries_read = cp2.counters["entries"] - cp.counters["entries"]
    assert 0 < entries_read <= 40 + 5  # only what came after the cursor was read


def test_a_damaged_checkpoint_is_reported_and_the_journal_read_from_the_head(influx_db, journal, tmp_path):
    influx, db = influx_db
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "checkpoint").write_bytes(b"garbage")
    (state / ".checkpoint.abc.tmp").write_bytes(b"left by a kill")
    d = Daemon(journal.path, influx.v2_url, db, state, tmp_path / "d.log").start()
    try:
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        assert d.stop()[0] == 0
    finally:
        d.ensure_dead()
    assert "is not an ollama-ingest checkpoint" in d.log_text()
    assert not (state / ".checkpoint.abc.tmp").exists()
    assert requests_in(influx, db) == expected_requests(journal)


def test_checkpoint_file_is_atomic_and_json(tmp_path):
    cp = checkpoint.Checkpoint("s=1;i=2", 7, codec.to_json(Timeline()), saved_at=5.0, counters={"entries": 7})
    checkpoint.save(tmp_path, cp)
    raw = (tmp_path / "checkpoint").read_bytes()
    doc = json.loads(raw)
    assert (doc["format"], doc["state_version"], doc["cursor"], doc["seq"]) == \
        ("ollama-ingest checkpoint", checkpoint.STATE_VERSION, "s=1;i=2", 7)
    again = checkpoint.load(tmp_path)
    assert (again.cursor, again.seq, again.counters, again.correlator) == ("s=1;i=2", 7, {"entries": 7}, cp.correlator)
    assert list(tmp_path.iterdir()) == [tmp_path / "checkpoint"]  # no temp file left
    assert oct((tmp_path / "checkpoint").stat().st_mode & 0o777) == "0o600"

    bad = checkpoint.Checkpoint("s=9;i=9", 9, {"not json": object()})
    with pytest.raises(TypeError):
        checkpoint.save(tmp_path, bad)
    assert checkpoint.load(tmp_path).cursor == "s=1;i=2"  # the old one is intact
    assert list(tmp_path.iterdir()) == [tmp_path / "checkpoint"]
    assert checkpoint.load(tmp_path / "nothing-here") is None


# -- a quiet journal -----------------------------------------------------------------------------------------
def test_a_held_request_is_written_while_the_journal_stays_quiet(influx_db, tmp_path):
    """Two models loaded: a chat request is attributed by capability and held for late evidence; with no
    further line it is written once the quiet journal counts as complete (settle_s)."""
    need_journal_remote()
    influx, db = influx_db
    w = JournalWriter(tmp_path / "ollama.journal")
    sim = OllamaSim(random.Random(1))
    lines = sim.boot() + sim.load("gemma3:12b", 8192, 2, False) + sim.load("nomic-embed-text:latest", 2048, 1, True)
    w.append(lines)
    d = Daemon(w.path, influx.v2_url, db, tmp_path / "state", tmp_path / "d.log",
               env={"OLLAMA_INGEST_SETTLE_S": "0.5"})
    try:
        d.start()
        d.wait_for_cursor(last_cursor(w.path), timeout=30)
        w.append([Line(gin(212_345_678, "/api/chat"))])
        t0 = time.time()
        query = "SELECT * FROM ollama_request WHERE latency_ms = 212.345678"
        while not (rows := influx.query(query, db=db)):
            assert time.time() - t0 < 10, d.log_text()
            time.sleep(0.05)
        waited = time.time() - t0
        assert d.stop()[0] == 0
    finally:
        d.ensure_dead()
    assert 3.0 <= waited < 6.0  # held 3 s after its end, then settle_s and the next tick
    assert len(rows) == 1 and rows[0]["attribution"] in ("capability", "ambiguous")  # both wait for evidence


# -- errors: one clear line, exit 2 ----------------------------------------------------------------------------
def test_a_missing_bucket_at_runtime_is_one_clear_line_and_exit_2(influx, journal, tmp_path):
    r = run_cli(["run", "--journal-file", str(journal.path), "--url", influx.v2_url, "--bucket", "nope_nope",
                 "--state-dir", str(tmp_path / "s")])
    assert r.returncode == 2, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ollama-ingest: ") and "nope_nope" in last and "INFLUXDB_V2_BUCKET" in last


def test_the_token_is_never_logged(influx, journal, tmp_path):
    secret = "s3cr3t-T0ken-" + uuid.uuid4().hex
    shim = V2Shim(influx.url, token=secret).start()
    influx.create_database("token_test")
    try:
        # right token, as verbose as it gets
        d = Daemon(journal.path, shim.url, "token_test", tmp_path / "s1", tmp_path / "d.log",
                   env={"OLLAMA_INGEST_TOKEN": secret}, verbose=2).start()
        try:
            d.wait_for_cursor(last_cursor(journal.path), timeout=30)
            assert d.stop()[0] == 0
        finally:
            d.ensure_dead()
        # wrong token: the error names the setting, not the value
        r = run_cli(["-vv", "run", "--journal-file", str(journal.path), "--url", shim.url, "--bucket", "token_test",
                     "--state-dir", str(tmp_path / "s2")], env={"OLLAMA_INGEST_TOKEN": secret[::-1]})
    finally:
        shim.stop()
        influx.drop_database("token_test")
    assert "DEBUG" in d.log_text() and secret not in d.log_text()
    assert r.returncode == 2 and "refused the token" in r.stderr
    assert secret not in r.stderr and secret[::-1] not in r.stderr and secret not in r.stdout


@pytest.mark.parametrize("args,env,key", [
    (["--state-dir", "/etc/passwd/sub"], {}, "state_dir"),
    (["--journal-file", "/nonexistent/x.journal"], {}, "journal_files"),
    ([], {"OLLAMA_INGEST_BATCH_SIZE": "0"}, "batch_size"),
    ([], {"INFLUXDB_V2_URL": "localhost:8086"}, "url"),
])
def test_bad_settings_exit_2_with_one_line_naming_the_key(tmp_path, journal, args, env, key):
    base = ["run", "--journal-file", str(journal.path), "--state-dir", str(tmp_path / "s")]
    r = run_cli(base + args if "--journal-file" not in args else ["run", *args, "--state-dir", str(tmp_path / "s")],
                env=env)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("ollama-ingest:")]
    assert len(lines) == 1 and key in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_signal_is_handled_while_blocked_in_the_journal_wait(influx_db, journal, tmp_path):
    """SIGINT too, and promptly: the select wakes on the signal pipe, not on the next timeout."""
    influx, db = influx_db
    d = Daemon(journal.path, influx.v2_url, db, tmp_path / "state", tmp_path / "d.log",
               ["--selfmon-interval", "0"], env={"OLLAMA_INGEST_SETTLE_S": "-1"})
    d.start()
    try:
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        time.sleep(1.5)
        t0 = time.monotonic()
        d.kill(signal.SIGINT)
        assert d.wait(5) == 0
        assert time.monotonic() - t0 < 1.0
    finally:
        d.ensure_dead()


def test_slog_helper_is_parseable():
    from ollama_ingest.entry import Entry
    from ollama_ingest.parse import ParseStats, parse_entry

    st = ParseStats()
    evs = parse_entry(Entry(ts_us=1, message=slog("llama runner started in 1.00 seconds"), pid=5), st)
    assert len(evs) == 1 and not st.skipped


def test_environment_is_not_inherited_by_accident():
    env = service_env()
    assert "NOTIFY_SOCKET" not in env and env["OLLAMA_INGEST_CONFIG"] == os.devnull
    assert os.environ.get("OLLAMA_INGEST_TOKEN") is None or env["OLLAMA_INGEST_TOKEN"] == "test-token"


def test_model_names_from_the_manifests_and_a_periodic_inventory(influx_db, tmp_path):
    import hashlib

    need_journal_remote()
    influx, db = influx_db
    blob = hashlib.sha256(b"gemma3:12b").hexdigest()  # what OllamaSim puts in --model
    mf = tmp_path / "models/manifests/registry.ollama.ai/library/gemma3/12b"
    mf.parent.mkdir(parents=True)
    mf.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.model",
                                          "digest": f"sha256:{blob}", "size": 8_000_000_000}]}))
    w = JournalWriter(tmp_path / "ollama.journal")
    sim = OllamaSim(random.Random(2))
    w.append(sim.boot() + sim.load("gemma3:12b", 8192, 2, False))
    d = Daemon(w.path, influx.v2_url, db, tmp_path / "state", tmp_path / "d.log",
               ["--models-dir", str(tmp_path / "models")], env={"OLLAMA_INGEST_INVENTORY_INTERVAL_S": "3600"})
    try:
        d.start()
        d.wait_for_cursor(last_cursor(w.path), timeout=30)
        t0 = time.time()
        while not (inv := influx.query("SELECT * FROM ollama_model_inventory", db=db)):
            assert time.time() - t0 < 10, d.log_text()
            time.sleep(0.1)
        assert d.stop()[0] == 0
    finally:
        d.ensure_dead()
    assert [(r["model_name"], r["sha256"], r["size_bytes"]) for r in inv] == [("gemma3:12b", blob, 8_000_000_000)]
    loads = influx.query("SELECT * FROM ollama_load", db=db)
    assert [r["model"] for r in loads] == ["gemma3:12b"]


def test_an_upgrade_keeps_the_state_and_writes_what_one_uninterrupted_run_writes(influx, dbs, tmp_path):
    """Stopped with two models loaded and a request held for evidence; a newer ollama-ingest takes the state
    up (design §10): the database ends up exactly as after one run of either version over the whole journal.
    (0.1.0 started afresh on any version change: the held request was never written, the sessions forked.)"""
    need_journal_remote()
    journal = tmp_path / "ollama.journal"
    w = JournalWriter(journal)
    sim = OllamaSim(random.Random(11), models=[MODELS[0], MODELS[2]])
    w.append(sim.boot() + sim.load("gemma3:12b", 8192, 2, False) + sim.load("nomic-embed-text:latest", 2048, 1, True))
    upgraded, clean = dbs("upgraded"), dbs("upgrade_clean")
    state, env = tmp_path / "state", {"OLLAMA_INGEST_SETTLE_S": "-1"}  # nothing released by the clock alone
    d1 = Daemon(journal, influx.v2_url, upgraded, state, tmp_path / "d1.log", env=env).start()
    try:
        d1.wait_for_cursor(last_cursor(journal), timeout=30)
        assert d1.stop()[0] == 0
    finally:
        d1.ensure_dead()
    cp = checkpoint.load(state)
    assert cp.version == __version__ and len(cp.open_sessions) == 2
    assert sum(len(h["held"]) for h in cp.correlator["hosts"].values()) == 1  # the embed request
    w.append(sim.lines(120))
    d2 = Daemon(journal, influx.v2_url, upgraded, state, tmp_path / "d2.log", env=env)
    d2.cmd[1:3] = ["-c", "import sys, ollama_ingest; ollama_ingest.__version__ = '9.9.9-upgraded'; "
                   "from ollama_ingest.cli import main; sys.exit(main(sys.argv[1:]))"]
    d2.start()
    try:
        d2.wait_for_cursor(last_cursor(journal), timeout=30)
        assert d2.stop()[0] == 0
    finally:
        d2.ensure_dead()
    assert f"saved by ollama-ingest {__version__} (state version {checkpoint.STATE_VERSION}) is taken up by " \
           "9.9.9-upgraded" in d2.log_text(), d2.log_text()
    assert "fresh state" not in d2.log_text() and checkpoint.load(state).version == "9.9.9-upgraded"
    d3 = Daemon(journal, influx.v2_url, clean, tmp_path / "state-clean", tmp_path / "d3.log", env=env).start()
    try:
        d3.wait_for_cursor(last_cursor(journal), timeout=30)
        assert d3.stop()[0] == 0
    finally:
        d3.ensure_dead()
    want = dump(influx, clean)
    lost, extra, examples = diff_dumps(want, dump(influx, upgraded))
    assert sum(map(len, want.values())) > 60
    assert (lost, extra) == (0, 0), "\n".join(examples)


def test_in_process_service_stops_promptly_when_asked(influx_db, journal, tmp_path):
    from ollama_ingest.config import Settings
    from ollama_ingest.service import Service

    influx, db = influx_db
    settings = Settings(url=influx.v2_url, bucket=db, org="o", journal_files=[journal.path],
                        state_dir=tmp_path / "state", selfmon_interval_s=0, inventory_interval_s=0,
                        ollama_url="http://127.0.0.1:9")
    svc = Service(settings, install_signals=False)
    out: list[int] = []
    t = threading.Thread(target=lambda: out.append(svc.run()))
    t.start()
    try:
        deadline = time.monotonic() + 30
        while checkpoint.load(tmp_path / "state") is None or not svc.caught_up:
            assert time.monotonic() < deadline and t.is_alive()
            time.sleep(0.05)
        time.sleep(0.5)  # blocked in the journal wait now
        t0 = time.monotonic()
        svc.request_stop()
        t.join(5)
        assert not t.is_alive() and out == [0]
        assert time.monotonic() - t0 < 1.0
    finally:
        svc.request_stop()
        t.join(10)
    assert checkpoint.load(tmp_path / "state").cursor == last_cursor(journal.path)
    assert svc.sink.pending == 0 and svc.counters()["points_written"] == svc.sink.written > 0
    assert requests_in(influx, db) == expected_requests(journal)


# -- live evidence from /api/ps ------------------------------------------------------------------------------
def test_a_model_that_leaves_api_ps_is_unloaded_with_that_evidence(influx_db, tmp_path):
    import hashlib
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    need_journal_remote()
    influx, db = influx_db
    blob = hashlib.sha256(b"gemma3:12b").hexdigest()
    mf = tmp_path / "models/manifests/registry.ollama.ai/library/gemma3/12b"
    mf.parent.mkdir(parents=True)
    mf.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.model",
                                          "digest": f"sha256:{blob}", "size": 1}]}))
    ps = {"models": [{"name": "gemma3:12b", "model": "gemma3:12b", "digest": "d" * 64,
                      "expires_at": "2099-01-01T00:00:00.123456789Z", "size_vram": 1}]}
    polls = []

    class Api(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            polls.append(self.path)
            body = json.dumps(ps if self.path == "/api/ps" else {"version": "0.12.3"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    w = JournalWriter(tmp_path / "ollama.journal")
    sim = OllamaSim(random.Random(4))
    w.append(sim.boot() + sim.load("gemma3:12b", 8192, 2, False))
    d = Daemon(w.path, influx.v2_url, db, tmp_path / "state", tmp_path / "d.log", ["--models-dir", str(tmp_path / "models")],
               env={"OLLAMA_INGEST_OLLAMA_URL": f"http://127.0.0.1:{api.server_port}",
                    "OLLAMA_INGEST_PS_INTERVAL_S": "0.3", "OLLAMA_INGEST_SETTLE_S": "-1"})
    try:
        d.start()
        d.wait_for_cursor(last_cursor(w.path), timeout=30)
        t0 = time.time()
        while polls.count("/api/ps") < 3:
            assert time.time() - t0 < 10, d.log_text()
            time.sleep(0.05)
        gone_at = time.time()
        ps["models"] = []  # `ollama stop gemma3:12b`
        while not (rows := influx.query('SELECT * FROM ollama_session WHERE "open" = false', db=db)):
            assert time.time() - t0 < 15, d.log_text()
            time.sleep(0.1)
        assert d.stop()[0] == 0
    finally:
        d.ensure_dead()
        api.shutdown()
    (row,) = rows
    assert (row["model"], row["unload_reason"], row["evidence"]) == ("gemma3:12b", "unloaded", "api_ps")
    assert gone_at - 1 <= row["end"] / 1000 <= gone_at + 2  # seen at the first poll after it left
