"""How ``ollama-ingest run`` starts and what it says to systemd: READY only once InfluxDB took the token
(or a deliberate wait for it), STATUS that tells the truth during an outage and after a failure, a gap
in the journal written and counted, counters that survive a fresh state, /api/ps asked before reading
when the story is already under way, and a state directory that only one ``run`` may use."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ollama_ingest import checkpoint
from testbed import V2Shim

from .service_support import (
    Daemon,
    JournalWriter,
    NotifySocket,
    OllamaSim,
    last_cursor,
    need_journal_remote,
    one_model_journal,
    run_cli,
)


@pytest.fixture
def journal(tmp_path):
    return one_model_journal(tmp_path / "ollama.journal", seed=5, lines=120)


def run_once(journal, url: str, db: str, state, log, env: dict | None = None) -> Daemon:
    """Start, wait until everything is acknowledged, stop (exit 0)."""
    d = Daemon(journal.path, url, db, state, log, env=env).start()
    try:
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        assert d.stop()[0] == 0, d.log_text()
    finally:
        d.ensure_dead()
    return d


def last_selfmon(influx, db: str) -> dict:
    rows = influx.query("SELECT * FROM ollama_ingest WHERE entries > 0 ORDER BY time DESC LIMIT 1", db=db)
    return rows[0] if rows else {}


# -- READY and STATUS ----------------------------------------------------------------------------------------
def test_a_refused_token_never_says_ready_and_status_says_why(influx_db, journal, tmp_path):
    influx, db = influx_db
    shim = V2Shim(influx.url, token="the-right-token").start()
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    try:
        d = Daemon(journal.path, shim.url, db, tmp_path / "state", tmp_path / "d.log",
                   env={"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "OLLAMA_INGEST_TOKEN": "a-wrong-token"})
        rc = d.start().wait(30)
        time.sleep(0.3)
    finally:
        shim.stop()
        ns.close()
    lines = [ln for _, ln in ns.lines()]
    assert rc == 2, d.log_text()
    assert "READY=1" not in lines, lines  # systemctl start/restart fails instead of reporting "Started"
    status = [ln for ln in lines if ln.startswith("STATUS=failed: ")]
    assert status and "refused the token" in status[-1], lines
    assert not any("a-wrong-token" in ln or "the-right-token" in ln for ln in lines)


def test_ready_comes_after_the_first_write_or_says_it_waits_for_the_database(influx_db, journal, tmp_path):
    influx, db = influx_db
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify.sock")}
    down = Daemon(journal.path, "http://127.0.0.1:9", db, tmp_path / "s1", tmp_path / "down.log", env=env)
    try:
        d = Daemon(journal.path, influx.v2_url, db, tmp_path / "s0", tmp_path / "d.log", env=env).start()
        while not any(ln == "READY=1" for _, ln in ns.lines()):
            assert d.alive(), d.log_text()
            time.sleep(0.01)
        ready_wall = time.time()
        first = influx.query("SELECT * FROM ollama_ingest ORDER BY time ASC LIMIT 1", db=db)
        assert d.stop()[0] == 0
        ns.messages.clear()
        down.start()  # InfluxDB unreachable: READY all the same, saying so; it keeps running
        t0 = time.monotonic()
        while not any(ln == "READY=1" for _, ln in ns.lines()):
            assert down.alive() and time.monotonic() - t0 < 20, down.log_text()
            time.sleep(0.05)
        time.sleep(1.0)
        assert down.alive()
        assert down.stop()[0] == 0
    finally:
        down.ensure_dead()
        ns.close()
    assert first and first[0]["entries"] >= 0 and first[0]["time"] / 1e9 <= ready_wall  # written before READY
    statuses = [ln for _, ln in ns.lines() if ln.startswith("STATUS=")]
    assert "InfluxDB unavailable at the start" in statuses[0] and "waiting" in statuses[0], statuses


def test_status_counts_the_points_held_while_a_batch_is_retried(influx_db, journal, tmp_path):
    influx, db = influx_db
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    d = Daemon(journal.path, influx.v2_url, db, tmp_path / "state", tmp_path / "d.log",
               env={"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "OLLAMA_INGEST_SETTLE_S": "-1"})
    try:
        d.start()
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        influx.stop_server()
        journal.append(journal.sim.lines(60))
        t0 = time.monotonic()
        while not any("InfluxDB unavailable: holding" in ln for _, ln in ns.lines()):
            assert time.monotonic() - t0 < 20, d.log_text()
            time.sleep(0.05)
        time.sleep(1.0)
        influx.start_server()
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        assert d.stop()[0] == 0
    finally:
        influx.ensure_running()
        d.ensure_dead()
        ns.close()
    held = [int(m.group(1)) for _, ln in ns.lines() if (m := re.search(r"holding (\d+) points", ln))]
    assert held and min(held) > 0, held  # the batch being retried is held too


# -- a gap in the journal, counters across a fresh state ------------------------------------------------------
def test_a_vacuumed_cursor_writes_the_gap_and_counts_it(influx_db, journal, tmp_path):
    influx, db = influx_db
    state = tmp_path / "state"
    run_once(journal, influx.v2_url, db, state, tmp_path / "d1.log")
    since_us = int(checkpoint.load(state).cursor.split("t=")[1].split(";")[0], 16)
    time.sleep(1.5)  # Ollama logs on while the service is stopped; then the journal is vacuumed
    journal.path.unlink()
    journal.append(journal.sim.boot() + journal.sim.lines(60))
    from ollama_ingest.sources import open_input

    until_us = next(iter(open_input(str(journal.path)))).ts_us
    run_once(journal, influx.v2_url, db, state, tmp_path / "d2.log")
    (gap,) = influx.query("SELECT * FROM ollama_event WHERE kind = 'journal_gap'", db=db)
    assert gap["time"] == since_us * 1000 and gap["until"] == until_us // 1000
    assert gap["gap_s"] == pytest.approx((until_us - since_us) / 1e6) and gap["gap_s"] > 1.4
    assert last_selfmon(influx, db)["journal_gaps"] == 1
    journal.append(journal.sim.lines(20))  # an ordinary restart: the count stays
    run_once(journal, influx.v2_url, db, state, tmp_path / "d3.log")
    assert last_selfmon(influx, db)["journal_gaps"] == 1
    assert len(influx.query("SELECT * FROM ollama_event WHERE kind = 'journal_gap'", db=db)) == 1


def _unloadable_state(state) -> None:
    """A correlator state of another shape (as a newer version's, or a damaged one, would be)."""
    doc = json.loads((state / "checkpoint").read_bytes())
    doc["correlator"] = {"names": {}, "hosts": {"h": {"colour": "red"}}, "recent": {}}
    (state / "checkpoint").write_text(json.dumps(doc))


def _legacy_file(state) -> None:
    """The same checkpoint in 0.1.0's format: a JSON header, then a pickle (never loaded)."""
    doc = json.loads((state / "checkpoint").read_bytes())
    header = {k: doc[k] for k in ("cursor", "seq", "saved_at", "counters", "open")} | {"version": "0.1.0"}
    (state / "checkpoint").write_bytes(b"OLLAMA-INGEST-CHECKPOINT 1\n" + json.dumps(header).encode() +
                                       b"\n\x80\x04\x8c\x0fnosuch.module.x\x94\x8c\x01X\x94\x93\x94.")


@pytest.mark.parametrize("spoil", [_unloadable_state, _legacy_file], ids=["unloadable", "0.1-file"])
def test_the_counters_go_on_across_a_fresh_state(influx_db, journal, tmp_path, spoil):
    influx, db = influx_db
    state = tmp_path / "state"
    run_once(journal, influx.v2_url, db, state, tmp_path / "d1.log")
    before = last_selfmon(influx, db)
    assert before["entries"] >= 120
    spoil(state)
    journal.append(journal.sim.lines(40))
    d2 = run_once(journal, influx.v2_url, db, state, tmp_path / "d2.log")
    assert "fresh state" in d2.log_text()
    after = last_selfmon(influx, db)
    assert before["entries"] + 25 <= after["entries"] <= before["entries"] + 45, (before, after)  # 40 lines, not cron's
    assert after["points_written"] > before["points_written"]


class _Ps(BaseHTTPRequestHandler):
    models = [{"name": "gemma3:12b", "model": "gemma3:12b", "digest": "d" * 64,
               "expires_at": "2099-01-01T00:00:00Z", "size_vram": 1}]

    def do_GET(self):  # noqa: N802
        body = json.dumps({"models": self.models} if self.path == "/api/ps" else {"version": "0.12.3"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.mark.parametrize("fresh", [True, False], ids=["fresh-state", "trusted-state"])
def test_a_fresh_state_asks_api_ps_before_reading(influx_db, journal, tmp_path, fresh):
    """Resuming mid-story with a fresh correlator: one /api/ps poll goes through the pipeline before the
    first journal entry, so the correlator knows what Ollama has loaded (the parsers' side adopts it)."""
    from ollama_ingest.config import Settings
    from ollama_ingest.service import Service

    influx, db = influx_db
    state = tmp_path / "state"
    run_once(journal, influx.v2_url, db, state, tmp_path / "d1.log")
    if fresh:
        _unloadable_state(state)
    api = ThreadingHTTPServer(("127.0.0.1", 0), _Ps)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    svc = Service(Settings(url=influx.v2_url, bucket=db, org="o", journal_files=[journal.path], state_dir=state,
                           ollama_url=f"http://127.0.0.1:{api.server_port}", ps_interval_s=2,
                           inventory_interval_s=0, token="t"), install_signals=False)
    try:
        svc.setup()  # positions the reader; reads nothing yet
        polled = {name for st in svc.pipeline.timeline.hosts.values() for name in st.ps_prev}
        assert svc.pipeline.stats.entries == 0
    finally:
        for close in (svc.follower.close, svc.lock.release, svc.sink.client.close, api.shutdown):
            close()
    assert polled == ({"gemma3:12b"} if fresh else set())


# -- one run per state directory --------------------------------------------------------------------------------
def test_a_second_run_on_the_same_state_dir_is_refused(influx_db, journal, tmp_path):
    influx, db = influx_db
    state = tmp_path / "state"
    d = Daemon(journal.path, influx.v2_url, db, state, tmp_path / "d.log").start()
    try:
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        r = run_cli(["run", "--journal-file", str(journal.path), "--url", influx.v2_url, "--bucket", db,
                     "--state-dir", str(state)])
        assert d.alive()
        check = run_cli(["check", "--journal-file", str(journal.path), "--url", influx.v2_url, "--bucket", db,
                         "--state-dir", str(state), "--ollama-url", "http://127.0.0.1:9"])
        assert d.stop()[0] == 0
    finally:
        d.ensure_dead()
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    (line,) = [ln for ln in r.stderr.splitlines() if ln.startswith("ollama-ingest:")]
    assert f"is in use by another `ollama-ingest run` (pid {d.pid})" in line and str(state) in line
    assert f"in use by the running service (pid {d.pid})" in check.stdout


def test_a_checkpoint_path_that_is_a_directory_is_one_clear_line(influx_db, journal, tmp_path):
    influx, db = influx_db
    (tmp_path / "state" / "checkpoint").mkdir(parents=True)
    args = ["--journal-file", str(journal.path), "--url", influx.v2_url, "--bucket", db,
            "--state-dir", str(tmp_path / "state")]
    r = run_cli(["run", *args])
    check = run_cli(["check", *args, "--ollama-url", "http://127.0.0.1:9"])
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    (line,) = [ln for ln in r.stderr.splitlines() if ln.startswith("ollama-ingest:")]
    assert "checkpoint is a directory" in line and "state_dir" in line
    state_line = next(ln for ln in check.stdout.splitlines() if ln.split()[1] == "state")
    assert state_line.startswith("FAIL") and "is a directory" in state_line


def test_the_lock_file_names_its_owner_and_is_released(tmp_path):
    from ollama_ingest.config import ConfigError
    from ollama_ingest.statedir import StateLock

    lock = StateLock.acquire(tmp_path)
    with pytest.raises(ConfigError, match=r"in use by another"):
        StateLock.acquire(tmp_path)  # a second open file description: flock refuses it
    assert StateLock.holder(tmp_path) is not None
    lock.release()
    assert StateLock.holder(tmp_path) is None
    StateLock.acquire(tmp_path).release()


# -- the sessions open when the state is lost --------------------------------------------------------------------
@pytest.fixture
def loaded(tmp_path, influx_db):
    """A journal whose model is still loaded at its end, ingested once: (influx, db, state, journal)."""
    need_journal_remote()
    influx, db = influx_db
    w = JournalWriter(tmp_path / "loaded.journal")
    sim = OllamaSim(random.Random(6))
    w.append(sim.boot() + sim.load("gemma3:12b", 8192, 2, False))
    run_once(w, influx.v2_url, db, tmp_path / "state", tmp_path / "d1.log")
    return influx, db, tmp_path / "state", w


def test_the_checkpoint_header_holds_the_open_sessions_as_written(loaded):
    influx, db, state, _w = loaded
    (rec,) = checkpoint.load(state).open_sessions
    (row,) = influx.query("SELECT * FROM ollama_session GROUP BY *", db=db)
    assert row["open"] is True and (row["time"], row["host"], row["model"], row["series"], row["blob"]) == \
        (rec.start_ns, rec.host, rec.model, rec.series, rec.blob)


def test_a_fresh_state_takes_up_the_sessions_that_were_open(loaded):
    from ollama_ingest.config import Settings
    from ollama_ingest.service import Service

    influx, db, state, w = loaded
    (rec,) = checkpoint.load(state).open_sessions
    _unloadable_state(state)
    svc = Service(Settings(url=influx.v2_url, bucket=db, org="o", journal_files=[w.path], state_dir=state,
                           ollama_url="http://127.0.0.1:9", inventory_interval_s=0, token="t"),
                  install_signals=False)
    try:
        svc.setup()
        taken = [(s.start_ns, svc.pipeline.timeline.series(s)) for st in svc.pipeline.timeline.hosts.values()
                 for s in st.loaded]
    finally:
        for close in (svc.follower.close, svc.lock.release, svc.sink.client.close):
            close()
    assert taken == [(rec.start_ns, rec.series)]
