"""While InfluxDB is down the service's loop does the waiting, not the sink: it waits in ``select`` for the
retry time the writer gave, feeds the watchdog and says the outage in STATUS meanwhile, and answers SIGTERM
within the grace period however long the retry pause. A real daemon on a real .journal file, a real notify
socket, and the fault proxy in front of the real InfluxDB (1.6 behind the v2 shim)."""

from __future__ import annotations

import time

import pytest

from testbed.faultproxy import Fault, FaultProxy

from .service_support import (
    Daemon,
    JournalWriter,
    NotifySocket,
    last_cursor,
    one_model_journal,
    proc_cpu_s,
)


@pytest.fixture
def journal(tmp_path):
    return one_model_journal(tmp_path / "ollama.journal", seed=7, lines=100)


@pytest.fixture
def proxy(influx):
    px = FaultProxy(influx.v2_url).start()
    yield px
    px.stop()


def requests_in(influx, db) -> int:
    rows = influx.query("SELECT count(latency_ms) AS n FROM ollama_request", db=db)
    return rows[0]["n"] if rows else 0


def expected_requests(w: JournalWriter) -> int:
    from ollama_ingest.sources import open_input

    return sum(1 for e in open_input(str(w.path)) if "[GIN]" in e.text)


def test_a_long_outage_is_waited_out_in_the_loop_with_the_watchdog_fed(influx_db, journal, proxy, tmp_path):
    """Every write answered 503 "Retry-After: 4" for 9 s: the loop waits the 4 s the writer said (a pause
    13 × the watchdog's timeout), pinging the watchdog every 0.1 s, idle, STATUS saying what it holds."""
    influx, db = influx_db
    addr = str(tmp_path / "notify.sock")
    ns = NotifySocket(addr)
    d = Daemon(journal.path, proxy.url, db, tmp_path / "state", tmp_path / "d.log",
               env={"NOTIFY_SOCKET": addr, "WATCHDOG_USEC": "300000"})
    try:
        d.start()
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        before = d.checkpoint_cursor()
        proxy.chooser = lambda path: Fault("status", 503, retry_after="4")
        n0, cpu0, t_down = proxy.counts["requests"], proc_cpu_s(d.pid), time.monotonic()
        journal.append(journal.sim.lines(100))
        time.sleep(9.0)
        attempts, cpu = proxy.counts["requests"] - n0, proc_cpu_s(d.pid) - cpu0
        assert d.checkpoint_cursor() == before  # nothing acknowledged: the checkpoint did not move
        proxy.chooser = None
        t_up = time.monotonic()
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        rc, _ = d.stop()
        assert rc == 0, d.log_text()
    finally:
        d.ensure_dead()
        ns.close()
    lines = ns.lines()
    pings = [t for t, ln in lines if ln == "WATCHDOG=1" and t_down <= t <= t_up]
    gaps = [b - a for a, b in zip([t_down, *pings], [*pings, t_up], strict=True)]
    assert len(pings) >= 60 and max(gaps) < 0.3, gaps  # every 0.1 s through the whole outage
    assert 1 <= attempts <= 4, attempts  # Retry-After honoured: at most one write every 4 s (+ the first)
    assert cpu < 0.5, f"{cpu:.2f} s of CPU in 9 s of waiting"
    held = [ln for t, ln in lines if t_down <= t <= t_up and ln.startswith("STATUS=InfluxDB unavailable: holding")]
    assert held and all("holding 0 points" not in ln for ln in held), held
    assert "Retry-After 4 s; holding the batch and retrying" in d.log_text()
    assert requests_in(influx, db) == expected_requests(journal)  # nothing lost, nothing doubled


def test_sigterm_in_a_long_retry_pause_is_answered_within_the_grace_period(influx_db, journal, proxy, tmp_path):
    """The writer said "again in 60 s"; SIGTERM wakes the loop's select at once, the last flush gives up (its
    pause would outlast the 3 s grace) and the process exits 0 before the 4.5 s backstop, without saving
    the checkpoint; a restart writes everything."""
    influx, db = influx_db
    state = tmp_path / "state"
    d = Daemon(journal.path, proxy.url, db, state, tmp_path / "d.log")
    try:
        d.start()
        d.wait_for_cursor(last_cursor(journal.path), timeout=30)
        before = d.checkpoint_cursor()
        proxy.chooser = lambda path: Fault("status", 503, retry_after="60")
        journal.append(journal.sim.lines(100))
        t0 = time.monotonic()
        while "Retry-After 60 s" not in d.log_text():
            assert time.monotonic() - t0 < 20, d.log_text()
            time.sleep(0.05)
        time.sleep(1.0)  # waiting in select for the retry now
        rc, took = d.stop()
    finally:
        d.ensure_dead()
    log = d.log_text()
    assert rc == 0 and took < 3.0, (rc, took, log)
    assert "shutdown took too long" not in log and "did not acknowledge" in log and "Traceback" not in log
    assert d.checkpoint_cursor() == before
    d2 = Daemon(journal.path, influx.v2_url, db, state, tmp_path / "d2.log").start()
    try:
        d2.wait_for_cursor(last_cursor(journal.path), timeout=30)
        assert d2.stop()[0] == 0
    finally:
        d2.ensure_dead()
    assert requests_in(influx, db) == expected_requests(journal)
