"""Settings: CLI > environment (also INFLUXDB_V2_*) > TOML; the token's sources; one clear line for bad config."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ollama_ingest.config import ConfigError, Settings, load_settings, normalize_ollama_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for k in list(os.environ):
        if k.startswith(("OLLAMA_", "INFLUXDB_V2_")) or k in ("STATE_DIRECTORY", "CREDENTIALS_DIRECTORY"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("OLLAMA_INGEST_CONFIG", str(tmp_path / "config.toml"))
    (tmp_path / "config.toml").write_text("")  # named by OLLAMA_INGEST_CONFIG: it must exist
    return tmp_path


def toml(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def test_defaults():
    s = load_settings()
    assert (s.url, s.org, s.bucket, s.unit) == ("http://127.0.0.1:8086", "ollama", "ollama", "ollama.service")
    assert s.token is None and s.resolved_token() == ""
    assert s.state_dir == Path("/var/lib/ollama-ingest")
    assert s.ollama_url == "http://127.0.0.1:11434"
    assert (s.batch_size, s.flush_interval_s, s.selfmon_interval_s) == (5000, 1.0, 60.0)


def test_precedence_cli_over_environment_over_toml(tmp_path, monkeypatch):
    toml(tmp_path, 'url = "http://toml:8086"\nbucket = "from_toml"\norg = "toml_org"\nbatch_size = 10\n')
    assert load_settings().url == "http://toml:8086"
    monkeypatch.setenv("INFLUXDB_V2_URL", "http://influx-env:8086")
    monkeypatch.setenv("INFLUXDB_V2_BUCKET", "env_bucket")
    s = load_settings()
    assert (s.url, s.bucket, s.org, s.batch_size) == ("http://influx-env:8086", "env_bucket", "toml_org", 10)
    monkeypatch.setenv("OLLAMA_INGEST_URL", "http://ours:8086")  # ours beats influxdb-client's name
    assert load_settings().url == "http://ours:8086"
    s = load_settings({"url": "http://cli:8086", "bucket": None, "batch_size": 99})
    assert (s.url, s.bucket, s.batch_size) == ("http://cli:8086", "env_bucket", 99)


def test_influxdb_client_variables(monkeypatch):
    monkeypatch.setenv("INFLUXDB_V2_URL", "https://db.example:8086/")
    monkeypatch.setenv("INFLUXDB_V2_ORG", "acme")
    monkeypatch.setenv("INFLUXDB_V2_BUCKET", "llm")
    monkeypatch.setenv("INFLUXDB_V2_TOKEN", "tok-env")
    monkeypatch.setenv("INFLUXDB_V2_VERIFY_SSL", "false")
    s = load_settings()
    assert (s.url, s.org, s.bucket, s.resolved_token(), s.verify_ssl) == (
        "https://db.example:8086", "acme", "llm", "tok-env", False)
    assert "tok-env" not in repr(s) and "tok-env" not in str(s.model_dump())


def test_token_from_file_credential_and_precedence(tmp_path, monkeypatch, caplog):
    f = tmp_path / "tok"
    f.write_text("tok-file\n")
    f.chmod(0o600)
    cred = tmp_path / "creds"
    cred.mkdir()
    (cred / "influx-token").write_text("tok-cred\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(cred))
    s = load_settings()
    assert s.resolved_token() == "tok-cred" and s.token_source() == "systemd credential influx-token"
    toml(tmp_path, f'token_file = "{f}"\n')
    with caplog.at_level(logging.WARNING):
        assert load_settings().resolved_token() == "tok-file"
    assert not caplog.records
    monkeypatch.setenv("INFLUXDB_V2_TOKEN", "tok-env")
    assert load_settings().resolved_token() == "tok-env"  # a token given directly wins over files
    assert load_settings({"token_file": str(f)}).resolved_token() == "tok-file"  # … but not over the CLI


def test_token_file_readable_by_others_warns_and_unreadable_is_an_error(tmp_path, caplog):
    f = tmp_path / "tok"
    f.write_text("t")
    f.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert load_settings({"token_file": str(f)}).resolved_token() == "t"
    assert any("readable by others (mode 0644)" in r.getMessage() for r in caplog.records)
    with pytest.raises(ConfigError, match="bad setting token_file: cannot read .*missing"):
        load_settings({"token_file": str(tmp_path / "missing")}).resolved_token()


def test_state_directory_from_systemd(monkeypatch):
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/ollama-ingest:/var/lib/other")
    assert load_settings().state_dir == Path("/var/lib/ollama-ingest")
    monkeypatch.setenv("STATE_DIRECTORY", "/run/x")
    assert load_settings().state_dir == Path("/run/x")
    assert load_settings({"state_dir": "/tmp/s"}).state_dir == Path("/tmp/s")


@pytest.mark.parametrize("host,url", [
    ("0.0.0.0", "http://127.0.0.1:11434"),
    ("0.0.0.0:8080", "http://127.0.0.1:8080"),
    (":11434", "http://127.0.0.1:11434"),
    ("ollama.lan", "http://ollama.lan:11434"),
    ("https://ollama.example", "https://ollama.example:443"),
    ("http://[::1]:11500/", "http://[::1]:11500"),
    ("", "http://127.0.0.1:11434"),
])
def test_ollama_url_from_ollama_host(monkeypatch, host, url):
    assert normalize_ollama_url(host) == url
    monkeypatch.setenv("OLLAMA_HOST", host)
    assert load_settings().ollama_url == url


@pytest.mark.parametrize("where,text,expect", [
    ("toml", "batch_size = 0\n", "bad setting batch_size = 0 (in "),
    ("toml", 'flush_interval_s = "soon"\n', "bad setting flush_interval_s = 'soon' (in "),
    ("toml", "bukcet = 'x'\n", "unknown setting 'bukcet' in "),
    ("toml", "batch_size = \n", "bad config file "),
    ("toml", 'token = 12345\n', "bad setting token (in "),
    ("toml", 'url = "influx:8086"\n', "bad setting url = 'influx:8086'"),
    ("env", ("OLLAMA_INGEST_BATCH_SIZE", "-3"), "bad setting batch_size = '-3' (from OLLAMA_INGEST_BATCH_SIZE)"),
    ("env", ("INFLUXDB_V2_URL", "ftp://x"), "bad setting url = 'ftp://x' (from INFLUXDB_V2_URL)"),
    ("env", ("OLLAMA_INGEST_START_AT", "middle"), "bad setting start_at = 'middle'"),
    ("cli", {"batch_size": 0}, "bad setting batch_size = 0 (--batch-size)"),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path, monkeypatch, where, text, expect):
    if where == "toml":
        toml(tmp_path, text)
        cli = None
    elif where == "env":
        monkeypatch.setenv(*text)
        cli = None
    else:
        cli = text
    with pytest.raises(ConfigError) as e:
        load_settings(cli)
    msg = str(e.value)
    assert expect in msg and "\n" not in msg
    assert "12345" not in msg  # a token's value is never echoed


def test_unknown_environment_variable_is_warned_about(monkeypatch, caplog):
    monkeypatch.setenv("OLLAMA_INGEST_BUKCET", "x")
    with caplog.at_level(logging.WARNING):
        load_settings()
    assert any("OLLAMA_INGEST_BUKCET is not a setting" in r.getMessage() for r in caplog.records)


def test_settings_still_constructible_directly_for_backfill():
    assert Settings(bucket="b").bucket == "b"


def cli(args, env_extra=None, tmp_path=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "INFLUXDB_V2_"))}
    env.update({"PYTHONPATH": str(ROOT), "OLLAMA_INGEST_CONFIG": os.devnull, **(env_extra or {})})
    return subprocess.run([sys.executable, "-m", "ollama_ingest.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


def test_cli_bad_config_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text("selfmon_interval_s = -1\n")
    for args, env, key in [
        (["run", "--batch-size", "0"], {}, "batch_size"),
        (["check", "--url", "nope"], {}, "url"),
        (["run"], {"OLLAMA_INGEST_CONFIG": str(bad)}, "selfmon_interval_s"),
    ]:
        r = cli(args, env)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ollama-ingest: bad setting " + key), r.stderr


def test_insecure_is_a_warning(tmp_path):
    r = cli(["run", "--insecure", "--url", "https://127.0.0.1:9", "--journal-file", "/nonexistent.journal",
             "--state-dir", str(tmp_path / "s")])
    assert "TLS certificate verification is off" in r.stderr
