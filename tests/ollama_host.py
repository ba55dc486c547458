"""An Ollama host booted with systemd, for tests/test_systemd_boot.py: the machine (tests/bootbed.py) with
a stand-in ``ollama.service`` (tests/fake_ollama.py) that logs era-E lines, which name no model, its
models in a tree only the group ``ollama`` may read, and ollama-ingest installed by walking README's
"Installing on an Ollama host" as root, in order. ``Bed`` is what the tests hold."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ollama_ingest import checkpoint
from testbed import V2Shim

from . import bootbed

ROOT = Path(__file__).resolve().parent.parent
OLLAMA_UNIT = """[Unit]
Description=Ollama Service
After=network-online.target

[Service]
ExecStart=/usr/local/bin/ollama serve
User=ollama
Group=ollama
Restart=always
RestartSec=3
Environment="OLLAMA_MODELS={models}" "OLLAMA_HOST=127.0.0.1:{port}"

[Install]
WantedBy=default.target
"""
MODELS_DIR = "/srv/ollama/models"
STATE = "/var/lib/private/ollama-ingest"  # StateDirectory= of a DynamicUser= unit
SETTLE_WAIT_S = 6.5  # held requests (3 s) + settle_s (2 s) + a tick: the journal counts as complete


def record(name: str, values: dict) -> None:
    print(f"\n[{name}] " + json.dumps(values, sort_keys=True))
    out = os.environ.get("OLLAMA_INGEST_BENCH_OUT")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"drill": name, **values}, sort_keys=True) + "\n")


def era_e_lines() -> list[bytes]:
    """Ollama's own lines of fixtures/era-e.export (v0.6.5: blobs only, no model names), as printed."""
    from ollama_ingest.sources import open_input

    return [e.message.encode() if isinstance(e.message, str) else e.message
            for e in open_input(str(ROOT / "fixtures/era-e.export")) if e.ident == "ollama"]


def readme_install_steps() -> list[str]:
    """The commands of README's "Installing on an Ollama host" block, comments removed, in order."""
    section = (ROOT / "README.md").read_text().split("## Installing on an Ollama host", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [re.sub(r"\s{2,}#.*$", "", ln).strip() for ln in block.splitlines() if ln.strip()]


@dataclass
class Bed:
    m: bootbed.Machine
    influx: object
    db: str
    token: str
    ollama_url: str  # the stand-in's API, as the host reaches it
    lines: list[bytes]
    steps: list[tuple[str, object]] = field(default_factory=list)
    enabled_after_install: str = ""
    times: dict = field(default_factory=dict)

    def say(self, lines: list[bytes]) -> None:
        """Ollama prints these lines (they reach the journal as ollama.service's)."""
        import urllib.request

        if lines:
            req = urllib.request.Request(self.ollama_url + "/_fake/print", data=b"\n".join(lines), method="POST")
            urllib.request.urlopen(req, timeout=10).close()

    def take(self, n: int) -> list[bytes]:
        out, self.lines[:n] = self.lines[:n], []
        return out

    def seen(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.ollama_url + "/_fake/seen", timeout=5) as r:
            return json.load(r)

    def last_cursor(self) -> str | None:
        """The newest entry the unit reads (ollama.service's, and systemd's about it)."""
        from ollama_ingest.sources.journal import add_unit_matches, open_reader

        r = open_reader(directory=str(self.m.path("/var/log/journal")))
        try:
            add_unit_matches(r, "ollama.service")
            r.seek_tail()
            return r._get_cursor() if r._previous() else None
        finally:
            r.close()

    def committed(self) -> str | None:
        try:
            cp = checkpoint.load(self.m.path(STATE))
        except checkpoint.CheckpointError:
            return None
        return cp.cursor if cp else None

    def wait_caught_up(self, timeout: float = 120) -> float:
        """Until the unit's checkpoint holds the newest entry (everything acknowledged); the seconds."""
        t0 = time.monotonic()
        while (want := self.last_cursor()) != self.committed():  # journald may still be writing: ask again
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"the checkpoint is at {self.committed()}, the journal at {want}:\n"
                                     + self.journal("ollama-ingest", "-n", "30"))
            time.sleep(0.1)
        return time.monotonic() - t0

    def journal(self, unit: str, *opts: str) -> str:
        return self.m.sh(f"journalctl -u {unit} --no-pager -o cat " + " ".join(opts)).stdout


