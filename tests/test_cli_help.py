"""Help and defaults (issue 12.8) and one Ollama URL (12.9)."""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ollama_ingest import cli
from ollama_ingest.config import normalize_ollama_url

from .service_support import ROOT, run_cli, service_env


def subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_has_help_that_shows_its_default():
    top = cli.build_parser()
    assert "``" not in top.description and "pipeline" not in top.description.split("\n")[0]
    for name, sub in subparsers(top).items():
        for a in sub._actions:
            if isinstance(a, argparse._HelpAction):
                continue
            assert a.help, (name, a.dest)
            assert "default" in a.help or "required" in a.help, (name, a.option_strings or a.dest, a.help)


def test_verbose_works_before_and_after_the_subcommand():
    p = cli.build_parser()
    assert p.parse_args(["backfill", "-v", "x"]).verbose == 1
    assert p.parse_args(["-v", "backfill", "x"]).verbose == 1
    assert p.parse_args(["timeline", "--html", "x", "-vv"]).verbose == 2
    assert p.parse_args(["check"]).verbose == 0


def test_a_missing_config_file_named_by_the_environment_is_an_error(tmp_path):
    missing = tmp_path / "typo.toml"
    for args in (["backfill", "--dry-run", "/dev/null"], ["check"], ["inventory"]):
        r = run_cli(args, {"OLLAMA_INGEST_CONFIG": str(missing)})
        assert r.returncode == 2 and r.stderr.strip() == \
            f"ollama-ingest: OLLAMA_INGEST_CONFIG names {missing}, which does not exist", r.stderr


# -- one Ollama URL, Ollama's rules (envconfig.Host + ConnectableHost) -------------------------------------------
@pytest.mark.parametrize("value,url", [
    ("http://h/", "http://h:80"),  # http without a port is 80, as in Ollama; no "/:11434"
    ("https://x", "https://x:443"),
    ("https://example.com/ollama", "https://example.com:443/ollama"),  # a proxy path is kept
    ("http://h:8080/a/b/", "http://h:8080/a/b"),
    ("::", "http://[::1]:11434"),
    ("[::]", "http://[::1]:11434"),
    ("::1", "http://[::1]:11434"),
    ("[::1]:1337", "http://[::1]:1337"),
    ("0.0.0.0", "http://127.0.0.1:11434"),
    ("0.0.0.0:8080", "http://127.0.0.1:8080"),
    (":11434", "http://127.0.0.1:11434"),
    (":66000", "http://127.0.0.1:11434"),  # a bad port falls back to the default
    ("example.com", "http://example.com:11434"),
    ("ollama.com", "https://ollama.com:443"),
    (' "1.2.3.4" ', "http://1.2.3.4:11434"),
    ("", "http://127.0.0.1:11434"),
])
def test_ollama_host_is_read_by_ollamas_rules(value, url):
    assert normalize_ollama_url(value) == url


def test_a_scheme_ollama_does_not_speak_is_an_error():
    with pytest.raises(ValueError, match="http:// or https://"):
        normalize_ollama_url("ftp://h")


class _Ollama(BaseHTTPRequestHandler):
    BLOB = "c" * 64

    def log_message(self, *a):
        pass

    def _json(self, doc):
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    hits: list[str] = []

    def do_GET(self):
        self.hits.append(self.path)
        self._json({"models": [{"name": "from-the-api:7b", "digest": "d" * 64, "size": 5}]})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._json({"modelfile": f"FROM /models/blobs/sha256-{self.BLOB}\n"})


@pytest.fixture
def ollama_api():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Ollama)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def cli_env(extra: dict) -> dict:
    env = service_env(extra)
    if "OLLAMA_INGEST_OLLAMA_URL" not in extra:  # the tests' default points to a closed port
        env.pop("OLLAMA_INGEST_OLLAMA_URL")
    return env


