"""systemd/: the unit is hardened (systemd-analyze security ≤ 2.0) and says what the service needs;
install.sh is idempotent and never overwrites settings or the token."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "ollama-ingest.service"
INSTALL = ROOT / "systemd" / "install.sh"


def unit_settings(path: Path = UNIT) -> dict[str, list[str]]:
    """key → values (a key may repeat), for the [Service] section."""
    out: dict[str, list[str]] = {}
    section = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        out.setdefault(f"{section}.{k.strip()}", []).append(v.strip())
    return out


def test_exposure_is_at_most_2():
    exe = shutil.which("systemd-analyze")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing (CI is set)", pytrace=False)
        pytest.skip("systemd-analyze is not installed")
    r = subprocess.run([exe, "security", "--offline=true", str(UNIT)], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for ollama-ingest\.service: ([0-9.]+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    exposure = float(m.group(1))
    print(f"\n[systemd-analyze] exposure {exposure}")
    assert exposure <= 2.0, r.stdout


def test_the_unit_says_what_the_service_needs():
    s = unit_settings()
    one = {k: v[-1] for k, v in s.items()}
    assert one["Service.Type"] == "notify" and one["Service.NotifyAccess"] == "main"
    assert one["Service.ExecStart"].endswith("/ollama-ingest run")
    assert int(one["Service.WatchdogSec"]) >= 30  # above timeout_s: a hung request is not a hung service
    assert one["Service.Restart"] == "on-failure" and int(one["Service.RestartSec"]) > 0
    assert "2" in one["Service.RestartPreventExitStatus"].split()  # bad config: restarting will not help
    assert "systemd-journal" in one["Service.SupplementaryGroups"].split()
    assert one["Service.StateDirectory"] == "ollama-ingest"
    assert one["Service.ConfigurationDirectory"] == "ollama-ingest"
    assert one["Service.LoadCredential"] == "influx-token:/etc/ollama-ingest/influx-token"
    assert int(one["Service.TimeoutStopSec"]) >= 5  # SIGTERM: flush, commit, exit 0 within 5 s
    assert one["Service.DynamicUser"] == "yes" and one["Service.ProtectSystem"] == "strict"
    # its own /dev and IPC namespace: tests/test_systemd_boot.py shows the journal and the API on loopback
    # are still reached with them
    assert one["Service.PrivateDevices"] == "yes" and one["Service.PrivateIPC"] == "yes"
    assert one["Install.WantedBy"] == "multi-user.target"


def run_install(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode & 0o777)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_install_is_idempotent_and_keeps_settings_and_token(tmp_path):
    root = tmp_path / "root"
    run_install("--root", str(root), "--no-venv")
    first = snapshot(root)
    assert set(first) == {"etc/systemd/system/ollama-ingest.service",
                          "etc/systemd/system/ollama-ingest.service.d/10-models.conf",
                          "etc/ollama-ingest/config.toml", "etc/ollama-ingest/influx-token"}
    assert first["etc/ollama-ingest/influx-token"] == (b"", 0o600)
    assert first["etc/systemd/system/ollama-ingest.service"][0] == UNIT.read_bytes()
    assert first["etc/ollama-ingest/config.toml"][0] == (ROOT / "systemd/config.toml.example").read_bytes()
    dropin = first["etc/systemd/system/ollama-ingest.service.d/10-models.conf"][0].decode()
    assert "[Service]" in dropin and "OLLAMA_MODELS=" in dropin
    # README's next command is `ollama-ingest check`: the command is on PATH
    assert os.readlink(root / "usr/local/bin/ollama-ingest") == "/opt/ollama-ingest/venv/bin/ollama-ingest"
    # the admin edits the config and puts the token in; a second run changes nothing of theirs
    (root / "etc/ollama-ingest/config.toml").write_text('bucket = "mine"\n')
    (root / "etc/ollama-ingest/influx-token").write_text("secret\n")
    run_install("--root", str(root), "--no-venv")
    second = snapshot(root)
    assert second["etc/ollama-ingest/config.toml"][0] == b'bucket = "mine"\n'
    assert second["etc/ollama-ingest/influx-token"] == (b"secret\n", 0o600)
    assert {k: v for k, v in second.items() if "ollama-ingest/" not in k or k.endswith(".service")} == \
        {k: v for k, v in first.items() if "ollama-ingest/" not in k or k.endswith(".service")}


def test_install_prefix_rewrites_execstart(tmp_path):
    run_install("--root", str(tmp_path), "--no-venv", "--prefix", "/srv/oi")
    text = (tmp_path / "etc/systemd/system/ollama-ingest.service").read_text()
    assert "ExecStart=/srv/oi/venv/bin/ollama-ingest run" in text
    assert os.readlink(tmp_path / "usr/local/bin/ollama-ingest") == "/srv/oi/venv/bin/ollama-ingest"


def test_install_leaves_a_foreign_command_on_path_alone(tmp_path):
    own = tmp_path / "usr/local/bin/ollama-ingest"
    own.parent.mkdir(parents=True)
    own.write_text("#!/bin/sh\n")
    r = run_install("--root", str(tmp_path), "--no-venv")
    assert own.read_text() == "#!/bin/sh\n" and "left alone" in r.stderr


def test_install_rejects_unknown_options_and_the_example_config_parses(tmp_path):
    r = run_install("--frobnicate", check=False)
    assert r.returncode == 2 and "unknown option" in r.stderr
    # every key in the example (commented out) is a real setting, with a value of the right type
    from ollama_ingest.config import Settings

    text = (ROOT / "systemd/config.toml.example").read_text()
    keys = re.findall(r"^# ([a-z_]+) = ", text, re.M)
    assert set(keys) >= {"url", "org", "bucket", "token_file", "state_dir", "selfmon_interval_s", "models_dir"}
    assert set(keys) <= set(Settings.model_fields)
    uncommented = "\n".join(re.sub(r"^# ", "", ln) for ln in text.splitlines()
                            if re.match(r"^# [a-z_]+ = ", ln) and "<machine-id>" not in ln)
    cfg = tmp_path / "c.toml"
    cfg.write_text(uncommented)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "INFLUXDB_V2_"))}
    r = subprocess.run([str(Path(os.sys.executable)), "-c", "from ollama_ingest.config import load_settings; "
                        "s = load_settings(); print(s.bucket, s.selfmon_interval_s)"],
                       capture_output=True, text=True, env={**env, "OLLAMA_INGEST_CONFIG": str(cfg),
                                                            "PYTHONPATH": str(ROOT)}, timeout=60)
    assert r.returncode == 0 and r.stdout.split() == ["ollama", "60.0"], r.stderr


def test_configparser_can_read_the_unit():
    # systemd's syntax is close enough to INI for a sanity parse (duplicate keys allowed)
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str
    cp.read(UNIT)
    assert cp.sections() == ["Unit", "Service", "Install"]
