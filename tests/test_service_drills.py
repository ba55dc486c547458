"""The service's drills, end to end: the daemon as a subprocess following a real .journal file that
systemd-journal-remote appends to while it runs, writing into the real InfluxDB (1.6 behind the v2 shim).

- kill drill: SIGKILL at random moments while the journal grows; the database equals a clean run;
- outage drill: InfluxDB down for 30 s while entries keep coming: nothing lost, RSS bounded, logged twice;
- poison drill: one point with a conflicting field type: only it is dropped, and counted;
- latency: journal append → queryable point (p50 ≤ 1.5 s), and ~0 % CPU while the journal is quiet.

Measurements are printed (run with -s to see them) and written to $OLLAMA_INGEST_BENCH_OUT if set.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import threading
import time

import pytest

from .service_support import (
    Daemon,
    JournalWriter,
    Line,
    OllamaSim,
    diff_dumps,
    dump,
    gin,
    last_cursor,
    need_journal_remote,
    proc_cpu_s,
    proc_rss,
    slog,
)

SETTLE_WAIT_S = 6.5  # held requests (3 s after their end) + settle_s (2 s) + a tick: the journal is "complete"


def record(name: str, values: dict) -> None:
    print(f"\n[{name}] " + json.dumps(values, sort_keys=True))
    out = os.environ.get("OLLAMA_INGEST_BENCH_OUT")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"drill": name, **values}, sort_keys=True) + "\n")



def clean_run(influx, journal, db: str, tmp_path, tag: str = "clean") -> dict:
    """One uninterrupted run of the service over the finished journal; the database's contents."""
    d = Daemon(journal, influx.v2_url, db, tmp_path / f"state-{tag}", tmp_path / f"{tag}.log")
    d.start()
    try:
        d.wait_for_cursor(last_cursor(journal), timeout=120)
        time.sleep(1.5)  # the tick after catching up: advance + open-session upsert, flushed
        rc, _ = d.stop()
        assert rc == 0, d.log_text()
    finally:
        d.ensure_dead()
    return dump(influx, db)


# -- kill drill ----------------------------------------------------------------------------------------------
def test_kill_drill_sigkill_20_times_while_the_journal_grows(influx, dbs, tmp_path):
    need_journal_remote()
    rng = random.Random(20260)
    journal = tmp_path / "ollama.journal"
    w = JournalWriter(journal)
    sim = OllamaSim(random.Random(7))
    w.append(sim.boot())
    killed_db, clean_db = dbs("killed"), dbs("clean")
    # small batches and a short flush interval: many writes and checkpoints to be killed in the middle of
    d = Daemon(journal, influx.v2_url, killed_db, tmp_path / "state", tmp_path / "killed.log",
               ["--batch-size", "40", "--flush-interval", "0.2", "--selfmon-interval", "0.5"])
    done = threading.Event()
    errors: list[BaseException] = []

    def appender() -> None:
        try:
            while not done.is_set():
                w.append(sim.lines(rng.randint(10, 120)))
                time.sleep(rng.uniform(0.0, 0.12))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    t = threading.Thread(target=appender, daemon=True)
    kills = []
    try:
        d.start()
        t.start()
        for _ in range(20):
            time.sleep(rng.uniform(0.2, 1.6))
            kills.append(proc_cpu_s(d.pid) if d.alive() else None)
            d.kill(signal.SIGKILL)
            assert d.wait(10) == -signal.SIGKILL
            d.start()
        done.set()
        t.join(30)
        assert not errors, errors
        w.append(sim.lines(50))  # after the last restart too
        d.wait_for_cursor(last_cursor(journal), timeout=120)
        time.sleep(SETTLE_WAIT_S)
        rc, took = d.stop()
        assert rc == 0 and took < 5, (rc, took, d.log_text()[-2000:])
    finally:
        done.set()
        d.ensure_dead()
    killed = dump(influx, killed_db)
    clean = clean_run(influx, journal, clean_db, tmp_path)
    lost, extra, examples = diff_dumps(clean, killed)
    n = sum(len(v) for v in clean.values())
    record("kill", {"runs": d.starts, "kills": len(kills), "entries": w.count, "points": n,
                    "lost": lost, "duplicated_or_extra": extra})
    assert n > 1000 and {"ollama_request", "ollama_session", "ollama_load", "ollama_event"} <= set(clean)
    assert (lost, extra) == (0, 0), "\n".join(examples)
    assert "Traceback" not in d.log_text()