@pytest.mark.parametrize("how", ["OLLAMA_HOST", "config.toml", "--ollama-url"])
def test_inventory_and_backfill_ask_the_configured_ollama(ollama_api, tmp_path, how):
    port = ollama_api
    env, args = {}, []
    if how == "OLLAMA_HOST":
        env["OLLAMA_HOST"] = f"127.0.0.1:{port}"  # host:port, as Ollama's own users write it
    elif how == "config.toml":
        cfg = tmp_path / "c.toml"
        cfg.write_text(f'ollama_url = "http://127.0.0.1:{port}/"\n')
        env["OLLAMA_INGEST_CONFIG"] = str(cfg)
    else:
        args = ["--ollama-url", f":{port}"]
    run = functools.partial(subprocess.run, capture_output=True, text=True, env=cli_env(env), cwd=ROOT, timeout=60)
    inv = run([sys.executable, "-m", "ollama_ingest.cli", "inventory", "--json", "--no-cli", *args])
    assert inv.returncode == 0, inv.stderr
    assert [m["name"] for m in json.loads(inv.stdout)["models"]] == ["from-the-api:7b"]
    _Ollama.hits.clear()
    log = tmp_path / "one.log"  # an input with an Ollama line: an empty one is an error (never a silent zero)
    log.write_text('time=2025-07-22T23:26:23.639+03:00 level=INFO source=images.go:477 msg="total blobs: 3"\n')
    bf = run([sys.executable, "-m", "ollama_ingest.cli", "backfill", "--dry-run", str(log), *args])
    assert bf.returncode == 0, bf.stderr
    assert _Ollama.hits == ["/api/tags"]  # backfill asked the same Ollama for its model names


def test_each_subcommand_hands_over_the_settings_of_its_own_options():
    from ollama_ingest.cli_options import cli_settings

    p = cli.build_parser()
    influx = {"url": "http://127.0.0.1:1", "org": None, "bucket": "b", "token_file": None, "ca_file": None,
              "verify_ssl": False}
    given = ["--url", "http://127.0.0.1:1", "--bucket", "b", "--insecure"]
    assert cli_settings(p.parse_args(["timeline", "--html", "x", *given])) == influx
    assert cli_settings(p.parse_args(["backfill", "x", *given, "--unit", "u", "--batch-size", "7"])) == \
        {**influx, "unit": "u", "batch_size": 7, "ollama_url": None}
    assert cli_settings(p.parse_args(["check", *given, "--journal-file", "j"])) == \
        {**influx, "unit": None, "journal_files": ["j"], "journal_dir": None, "state_dir": None, "ollama_url": None}
    assert cli_settings(p.parse_args(["run", "--batch-size", "3"]))["batch_size"] == 3
    assert cli_settings(p.parse_args(["inventory", "--ollama-url", "http://127.0.0.1:2"])) == \
        {"ollama_url": "http://127.0.0.1:2"}
    assert cli_settings(p.parse_args(["check"]))["verify_ssl"] is None  # not given: the setting decides


@pytest.mark.parametrize("text, ago", [("24h", timedelta(hours=24)), ("7d", timedelta(days=7)),
                                       ("2w", timedelta(weeks=2)), ("1d12h", timedelta(days=1, hours=12)),
                                       ("1w2d3h4m", timedelta(days=9, hours=3, minutes=4)), ("90m ago", timedelta(minutes=90)),
                                       ("-2h30m", timedelta(hours=2, minutes=30))])
def test_a_duration_ago_takes_days_and_weeks_as_people_type_them(text, ago):
    """README's own `timeline --since 7d`: Go durations have no days, people's histories do."""
    args = cli.build_parser().parse_args(["timeline", "--html", "x.html", f"--since={text}"])
    expected = datetime.now(timezone.utc) - ago
    assert abs((args.since - expected).total_seconds()) < 5


@pytest.mark.parametrize("text", ["7", "d", "7x", "1d-2h", "7dd", ""])
def test_what_is_neither_a_time_nor_a_duration_is_refused_with_the_forms_that_work(text, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(["backfill", "--since", text])
    assert exc.value.code == 2
    assert "duration ago like 24h, 7d" in capsys.readouterr().err


def test_version_and_help_import_nothing_a_command_needs():
    """Start-up (docs/benchmarks.md): the parser alone imports neither pydantic nor the parsers nor a sink."""
    code = ("import sys\nfrom ollama_ingest import cli\ncli.build_parser()\n"
            "print([m for m in ('pydantic', 'ollama_ingest.parse', 'ollama_ingest.events', 'ollama_ingest.config', "
            "'ollama_ingest.sinks.influx', 'influxdb_client', 'tqdm', 'systemd') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
    r = subprocess.run([sys.executable, "-m", "ollama_ingest.cli", "--version"], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 0 and r.stdout.startswith("ollama-ingest ")