def make_bed(influx):
    """The session's bed (a generator: the machine is stopped and thrown away after the tests)."""
    reason = bootbed.why_not()
    if reason:
        pytest.skip(f"cannot boot a container here: {reason}")
    t0 = time.monotonic()
    try:
        base = bootbed.base_root()
    except bootbed.CannotBoot as exc:
        pytest.skip(f"cannot build the Debian root: {exc}")
    built = time.monotonic() - t0
    m = bootbed.Machine(base)
    shim = V2Shim(influx.url, token="boot-" + uuid.uuid4().hex).start()  # InfluxDB that checks the token
    db = "boot_" + uuid.uuid4().hex[:8]
    influx.create_database(db)
    try:
        try:
            m.mount()
            m.copy_checkout()
            m.trust_host_cas()
            port = m.free_port()
            install_fake_ollama(m, port)
            booted = m.boot()
        except bootbed.CannotBoot as exc:
            pytest.skip(f"cannot boot a container here: {exc}")
        b = Bed(m, influx, db, shim.token, f"http://127.0.0.1:{port}", era_e_lines())
        wait_for(lambda: m.sh("systemctl is-active ollama", check=False).stdout.strip() == "active", 30,
                  lambda: b.journal("ollama"))
        wait_for(lambda: _answers(b), 30, lambda: b.journal("ollama"))
        b.say(b.take(len(b.lines) // 3))  # the journal has history before ollama-ingest is installed
        t1 = time.monotonic()
        walk_readme(b, shim.url)
        b.times = {"root_build_s": round(built, 1), "boot_s": round(booted, 1),
                   "readme_walk_s": round(time.monotonic() - t1, 1)}
        yield b
    finally:
        m.stop()
        shim.stop()
        influx.drop_database(db)
        record("boot-test", {"total_s": round(time.monotonic() - t0, 1)})


def _answers(b: Bed) -> bool:
    try:
        b.seen()
        return True
    except OSError:
        return False


def wait_for(cond, timeout: float, why=lambda: "", every: float = 0.2) -> None:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout} s: {why()}")
        time.sleep(every)


def install_fake_ollama(m: bootbed.Machine, port: int) -> None:
    """Ollama as its install script leaves it (binary, unit, user), its models in a tree only the group
    ``ollama`` may read, and OLLAMA_MODELS / OLLAMA_HOST set in the unit."""
    exe = m.path("/usr/local/bin/ollama")
    exe.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "tests/fake_ollama.py", exe)
    exe.chmod(0o755)
    unit = m.path("/etc/systemd/system/ollama.service")
    unit.write_text(OLLAMA_UNIT.format(models=MODELS_DIR, port=port))
    wants = m.path("/etc/systemd/system/default.target.wants")
    wants.mkdir(parents=True, exist_ok=True)
    (wants / "ollama.service").symlink_to("/etc/systemd/system/ollama.service")
    uid, gid = m.ids("ollama")
    models = m.path(MODELS_DIR)
    shutil.copytree(ROOT / "fixtures/models", models)
    for p in [models.parent, models, *models.rglob("*")]:
        os.chown(p, uid, gid)
        p.chmod(0o750 if p.is_dir() else 0o640)


def walk_readme(b: Bed, influx_url: str) -> None:
    """Every command of README's block, as root in the checkout, in order; ``$EDITOR`` is an edit."""
    for cmd in readme_install_steps():
        if cmd.startswith("$EDITOR "):
            path = cmd.split()[1]
            b.m.sh(f"cat >> {path}", input=f'url = "{influx_url}"\norg = "home"\nbucket = "{b.db}"\n')
            b.steps.append((cmd, None))
            continue
        run = cmd.replace("my-influx-token", b.token)
        r = b.m.sh(run, check=False, timeout=900, cwd="/root/ollama-ingest")
        b.steps.append((cmd, r))
        if r.returncode != 0:
            unit = b.m.sh("journalctl -u ollama-ingest --no-pager -n 40", check=False).stdout
            raise AssertionError(f"README step `{cmd}` exited with {r.returncode}:\n{r.stdout}\n{r.stderr}\n{unit}")
        if cmd.startswith("systemd/install.sh"):
            b.enabled_after_install = b.m.sh("systemctl is-enabled ollama-ingest", check=False).stdout.strip()


def step(b: Bed, prefix: str):
    return next(r for c, r in b.steps if c.startswith(prefix))