# -- outage drill -----------------------------------------------------------------------------------------------
def test_outage_drill_influxdb_down_30s(influx, dbs, tmp_path):
    need_journal_remote()
    rng = random.Random(30)
    journal = tmp_path / "ollama.journal"
    w = JournalWriter(journal)
    sim = OllamaSim(random.Random(31))
    w.append(sim.boot())
    db, clean_db = dbs("outage"), dbs("outage_clean")
    d = Daemon(journal, influx.v2_url, db, tmp_path / "state", tmp_path / "outage.log",
               ["--selfmon-interval", "1"])
    rss: list[tuple[float, int]] = []
    stop_appending = threading.Event()
    appended = {"during": 0}
    phase = {"down": False}

    def appender() -> None:
        while not stop_appending.is_set():
            lines = sim.lines(rng.randint(150, 250))
            w.append(lines)
            if phase["down"]:
                appended["during"] += len(lines)
            time.sleep(0.1)

    t = threading.Thread(target=appender, daemon=True)
    try:
        d.start()
        t.start()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5:
            rss.append((time.monotonic() - t0, proc_rss(d.pid)))
            time.sleep(0.25)
        before = max(r for _, r in rss[-8:])
        influx.stop_server()
        phase["down"] = True
        t_down = time.monotonic()
        during: list[int] = []
        while time.monotonic() - t_down < 30:
            during.append(proc_rss(d.pid))
            time.sleep(0.25)
        influx.start_server()
        phase["down"] = False
        t_up = time.monotonic()
        time.sleep(3)
        stop_appending.set()
        t.join(30)
        d.wait_for_cursor(last_cursor(journal), timeout=120)
        recovered_s = time.monotonic() - t_up
        time.sleep(SETTLE_WAIT_S)
        rc, took = d.stop()
        assert rc == 0, d.log_text()[-2000:]
    finally:
        stop_appending.set()
        influx.ensure_running()
        d.ensure_dead()
    log = d.log_text()
    got = dump(influx, db)
    clean = clean_run(influx, journal, clean_db, tmp_path)
    lost, extra, examples = diff_dumps(clean, got)
    growth = max(during) - before
    record("outage", {"entries_during_outage": appended["during"], "rss_before_mb": round(before / 2**20, 1),
                      "rss_max_during_mb": round(max(during) / 2**20, 1), "rss_growth_mb": round(growth / 2**20, 2),
                      "caught_up_after_s": round(recovered_s, 1), "lost": lost, "extra": extra,
                      "outage_lines": log.count("holding the batch"), "recovery_lines": log.count("InfluxDB is back")})
    assert appended["during"] > 3000
    assert (lost, extra) == (0, 0), "\n".join(examples)
    assert growth < 8 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB while the database was down"
    assert log.count("holding the batch") == 1, log
    assert log.count("InfluxDB is back") == 1, log


