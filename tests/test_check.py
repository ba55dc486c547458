"""``ollama-ingest check``: one line per check, exit code non-zero if any fails."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from testbed import V2Shim

from .service_support import ROOT, JournalWriter, Line, OllamaSim, need_journal_remote, run_cli, service_env


class _Ollama(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path == "/api/version":
            body = json.dumps({"version": "0.12.3"}).encode()
        elif self.path == "/api/tags":
            body = json.dumps({"models": []}).encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def ollama_api():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Ollama)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def setup(tmp_path, influx_db, ollama_api):
    need_journal_remote()
    influx, db = influx_db
    w = JournalWriter(tmp_path / "ollama.journal")
    w.append(OllamaSim(random.Random(1)).boot())
    models = tmp_path / "models"
    mf = models / "manifests/registry.ollama.ai/library/gemma3/12b"
    mf.parent.mkdir(parents=True)
    mf.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.model",
                                          "digest": "sha256:" + "a" * 64, "size": 5}]}))
    args = ["check", "--journal-file", str(w.path), "--models-dir", str(models), "--ollama-url", ollama_api,
            "--url", influx.v2_url, "--bucket", db, "--state-dir", str(tmp_path / "state")]
    return influx, db, w, args


def lines_of(r) -> dict[str, str]:
    out = {}
    for ln in r.stdout.splitlines():
        mark, name, *rest = ln.split(None, 2)
        out[name] = f"{mark} {rest[0] if rest else ''}"
    return out


def test_all_checks_pass(setup):
    influx, db, w, args = setup
    r = run_cli(args)
    got = lines_of(r)
    assert r.returncode == 0, r.stdout + r.stderr
    assert list(got) == ["journal", "models", "ollama", "influxdb", "state"]
    assert all(v.startswith("ok ") for v in got.values()), got
    assert "1 manifests readable" in got["models"] and "Ollama 0.12.3" in got["ollama"]
    assert f"bucket '{db}'" in got["influxdb"] and "token from token" in got["influxdb"]
    assert influx.query("SELECT count(\"check\") FROM ollama_ingest", db=db)  # it really wrote


def test_each_failure_is_one_line_and_exit_1(setup, tmp_path):
    influx, db, w, args = setup
    empty = JournalWriter(tmp_path / "other.journal")
    empty.append([Line("cron did things", "other")])

    def with_(**over):
        a = list(args)
        for k, v in over.items():
            a[a.index("--" + k) + 1] = v
        return a

    cases = {
        "journal": with_(**{"journal-file": str(empty.path)}),
        "models": with_(**{"models-dir": str(tmp_path / "nothing")}),
        "ollama": with_(**{"ollama-url": "http://127.0.0.1:9"}),
        "influxdb": with_(bucket="no_such_bucket"),
    }
    for name, a in cases.items():
        r = run_cli(a)
        got = lines_of(r)
        assert r.returncode == 1, (name, r.stdout)
        assert got[name].startswith("FAIL "), (name, got)
        assert [k for k, v in got.items() if v.startswith("FAIL")] == [name], got
    assert "no entries of ollama.service" in lines_of(run_cli(cases["journal"]))["journal"]
    assert "no_such_bucket" in lines_of(run_cli(cases["influxdb"]))["influxdb"]


def test_a_wrong_token_fails_the_influxdb_check_naming_the_setting(setup):
    influx, db, w, args = setup
    shim = V2Shim(influx.url, token="right").start()
    try:
        a = list(args)
        a[a.index("--url") + 1] = shim.url
        r = run_cli(a, env={"OLLAMA_INGEST_TOKEN": "wrong-secret"})
    finally:
        shim.stop()
    line = lines_of(r)["influxdb"]
    assert r.returncode == 1 and line.startswith("FAIL") and "INFLUXDB_V2_TOKEN" in line
    assert "wrong-secret" not in r.stdout + r.stderr


def test_influxdb_down(setup):
    influx, db, w, args = setup
    a = list(args)
    a[a.index("--url") + 1] = "http://127.0.0.1:9"
    r = run_cli(a)
    assert r.returncode == 1 and "no answer from http://127.0.0.1:9/ping" in lines_of(r)["influxdb"]


def test_check_as_root_takes_the_token_the_unit_gets(setup, tmp_path):
    """The unit gets /etc/ollama-ingest/influx-token as its credential; outside the unit `check` (and
    `run`) read that same file, beside the config file, so README's next step works as written."""
    influx, db, w, args = setup
    etc = tmp_path / "etc-ollama-ingest"
    etc.mkdir()
    (etc / "config.toml").write_text(f'bucket = "{db}"\n')
    (etc / "influx-token").write_text("the-unit-token\n")
    (etc / "influx-token").chmod(0o600)
    shim = V2Shim(influx.url, token="the-unit-token").start()
    try:
        a = list(args)
        a[a.index("--url") + 1] = shim.url
        r = run_without_token(a, etc / "config.toml")
        (etc / "influx-token").write_text("")  # install.sh leaves it empty: the line says where it looked
        empty = run_without_token(a, etc / "config.toml")
    finally:
        shim.stop()
    line = lines_of(r)["influxdb"]
    assert r.returncode == 0 and line.startswith("ok") and f"token from {etc / 'influx-token'}" in line, r.stdout
    assert "the-unit-token" not in r.stdout + r.stderr
    line = lines_of(empty)["influxdb"]
    assert line.startswith("FAIL") and f"token from {etc / 'influx-token'} (empty)" in line


