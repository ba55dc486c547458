"""What a user who may not read everything sees: a models-dir candidate it may not even look at (``/root``
under ``ProtectHome=``, another user's home) is skipped, never fatal; the system journal's readability
is tested by reading it.

As root, the commands run as uid 0 with every capability dropped (``setpriv --bounding-set -all``): the
kernel then checks file modes as for any user, while the checkout and the venv stay readable wherever they
are. As any other user (README's "a user with sudo" runs the tests as themselves), they run as that user, and
what it may not read is made so by taking its own permissions away."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


AS_ROOT = os.geteuid() == 0


def capless(args: list[str], env: dict) -> subprocess.CompletedProcess:
    if AS_ROOT and shutil.which("setpriv") is None:
        pytest.skip("as root, needs setpriv (util-linux) to drop every capability")
    cmd = ["setpriv", "--bounding-set", "-all", "--inh-caps", "-all", "--"] if AS_ROOT else []
    cmd += [sys.executable, *args]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "INFLUXDB_V2_"))}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**base, "PYTHONPATH": str(ROOT), "OLLAMA_INGEST_CONFIG": os.devnull, **env})


def lock(path: Path, mode: int) -> None:
    """Make ``path`` one that the commands capless() runs may not open: another owner's as root, no
    permissions at all for anyone else (whose own file it is)."""
    if AS_ROOT:
        os.chown(path, 65534, 65534)
        path.chmod(mode)
    else:
        path.chmod(0)


@pytest.fixture
def locked_home(tmp_path):
    """A HOME whose ~/.ollama/models exists but sits behind a directory this user may not enter."""
    home = tmp_path / "locked" / "user"
    mf = home / ".ollama/models/manifests/registry.ollama.ai/library/secret/1b"
    mf.parent.mkdir(parents=True)
    mf.write_text("{}")
    lock(tmp_path / "locked", 0o700)
    yield home
    (tmp_path / "locked").chmod(0o755)


def test_inventory_skips_a_candidate_it_may_not_look_at(locked_home, tmp_path):
    r = capless(["-m", "ollama_ingest.cli", "-vv", "inventory", "--json", "--no-cli", "--models-dir",
                 str(ROOT / "fixtures/models"), "--ollama-url", "http://127.0.0.1:9"],
                {"HOME": str(locked_home), "OLLAMA_MODELS": str(locked_home / ".ollama/models")})
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    names = sorted(m["name"] for m in json.loads(r.stdout)["models"])
    assert len(names) == 11 and "gemma3:12b" in names and "secret:1b" not in names
    # said once, at DEBUG; other candidates (/root/.ollama/models for a user) may be said too, each once
    said = [ln for ln in r.stderr.splitlines() if "skipping models dir" in ln and str(tmp_path) in ln]
    assert len(said) == 1 and said[0].startswith("DEBUG") and "Permission denied" in said[0]


def test_backfill_names_models_with_models_dir_as_a_user(locked_home):
    r = capless(["-m", "ollama_ingest.cli", "backfill", "--dry-run", str(ROOT / "fixtures/era-e.export"),
                 "--models-dir", str(ROOT / "fixtures/models"), "--ollama-url", "http://127.0.0.1:9"],
                {"HOME": str(locked_home), "OLLAMA_MODELS": str(locked_home / ".ollama/models")})
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    loads = [ln for ln in r.stdout.splitlines() if ln.startswith("ollama_load,")]
    assert loads and all("model=sha256" not in ln for ln in loads), loads[:3]


def test_check_models_names_the_dir_it_may_not_look_at(locked_home):
    r = capless(["-m", "ollama_ingest.cli", "check", "--models-dir", str(locked_home / ".ollama/models"),
                 "--journal-file", "/nonexistent.journal", "--url", "http://127.0.0.1:9",
                 "--ollama-url", "http://127.0.0.1:9", "--state-dir", str(locked_home.parent.parent / "s")], {})
    line = next(ln for ln in r.stdout.splitlines() if ln.split()[1] == "models")
    assert line.startswith("FAIL") and "cannot look: Permission denied" in line, r.stdout + r.stderr


def test_the_system_journal_is_tested_by_reading_it(tmp_path):
    from ollama_ingest.sources.journal import system_journal_unreadable

    d = tmp_path / "journal" / "0123456789abcdef0123456789abcdef"
    d.mkdir(parents=True)
    (d / "system.journal").write_bytes(b"LPKSHHRH")
    globs = (str(tmp_path / "journal/*/system*.journal"),)
    assert system_journal_unreadable(globs) is None
    assert system_journal_unreadable((str(tmp_path / "none/*.journal"),)) is None  # no journal: nothing to say
    lock(d / "system.journal", 0o600)
    code = ("import sys; from ollama_ingest.sources.journal import system_journal_unreadable as f; "
            f"print(f({globs!r}))")
    r = capless(["-c", code], {})
    assert r.returncode == 0, r.stderr
    assert "cannot read" in r.stdout and "system.journal" in r.stdout and "systemd-journal" in r.stdout


def test_backfill_of_the_local_journal_says_why_it_sees_nothing(tmp_path):
    """The sudo user who forgets sudo: the system's entries are missing because of access, not absent."""
    d = tmp_path / "journal" / "0123456789abcdef0123456789abcdef"
    d.mkdir(parents=True)
    (d / "system.journal").write_bytes(b"LPKSHHRH")
    lock(d / "system.journal", 0o600)
    code = ("import ollama_ingest.sources.journal as j; "
            f"j.SYSTEM_JOURNAL_GLOBS = ({str(d / 'system*.journal')!r},); "
            "print(j.Journal().nothing_found_hint()); print(j.Journal(directory=%r).nothing_found_hint())" % str(d))
    r = capless(["-c", code], {})
    assert r.returncode == 0, r.stderr
    local, given = r.stdout.splitlines()
    assert "cannot read" in local and "systemd-journal" in local and "sudo" in local
    assert "cannot read" not in given  # a directory the user named is not "the local journal"
