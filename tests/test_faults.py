"""Hostile networks and secrets (issue: "Hostile input and hostile networks", items 4 and 5).

A fault-injecting TCP proxy (``testbed.faultproxy``) sits between the sink or the daemon and
the real InfluxDB (1.6 behind the v2 shim): answers slower than the timeout, resets mid-body, truncated
answers, 429 with Retry-After, 503, 413. Nothing is lost, nothing is doubled (identical points overwrite:
points are counted, not requests), the retries are bounded per second, and every fault is counted.
Then the token: never in any output, log or exception text; a config file holding it must be 0600; TLS is
verified unless ``--insecure``. Measurements are printed (run with -s) and go to $OLLAMA_INGEST_BENCH_OUT.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter

import pytest

from ollama_ingest.config import Settings, load_settings
from ollama_ingest.schema.point import Point
from ollama_ingest.service import make_sink
from ollama_ingest.sinks.drain import drain
from ollama_ingest.sinks.influx import InfluxSink
from testbed import V2Shim
from testbed.faultproxy import Fault, FaultProxy
from testbed.journalform import export_entry

from .service_support import (
    ROOT,
    Daemon,
    JournalWriter,
    OllamaSim,
    diff_dumps,
    dump,
    gin,
    last_cursor,
    need_journal_remote,
    service_env,
)

TOKEN = "tok-Q7x-DISTINCTIVE-9c41e0b2"
DEFAULT_BACKOFF_S = Settings.model_fields["max_backoff_s"].default  # the one default of max_backoff_s (5 s)
SETTLE_WAIT_S = 6.5  # held requests + settle_s + a tick (as in test_service_drills)


def record(name: str, values: dict) -> None:
    print(f"\n[{name}] " + json.dumps(values, sort_keys=True))
    out = os.environ.get("OLLAMA_INGEST_BENCH_OUT")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"drill": name, **values}, sort_keys=True) + "\n")


def pts(n: int, t0: int = 1_700_000_000_000_000_000) -> list[Point]:
    return [Point("m", {"host": "h", "i": str(i % 7)}, {"v": float(i), "n": i}, t0 + i) for i in range(n)]


def count(influx, db) -> int:
    rows = influx.query('SELECT count("n") AS c FROM "m"', db=db)
    return rows[0]["c"] if rows else 0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def proxy(influx):
    px = FaultProxy(influx.v2_url).start()
    yield px
    px.stop()



# -- (a) each fault, at the sink ------------------------------------------------------------------------------
FAULTS = {  # name: (what the proxy does, the sink's cause)
    "slow": (Fault("slow", hold_s=1.6), "timeout"),  # the sink's timeout is 1 s; the write lands anyway
    "reset": (Fault("reset"), "connection"),
    "truncate": (Fault("truncate"), "truncated"),  # forwarded: the write lands, its acknowledgement is cut
    "429": (Fault("status", 429, retry_after="1"), "http 429"),
    "503": (Fault("status", 503), "http 503"),
    "413": (Fault("status", 413), "http 413"),
}


@pytest.mark.parametrize("name", FAULTS)
def test_each_fault_is_retried_counted_and_every_point_lands_once(influx_db, proxy, name):
    influx, db = influx_db
    fault, cause = FAULTS[name]
    sink = InfluxSink(proxy.url, "o", db, "t", timeout_s=1.0, max_backoff_s=1.0)
    proxy.schedule.extend([fault, fault])  # the next two requests
    t0 = time.monotonic()
    sink.add(pts(200))
    assert drain(sink)  # returns only once acknowledged
    took = time.monotonic() - t0
    sink.close()
    kind = "status " + str(fault.status) if fault.kind == "status" else fault.kind
    record(f"fault-{name}", {"requests": proxy.counts["requests"], "faults": proxy.counts[kind],
                             "forwarded": proxy.counts["passed"] + (name in ("slow", "truncate")) * 2,
                             "acknowledged_after_s": round(took, 2), "write_errors": dict(sink.write_errors)})
    assert proxy.counts[kind] == 2 and not proxy.schedule
    assert sink.written == 200 and sink.pending == 0 and sink.dropped == 0
    assert count(influx, db) == 200  # exactly once each, however many requests carried them
    assert sink.write_errors == {cause: 2}
    if name in ("slow", "truncate"):  # the database got the batch three times: identical points overwrote
        assert proxy.counts["passed"] == 1
    if name == "413":  # 200 → 100 (refused) → 50 + 50, then the other 100
        assert proxy.counts["requests"] == 5 and proxy.counts["passed"] == 3
    assert took < (5.0 if name in ("slow", "429") else 3.0)  # the backoff starts at 0.5 s (max_backoff_s 1 here)


# -- (b) never spins --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["backoff", "retry-after-0"])
def test_a_database_failing_every_request_is_not_hammered(influx_db, proxy, mode):
    """5 s of failures: attempts per second stay bounded, the process stays idle, then the batch lands."""
    influx, db = influx_db
    if mode == "backoff":  # no Retry-After: resets, truncated answers and bare 503s in turn
        cycle = [Fault("reset"), Fault("truncate"), Fault("status", 503)]
        n = Counter()

        def chooser(path):
            n["i"] += 1
            return cycle[n["i"] % len(cycle)]
    else:  # a server that says "retry now" forever: the 0.1 s floor holds
        def chooser(path):
            return Fault("status", 503, retry_after="0")
    proxy.chooser = chooser
    sink = InfluxSink(proxy.url, "o", db, "t", timeout_s=1.0, max_backoff_s=DEFAULT_BACKOFF_S)
    sink.add(pts(50))
    done = threading.Event()
    errors: list[BaseException] = []

    def flush() -> None:
        try:
            drain(sink)
        except BaseException as exc:
            errors.append(exc)
        done.set()

    cpu0, t0 = time.process_time(), time.monotonic()
    threading.Thread(target=flush, daemon=True).start()
    time.sleep(5.0)
    cpu = time.process_time() - cpu0  # this whole process: the sink, the proxy and the shim
    proxy.chooser = None
    t_off = time.monotonic()
    assert done.wait(15), "the batch was not written after the faults ended"
    recovered = time.monotonic() - t_off
    sink.close()
    seen = [t - t0 for t in proxy.seen]
    during = [t for t in seen if t < 5.0]
    per_s = [sum(1 for t in during if s <= t < s + 1) for s in range(5)]
    worst_later = max(sum(1 for t in during if s <= t < s + 1.0) for s in during if s >= 1.0) if during else 0
    record(f"never-spins-{mode}", {"attempts_per_second": per_s, "worst_1s_window_after_1s": worst_later,
                                  "cpu_s_in_5s": round(cpu, 3), "recovered_after_faults_off_s": round(recovered, 2),
                                  "write_errors": dict(sink.write_errors)})
    assert not errors, errors
    assert count(influx, db) == 50 and sink.dropped == 0
    if mode == "backoff":
        assert worst_later <= 5, per_s
        assert recovered <= DEFAULT_BACKOFF_S + 1.0
    else:
        assert max(per_s) <= 10 and worst_later <= 10, per_s
    assert sum(sink.write_errors.values()) == proxy.faults  # each failed attempt counted, once
    assert cpu < 0.5, f"{cpu:.2f} s of CPU in 5 s while the database failed every request"


def test_a_server_answering_413_to_everything_is_not_hammered_either(influx_db, proxy):
    """413 is not retried as is but split; the halves are paced like retries (before: ~1700 requests/s)."""
    influx, db = influx_db
    pauses: list[float] = []
    sink = InfluxSink(proxy.url, "o", db, "t")
    proxy.chooser = lambda path: Fault("status", 413)
    sink.add(pts(8))
    assert drain(sink, pauses.append)
    assert proxy.counts["requests"] == 15 and sink.write_errors == {"http 413": 15}
    assert pauses == [0.1] * 14  # between the 15 requests: ≤ 10 attempts a second
    assert sink.dropped == 8  # a single point still refused is dropped (and counted), as designed


# -- (c) the daemon through random faults -----------------------------------------------------------------------
def test_daemon_drill_random_faults_nothing_lost_nothing_doubled_every_fault_counted(influx, dbs, proxy, tmp_path):
    need_journal_remote()
    rng = random.Random(5150)
    journal = tmp_path / "ollama.journal"
    w = JournalWriter(journal)
    sim = OllamaSim(random.Random(5151))
    w.append(sim.boot())
    db, clean_db = dbs("drill"), dbs("clean")
    mix = [Fault("slow", hold_s=1.5), Fault("reset"), Fault("truncate"), Fault("status", 429, retry_after="1"),
           Fault("status", 503), Fault("status", 503, retry_after="0"),
           Fault("status", 413, min_lines=2)]  # a 413 for a single line would be a real refusal (dropped)
    fault_rng = random.Random(5152)
    proxy.chooser = lambda path: fault_rng.choice(mix) if fault_rng.random() < 0.4 else None
    d = Daemon(journal, proxy.url, db, tmp_path / "state", tmp_path / "drill.log",
               ["--batch-size", "40", "--flush-interval", "0.2"],
               env={"OLLAMA_INGEST_SELFMON_INTERVAL_S": "0.5", "OLLAMA_INGEST_TIMEOUT_S": "1",
                    "OLLAMA_INGEST_MAX_BACKOFF_S": "1"})
    stop = threading.Event()
    errors: list[BaseException] = []

    def appender() -> None:
        try:
            while not stop.is_set():
                w.append(sim.lines(rng.randint(10, 80)))
                time.sleep(rng.uniform(0.05, 0.3))
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=appender, daemon=True)
    try:
        d.start()
        t.start()
        time.sleep(20)
        proxy.chooser = None  # faults off
        stop.set()
        t.join(30)
        assert not errors, errors
        t_off = time.monotonic()
        d.wait_for_cursor(last_cursor(journal), timeout=60)
        drained = time.monotonic() - t_off
        time.sleep(SETTLE_WAIT_S)
        rc, took = d.stop()
        assert rc == 0 and took < 5, (rc, took, d.log_text()[-2000:])
    finally:
        stop.set()
        d.ensure_dead()
    log = d.log_text()
    got = dump(influx, db)
    c = Daemon(journal, influx.v2_url, clean_db, tmp_path / "state-clean", tmp_path / "clean.log")
    try:
        c.start()
        c.wait_for_cursor(last_cursor(journal), timeout=60)
        time.sleep(1.5)
        assert c.stop()[0] == 0
    finally:
        c.ensure_dead()
    clean = dump(influx, clean_db)
    lost, extra, examples = diff_dumps(clean, got)
    n = sum(len(v) for v in clean.values())
    selfmon = influx.query("SELECT max(write_errors) AS e, last(write_errors) AS last FROM ollama_ingest", db=db)
    faults = {k: v for k, v in proxy.counts.items() if k not in ("requests", "passed", "other")}
    record("fault-drill", {"entries": w.count, "points": n, "requests": proxy.counts["requests"],
                           "faults": faults, "drained_after_faults_off_s": round(drained, 1),
                           "selfmon_write_errors": selfmon[0]["last"] if selfmon else None,
                           "lost": lost, "extra": extra})
    assert n > 500 and {"ollama_request", "ollama_session", "ollama_load"} <= set(clean)
    assert (lost, extra) == (0, 0), "\n".join(examples)
    assert all(faults.get(k, 0) > 0 for k in ("slow", "reset", "truncate", "status 429", "status 503",
                                              "status 413")), faults
    assert selfmon and selfmon[0]["e"] > 0
    assert selfmon[0]["last"] == proxy.faults, (selfmon, faults)  # every fault counted, once
    assert "Traceback" not in log and "dropped it" not in log


# -- (d) secrets ----------------------------------------------------------------------------------------------------
def spawn(args: list[str], env: dict | None = None, token_env: bool = False, log=None) -> subprocess.Popen:
    """The CLI with the token only where asked; stdout and stderr piped, or both to ``log``."""
    e = service_env(env)
    e.pop("OLLAMA_INGEST_TOKEN")
    if token_env:
        e["OLLAMA_INGEST_TOKEN"] = TOKEN
    if log is not None:
        with open(log, "w") as f:
            return subprocess.Popen([sys.executable, "-m", "ollama_ingest.cli", *args], stdin=subprocess.DEVNULL,
                                    stdout=f, stderr=f, env=e, cwd=ROOT)
    return subprocess.Popen([sys.executable, "-m", "ollama_ingest.cli", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e, cwd=ROOT)


EXPECT = {  # name: (exit code, a text showing the path was taken)
    "check ok": (1, "ok   influxdb"),  # the token was really sent (the shim checks it); exit 1: no Ollama here
    "check 401": (1, "refused the token (401"),
    "run 401": (2, "refused the token"),
    "run down": (0, "unreachable"),  # retrying, then SIGTERM
    "backfill dry-run": (0, "ollama_request,"),
    "backfill ok": (0, '"written": 20'),
    "backfill 401": (2, "refused the token"),
    "backfill down": (2, "unreachable"),  # fails fast: nothing answers at the start
}
PER_SOURCE = {  # every error path with the token in the environment; each other source read by run/check/backfill
    "env": {"check ok", "check 401", "run 401", "run down", "backfill dry-run", "backfill 401", "backfill down"},
    "token_file": {"check ok", "run 401", "backfill ok"},
    "config.toml": {"check ok", "run 401", "backfill ok"},
}


def write_export(path) -> str:
    t0 = time.time_ns() // 1000 - 60_000_000
    with open(path, "wb") as f:
        for i in range(20):
            f.write(export_entry([("__REALTIME_TIMESTAMP", str(t0 + i * 1000)), ("_HOSTNAME", "gpu"),
                                  ("_PID", "1617"), ("SYSLOG_IDENTIFIER", "ollama"),
                                  ("_SYSTEMD_UNIT", "ollama.service"), ("MESSAGE", gin(1_000_000 + i))]))
    return str(path)


def test_the_token_never_appears_in_output_logs_or_errors(influx_db, tmp_path):
    need_journal_remote()
    influx, db = influx_db
    journal = tmp_path / "ollama.journal"
    w = JournalWriter(journal)
    sim = OllamaSim(random.Random(3))
    w.append(sim.boot() + sim.lines(60))
    export = write_export(tmp_path / "x.export")
    tok_file = tmp_path / "influx-token"
    tok_file.write_text(TOKEN + "\n")
    tok_file.chmod(0o600)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'token = "{TOKEN}"\norg = "o"\n')
    cfg.chmod(0o644)
    good = V2Shim(influx.url, token=TOKEN).start()  # the token is checked: proves it was really sent
    refusing = V2Shim(influx.url, token="another-token").start()  # 401
    dead = f"http://127.0.0.1:{closed_port()}"
    sources = {  # how the token is given: (extra args, env, token in the environment)
        "env": ([], {}, True),
        "token_file": (["--token-file", str(tok_file)], {}, False),
        "config.toml": ([], {"OLLAMA_INGEST_CONFIG": str(cfg)}, False),
    }
    procs: dict = {}
    try:
        for src, (extra, env, tenv) in sources.items():
            svc = ["--journal-file", str(journal), "--org", "o", "--bucket", db, *extra]
            bf = [export, "--org", "o", "--bucket", db, "--ollama-url", "http://127.0.0.1:9",
                  "--models-dir", str(tmp_path / "none"), *extra]
            runs = {
                "check ok": (["check", *svc, "--url", good.url, "--state-dir", str(tmp_path / f"c-{src}")], False),
                "check 401": (["check", *svc, "--url", refusing.url, "--state-dir", str(tmp_path / "c")], False),
                "run 401": (["-vv", "run", *svc, "--url", refusing.url, "--state-dir", str(tmp_path / f"r1-{src}")],
                            False),
                "run down": (["-vv", "run", *svc, "--url", dead, "--state-dir", str(tmp_path / f"r2-{src}"),
                              "--selfmon-interval", "0.5"], True),
                "backfill dry-run": (["-vv", "backfill", "--dry-run", *bf, "--url", dead], False),
                "backfill ok": (["-vv", "backfill", *bf, "--url", good.url], False),
                "backfill 401": (["-vv", "backfill", *bf, "--url", refusing.url], False),
                "backfill down": (["-vv", "backfill", *bf, "--url", dead], False),
            }
            for name, (args, stop_it) in runs.items():
                if name in PER_SOURCE[src]:
                    log = tmp_path / f"{src}-{name.replace(' ', '-')}.log" if stop_it else None
                    procs[(src, name)] = (spawn(args, env, tenv, log), log)
        for p, log in procs.values():
            if log is not None:  # runs until stopped: once it is retrying (the error path), SIGTERM
                t0 = time.monotonic()
                while "unreachable" not in log.read_text() and time.monotonic() - t0 < 30:
                    time.sleep(0.1)
                p.send_signal(signal.SIGTERM)
        out: dict[tuple[str, str], tuple[int, str]] = {}
        for key, (p, log) in procs.items():
            o, e = p.communicate(timeout=60)
            out[key] = (p.returncode, (o or "") + (e or "") + (log.read_text() if log else ""))
    finally:
        for p, _ in procs.values():
            if p.poll() is None:
                p.kill()
        good.stop()
        refusing.stop()
    for (src, name), (_rc, text) in out.items():
        assert TOKEN not in text, f"{src} / {name}: the token leaked:\n{text}"
        assert "Traceback" not in text, f"{src} / {name}:\n{text}"
    for (src, name), (rc, text) in out.items():  # the error paths were taken (and the right token was used)
        want_rc, want = EXPECT[name]
        assert rc == want_rc and want in text, f"{src} / {name}: exit {rc}\n{text}"
    warned = f"config file {cfg} holds the token and is readable by others (mode 0644)"
    assert all(warned in text for (src, _), (_, text) in out.items() if src == "config.toml")
    assert not any("holds the token" in text for (src, _), (_, text) in out.items() if src != "config.toml")
    assert influx.query('SELECT count(latency_ms) AS n FROM ollama_request', db=db)[0]["n"] == 20


def test_the_token_is_not_in_exception_texts_nor_in_the_settings(influx, monkeypatch, tmp_path):
    monkeypatch.setenv("OLLAMA_INGEST_CONFIG", os.devnull)
    monkeypatch.setenv("OLLAMA_INGEST_TOKEN", TOKEN)
    s = load_settings()
    assert s.resolved_token() == TOKEN
    for text in (repr(s), str(s), s.model_dump_json(), str(s.model_dump())):
        assert TOKEN not in text
    texts: list[str] = []
    refusing = V2Shim(influx.url, token="another-token").start()
    try:
        for url in (refusing.url, f"http://127.0.0.1:{closed_port()}"):
            sink = InfluxSink(url, "o", "b", TOKEN, timeout_s=1.0)
            texts.append(sink.probe(pts(1)[0]).why)
            try:  # the raw attempt: influxdb-client's and urllib3's own exceptions
                sink._request("write", ["m v=1 1"], None, None)
            except Exception as exc:
                texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
            sink.add(pts(1))
            try:
                drain(sink, deadline=time.monotonic() + 0.5)
            except Exception as exc:
                texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
                if exc.__context__ is not None:  # suppressed with `from None`, still reachable
                    texts.append("".join(traceback.format_exception(exc.__context__)))
            sink.client.close()
    finally:
        refusing.stop()
    assert any("refused the token" in t for t in texts) and any("unreachable" in t for t in texts)
    leaked = [t for t in texts if TOKEN in t]
    assert not leaked, leaked[0]


def test_a_config_file_holding_the_token_must_be_0600(tmp_path, monkeypatch, caplog):
    for k in list(os.environ):
        if k.startswith(("OLLAMA_", "INFLUXDB_V2_")) or k == "CREDENTIALS_DIRECTORY":
            monkeypatch.delenv(k)
    cfg = tmp_path / "config.toml"
    monkeypatch.setenv("OLLAMA_INGEST_CONFIG", str(cfg))
    for text, mode, warns in [(f'token = "{TOKEN}"\n', 0o644, True), (f'token = "{TOKEN}"\n', 0o640, True),
                              (f'token = "{TOKEN}"\n', 0o600, False), ('bucket = "b"\n', 0o644, False)]:
        cfg.write_text(text)
        cfg.chmod(mode)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="ollama_ingest.config"):
            load_settings()
        msgs = [r.getMessage() for r in caplog.records]
        assert any(str(cfg) in m and f"mode {mode:04o}" in m and "chmod 600" in m for m in msgs) == warns, msgs
        assert not any(TOKEN in m for m in msgs)


# -- TLS --------------------------------------------------------------------------------------------------------
@pytest.fixture
def tls_proxy(influx, tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (needed to make a self-signed certificate)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    px = FaultProxy(influx.v2_url, paths=("/",), ssl_context=ctx).start()
    yield px
    px.stop()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_is_verified_by_default_and_insecure_turns_it_off_with_a_warning(influx_db, tls_proxy, tmp_path,
                                                                            monkeypatch):
    influx, db = influx_db
    for k in list(os.environ):
        if k.startswith(("OLLAMA_", "INFLUXDB_V2_")):
            monkeypatch.delenv(k)
    monkeypatch.setenv("OLLAMA_INGEST_CONFIG", os.devnull)
    url = tls_proxy.url
    # the defaults: the client verifies (a self-signed certificate is refused, with a hint)
    for sink in (InfluxSink(url, "o", db, "t"), make_sink(load_settings({"url": url, "bucket": db}))):
        conf = sink.client.api_client.configuration
        assert conf.verify_ssl is True
        assert sink.client.api_client.rest_client.pool_manager.connection_pool_kw["cert_reqs"] == ssl.CERT_REQUIRED
        o = sink.probe(pts(1)[0])
        ok, what = o.ok, o.why
        assert not ok and "CERTIFICATE_VERIFY_FAILED" in what and "--insecure" in what and "\n" not in what
        sink.client.close()
    # verify_ssl = false / --insecure: off
    sink = make_sink(load_settings({"url": url, "bucket": db, "verify_ssl": False}))
    assert sink.client.api_client.configuration.verify_ssl is False
    assert sink.client.api_client.rest_client.pool_manager.connection_pool_kw["cert_reqs"] == ssl.CERT_NONE
    assert sink.probe(pts(1)[0]).ok
    sink.client.close()
    # the CLI: backfill --insecure writes (and warns); without it, it fails on the certificate and says why
    export = write_export(tmp_path / "x.export")
    bf = ["backfill", export, "--url", url, "--org", "o", "--bucket", db, "--ollama-url", "http://127.0.0.1:9",
          "--models-dir", str(tmp_path / "none")]
    insecure = spawn([*bf, "--insecure"], token_env=True)
    verified = spawn(bf, token_env=True)
    try:
        o, e = insecure.communicate(timeout=60)
        assert insecure.returncode == 0, e
        assert "TLS certificate verification is off" in e
        time.sleep(1.0)
        verified.send_signal(signal.SIGTERM)
        _, e2 = verified.communicate(timeout=30)
    finally:
        for p in (insecure, verified):
            if p.poll() is None:
                p.kill()
    assert "CERTIFICATE_VERIFY_FAILED" in e2 and "--insecure" in e2, e2
    assert influx.query('SELECT count(latency_ms) AS n FROM ollama_request', db=db)[0]["n"] == 20


# -- backfill's settings -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,expect", [
    ("batch_size = \n", "ollama-ingest: bad config file "),  # was a traceback
    ("bukcet = 'x'\n", "ollama-ingest: unknown setting 'bukcet' in "),
    ("batch_size = 0\n", "ollama-ingest: bad setting batch_size = 0 (in "),
])
def test_backfill_bad_config_is_one_line_and_exit_2(tmp_path, text, expect):
    cfg = tmp_path / "config.toml"
    cfg.write_text(text)
    p = spawn(["backfill", "--dry-run", write_export(tmp_path / "x.export")], {"OLLAMA_INGEST_CONFIG": str(cfg)})
    _, err = p.communicate(timeout=60)
    assert p.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expect) and str(cfg) in lines[0], err


def test_backfill_takes_its_settings_like_run(tmp_path, monkeypatch):
    """config.toml and the environment reach backfill too; its own flags still win (and are named)."""
    cfg = tmp_path / "config.toml"
    cfg.write_text('bucket = "from_toml"\nbatch_size = 7\n')
    p = spawn(["backfill", "--batch-size", "0", "--dry-run", write_export(tmp_path / "x.export")],
              {"OLLAMA_INGEST_CONFIG": str(cfg)})
    _, err = p.communicate(timeout=60)
    assert p.returncode == 2 and err.strip() == "ollama-ingest: bad setting batch_size = 0 (--batch-size): " \
        "Input should be greater than or equal to 1", err
    from ollama_ingest import cli

    monkeypatch.setenv("OLLAMA_INGEST_CONFIG", str(cfg))
    monkeypatch.setenv("OLLAMA_INGEST_MAX_BACKOFF_S", "2.5")
    args = cli.build_parser().parse_args(["backfill", "--org", "cli_org", "x"])
    s = cli._settings(args)
    assert (s.bucket, s.batch_size, s.org, s.max_backoff_s) == ("from_toml", 7, "cli_org", 2.5)