def run_without_token(args: list[str], config) -> subprocess.CompletedProcess:
    env = service_env({"OLLAMA_INGEST_CONFIG": str(config)})
    del env["OLLAMA_INGEST_TOKEN"]
    return subprocess.run([sys.executable, "-m", "ollama_ingest.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


def test_the_unit_loads_the_token_from_where_check_reads_it():
    from ollama_ingest.config import CREDENTIAL_NAME, DEFAULT_CONFIG

    from .test_systemd_unit import unit_settings

    cred = unit_settings()["Service.LoadCredential"][-1]
    assert cred == f"{CREDENTIAL_NAME}:{Path(DEFAULT_CONFIG).parent / CREDENTIAL_NAME}"


def test_with_follow_file_the_file_is_checked_instead_of_the_journal(setup, tmp_path):
    """follow_file: ``check`` says whether that file can be read and followed; the journal is not asked."""
    influx, db, w, args = setup
    i = args.index("--journal-file")
    base = args[:i] + args[i + 2:]
    log = tmp_path / "ollama.log"
    with open(log, "w", encoding="utf-8") as f:  # Docker's json-file driver's lines
        for ln in OllamaSim(random.Random(1)).boot():
            if ln.kind == "ollama" and isinstance(ln.message, str):
                f.write(json.dumps({"log": ln.message + "\n", "stream": "stderr",
                                    "time": "2025-07-23T09:20:03.000000000Z"}) + "\n")
    r = run_cli([*base, "--follow-file", str(log)])
    got = lines_of(r)
    assert r.returncode == 0, r.stdout + r.stderr
    assert list(got) == ["file", "models", "ollama", "influxdb", "state"]
    assert got["file"].startswith("ok ") and "docker-json" in got["file"], got

    journal = tmp_path / "not-a-log"
    journal.write_bytes(w.path.read_bytes())  # a .journal file: read with --journal-file, never followed
    for path, why in ((tmp_path / "missing.log", "does not exist"), (journal, "cannot follow"),
                      (tmp_path, "cannot read")):
        r = run_cli([*base, "--follow-file", str(path)])
        got = lines_of(r)
        assert r.returncode == 1 and got["file"].startswith("FAIL ") and why in got["file"], (path, got)
        assert [k for k, v in got.items() if v.startswith("FAIL")] == ["file"], got
