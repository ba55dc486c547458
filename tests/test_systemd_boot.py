"""The service under a real systemd: a Debian bookworm container booted with systemd as PID 1, an Ollama
host in it (a stand-in ``ollama.service`` that logs real era-E lines, which name no model, and a models
tree like fixtures/models that only the group ``ollama`` may read), ollama-ingest installed exactly as
README's "Installing on an Ollama host" says, writing to InfluxDB 1.6 behind the v2 shim on the host's
loopback (the container shares the host's network).

The container and the install are one session fixture (``bed``: tests/ollama_host.py, tests/bootbed.py);
the tests below run in order on it. Measurements are printed (-s) and appended to
$OLLAMA_INGEST_BENCH_OUT if set. A host that cannot boot a container skips them, saying why.
"""

from __future__ import annotations

import random
import re
import statistics
import threading
import time
import uuid

import pytest

from testbed import ollamalog as ol

from .ollama_host import MODELS_DIR, SETTLE_WAIT_S, make_bed, record, step, wait_for
from .service_support import COMPARE_EXCLUDE, Daemon, diff_dumps, dump

_failed: list[tuple[str, str]] = []  # pytest retries a failed session fixture for every test: not this one


@pytest.fixture(scope="session")
def bed(influx):
    if _failed:
        how, why = _failed[0]
        if how == "skip":
            pytest.skip(f"{why} (as for the first test)")
        pytest.fail(f"{why} (as for the first test)", pytrace=False)
    try:
        yield from make_bed(influx)
    except pytest.skip.Exception as exc:
        _failed.append(("skip", str(exc)))
        raise
    except Exception as exc:
        _failed.append(("fail", f"the container setup failed: {str(exc)[:300]}"))
        raise


# -- the install ---------------------------------------------------------------------------------------
def test_readme_install_steps_work_as_written(bed):
    install = step(bed, "systemd/install.sh")
    # the token file was still empty: install.sh leaves the unit disabled and says what to do
    assert bed.enabled_after_install == "disabled", install.stderr
    assert "influx-token is empty" in install.stderr and "systemctl enable --now" in install.stderr
    assert bed.m.sh("command -v ollama-ingest").stdout.strip() == "/usr/local/bin/ollama-ingest"
    check = step(bed, "ollama-ingest check")
    got = {ln.split()[1]: ln for ln in check.stdout.splitlines()}
    assert list(got) == ["journal", "models", "ollama", "influxdb", "state"], check.stdout
    assert all(ln.startswith("ok ") for ln in got.values()), check.stdout + check.stderr
    assert f"{MODELS_DIR}: 11 manifests readable" in got["models"]
    assert "token from /etc/ollama-ingest/influx-token" in got["influxdb"]
    assert bed.token not in check.stdout + check.stderr
    assert "Environment= OLLAMA_HOST, OLLAMA_MODELS" in check.stderr  # the unit's, from install.sh's drop-in
    assert bed.m.sh("systemctl is-enabled ollama-ingest; systemctl is-active ollama-ingest").stdout.split() == \
        ["enabled", "active"]
    record("boot-install", bed.times)