# -- poison drill -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("v2_conflicts", [False, True], ids=["1.x-400", "2.x-422"])
def test_poison_drill_one_conflicting_point_is_dropped_and_counted(influx, dbs, tmp_path, v2_conflicts):
    need_journal_remote()
    journal = tmp_path / "ollama.journal"
    w = JournalWriter(journal)
    sim = OllamaSim(random.Random(5))
    db, clean_db = dbs("poison"), dbs("poison_clean")
    # someone wrote ollama_event's `seconds` as a string before: the next float `seconds` (a VRAM-recovery
    # timeout) conflicts. Per shard: a point an hour either side of now covers the test's points.
    now_ns = time.time_ns()
    for t in (now_ns - 3600 * 10**9, now_ns + 3600 * 10**9):
        influx_write(influx, db, f'ollama_event,host=elsewhere,kind=x seconds="five" {t}')
    lines = sim.lines(300)
    lines[150:150] = [Line(slog("gpu VRAM usage didn't recover within timeout", level="WARN",
                                source="sched.go:647", seconds="5.0031"))]
    w.append(sim.boot() + lines + sim.lines(100))
    influx.shim.v2_conflicts = v2_conflicts
    d = Daemon(journal, influx.v2_url, db, tmp_path / "state", tmp_path / "poison.log",
               ["--selfmon-interval", "0.5"])
    try:
        d.start()
        d.wait_for_cursor(last_cursor(journal), timeout=60)
        time.sleep(SETTLE_WAIT_S)
        rc, _ = d.stop()
        assert rc == 0
    finally:
        influx.shim.v2_conflicts = False
        d.ensure_dead()
    log = d.log_text()
    got = dump(influx, db)
    clean = clean_run(influx, journal, clean_db, tmp_path)
    lost, extra, examples = diff_dumps(clean, got)
    dropped = [r for m, rows in clean.items() for r in rows if m == "ollama_event" and "seconds" in dict(r)]
    selfmon = influx.query("SELECT last(dropped) AS dropped FROM ollama_ingest", db=db)
    record("poison", {"status": 422 if v2_conflicts else 400, "lost": lost, "extra": extra,
                      "dropped_counted": selfmon[0]["dropped"] if selfmon else None})
    assert len(dropped) == 1 and lost == 1, "\n".join(examples)  # exactly the poisoned point is missing
    assert extra == 2  # the two `elsewhere` points written before (not in the clean database)
    assert {dict(r)["host"] for r in set(got["ollama_event"]) - set(clean["ollama_event"])} == {"elsewhere"}
    assert selfmon and selfmon[0]["dropped"] == 1
    assert log.count("InfluxDB rejected a point, dropped it") == 1, log
    assert "field type conflict" in log


def influx_write(influx, db: str, line: str) -> None:
    import urllib.request

    req = urllib.request.Request(f"{influx.url}/write?db={db}&precision=n", data=line.encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 204


# -- latency and idle CPU ----------------------------------------------------------------------------------------------
def test_latency_append_to_queryable_and_idle_cpu(influx, dbs, tmp_path):
    need_journal_remote()
    rng = random.Random(11)
    journal = tmp_path / "ollama.journal"
    w = JournalWriter(journal)
    sim = OllamaSim(random.Random(12))
    w.append(sim.boot())
    db = dbs("latency")
    d = Daemon(journal, influx.v2_url, db, tmp_path / "state", tmp_path / "latency.log")
    lat: list[float] = []
    try:
        d.start()
        d.wait_for_cursor(last_cursor(journal), timeout=60)
        for i in range(25):
            time.sleep(rng.uniform(0.2, 0.9))
            t_in = w.append([Line(gin(rng.randint(10_000, 900_000), "/api/tags", "GET"))])
            while True:
                rows = influx.query("SELECT count(latency_ms) AS n FROM ollama_request", db=db)
                if rows and rows[0]["n"] >= i + 1:
                    lat.append(time.time() - t_in)
                    break
                if time.time() - t_in > 10:
                    raise AssertionError(f"point {i} not queryable after 10 s:\n{d.log_text()[-2000:]}")
                time.sleep(0.01)
        # quiet journal: CPU over 10 s
        time.sleep(2)
        c0, t0 = proc_cpu_s(d.pid), time.monotonic()
        time.sleep(10)
        idle = (proc_cpu_s(d.pid) - c0) / (time.monotonic() - t0)
        rc, took = d.stop()
        assert rc == 0
    finally:
        d.ensure_dead()
    lat.sort()
    p50, p95 = statistics.median(lat), lat[int(round(0.95 * (len(lat) - 1)))]
    record("latency", {"samples": len(lat), "p50_s": round(p50, 3), "p95_s": round(p95, 3),
                       "max_s": round(lat[-1], 3), "idle_cpu_percent": round(idle * 100, 3),
                       "stop_s": round(took, 2)})
    assert p50 <= 1.5, lat
    assert idle < 0.01, f"{idle * 100:.2f} % CPU while the journal is quiet"