# -- points, names, latency ------------------------------------------------------------------------------
def test_points_arrive_with_names_from_the_manifests(bed):
    half = bed.take(len(bed.lines) // 2)
    for i in range(0, len(half), 40):
        bed.say(half[i:i + 40])
        time.sleep(0.05)
    bed.wait_caught_up()
    loads = bed.influx.query("SELECT * FROM ollama_load", db=bed.db)
    sessions = bed.influx.query("SELECT * FROM ollama_session", db=bed.db)
    assert loads and sessions
    unnamed = sorted({r["model"] for r in loads + sessions if r["model"].startswith("sha256:")})
    assert not unnamed, unnamed  # the log names no model: every name came from the manifests
    inventory = bed.influx.query("SELECT * FROM ollama_model_inventory", db=bed.db)
    assert len({r["model_name"] for r in inventory}) == 11 and all(r["sha256"] for r in inventory)
    # one line at a time: Ollama prints it → the point is queryable
    lat = []
    for i in range(10):
        ms = 1.0 + i / 1000 + random.random() / 10**6
        t0 = time.monotonic()
        bed.say([ol.gin("2025/07/23 - 09:00:00", 200, f"{ms:.6f}ms", "127.0.0.1", "GET", "/api/version").encode()])
        q = f"SELECT latency_ms FROM ollama_request WHERE latency_ms = {float(f'{ms:.6f}')}"
        wait_for(lambda q=q: bed.influx.query(q, db=bed.db), 20, every=0.02)
        lat.append(time.monotonic() - t0)
    record("boot-latency", {"samples": len(lat), "p50_s": round(statistics.median(lat), 3),
                            "max_s": round(max(lat), 3)})
    assert statistics.median(lat) <= 1.5


def test_no_false_warnings_and_the_sandbox_reaches_journal_and_api(bed):
    warnings = bed.journal("ollama-ingest", "-p", "warning")
    assert warnings.strip() == "", warnings
    props = bed.m.unit("ollama-ingest", "PrivateIPC", "PrivateDevices", "PrivateUsers", "ProtectHome")
    assert props == {"PrivateIPC": "yes", "PrivateDevices": "yes", "PrivateUsers": "yes", "ProtectHome": "yes"}
    seen = bed.seen()
    assert seen.get("/api/ps", 0) > 0 and seen.get("/api/tags", 0) > 0, seen  # loopback from inside the sandbox


# -- SIGKILL: nothing lost, nothing doubled ---------------------------------------------------------------
def test_three_sigkills_lose_and_double_nothing(bed, tmp_path):
    rng = random.Random(11)
    m = bed.m
    done = threading.Event()
    errors: list[BaseException] = []

    def ollama_logs() -> None:
        try:
            while not done.is_set() and len(bed.lines) > 40:
                bed.say(bed.take(rng.randint(5, 25)))
                time.sleep(rng.uniform(0.1, 0.5))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    t = threading.Thread(target=ollama_logs, daemon=True)
    t.start()
    try:
        for _ in range(3):
            time.sleep(rng.uniform(1.0, 4.0))
            before = int(m.unit("ollama-ingest", "NRestarts")["NRestarts"])
            m.sh("systemctl kill --signal=SIGKILL ollama-ingest")
            # Restart=on-failure brings it back after RestartSec=10
            wait_for(lambda b=before: m.unit("ollama-ingest", "NRestarts", "ActiveState") ==
                      {"NRestarts": str(b + 1), "ActiveState": "active"}, 60, lambda: bed.journal("ollama-ingest"))
    finally:
        done.set()
        t.join(30)
    assert not errors, errors
    bed.say(bed.take(len(bed.lines)))
    bed.wait_caught_up()
    time.sleep(SETTLE_WAIT_S)
    m.sh("systemctl stop ollama-ingest")
    killed = dump(bed.influx, bed.db)
    # the reference: one uninterrupted run over the same journal, on the host
    ref_db = "boot_ref_" + uuid.uuid4().hex[:8]
    bed.influx.create_database(ref_db)
    try:
        d = Daemon(m.path("/var/log/journal"), bed.influx.v2_url, ref_db, tmp_path / "state", tmp_path / "ref.log",
                   ["--models-dir", str(m.path(MODELS_DIR))])
        d.cmd[d.cmd.index("--journal-file")] = "--journal-dir"
        d.start()
        try:
            d.wait_for_cursor(bed.last_cursor(), timeout=120)
            time.sleep(1.5)
            assert d.stop()[0] == 0, d.log_text()
        finally:
            d.ensure_dead()
        clean = dump(bed.influx, ref_db)
    finally:
        bed.influx.drop_database(ref_db)
    lost, extra, examples = diff_dumps(clean, killed)
    n = sum(len(v) for v in clean.values())
    record("boot-kill", {"kills": 3, "points": n, "lost": lost, "duplicated_or_extra": extra})
    assert n > 100 and {"ollama_request", "ollama_session", "ollama_load"} <= set(clean) - COMPARE_EXCLUDE
    assert (lost, extra) == (0, 0), "\n".join(examples)
    own = m.sh("journalctl _SYSTEMD_UNIT=ollama-ingest.service -p warning --no-pager -o cat").stdout
    assert own.strip() == "", own  # a SIGKILL and a restart are nothing to warn about
    m.sh("systemctl start ollama-ingest")


# -- a wrong token --------------------------------------------------------------------------------------------
def test_a_wrong_token_fails_the_restart_and_status_says_why(bed):
    m = bed.m
    m.sh("echo -n wrong-token > /etc/ollama-ingest/influx-token")
    r = m.sh("systemctl restart ollama-ingest", check=False, timeout=120)
    props = m.unit("ollama-ingest", "ActiveState", "StatusText", "NRestarts")
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert props["ActiveState"] == "failed" and "refused the token" in props["StatusText"], props
    time.sleep(12)  # RestartSec=10: exit code 2 must not be restarted
    assert m.unit("ollama-ingest", "NRestarts", "ActiveState") == \
        {"NRestarts": props["NRestarts"], "ActiveState": "failed"}
    m.sh(f"echo -n {bed.token} > /etc/ollama-ingest/influx-token && systemctl restart ollama-ingest")
    assert m.sh("systemctl is-active ollama-ingest").stdout.strip() == "active"


def test_security_exposure_is_at_most_2(bed):
    out = bed.m.sh("systemd-analyze security ollama-ingest --no-pager").stdout
    exposure = float(re.search(r"Overall exposure level for ollama-ingest\.service: ([0-9.]+)", out).group(1))
    record("boot-security", {"exposure": exposure})
    assert exposure <= 2.0, out
