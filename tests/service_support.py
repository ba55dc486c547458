"""Helpers for the service tests: a realistic Ollama journal appended live with systemd-journal-remote,
the daemon as a subprocess, and reading a database back for exact comparisons."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from testbed import ollamalog as ol
from testbed.journalform import export_entry

ROOT = Path(__file__).resolve().parent.parent
JOURNAL_REMOTE = next((p for p in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")
                       if os.access(p, os.X_OK)), None)
BOOT_ID = "6d1c3b9e2f4a4b0c9a8e7f6d5c4b3a21"
HOST = "gpu-host"
COMPARE_EXCLUDE = {"ollama_ingest", "ollama_model_inventory"}  # written by the service itself, at "now"


def need_journal_remote() -> str:
    if JOURNAL_REMOTE is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-journal-remote is missing (CI is set: these tests must run)", pytrace=False)
        pytest.skip("systemd-journal-remote is not installed (Debian package systemd-journal-remote)")
    return JOURNAL_REMOTE


# -- the journal ---------------------------------------------------------------------------------------
@dataclass
class Line:
    message: str | bytes
    kind: str = "ollama"  # ollama | systemd | other
    same_time: bool = False  # stamp it with the previous entry's time (a tie)


class JournalWriter:
    """Appends entries to a .journal file; each entry is stamped with the wall clock when appended."""

    def __init__(self, path: Path, pid: int = 4242) -> None:
        self.path = Path(path)
        self.pid = pid
        self.last_us = 0
        self.mono = 1_000_000
        self.count = 0
        self.binary = need_journal_remote()

    def stamp(self, at_us: int | None = None) -> int:
        now = at_us if at_us is not None else time.time_ns() // 1000
        self.last_us = max(now, self.last_us + 1)
        return self.last_us

    def export(self, lines: list[Line], at_us: int | None = None) -> bytes:
        out = []
        for ln in lines:
            ts = self.last_us if (ln.same_time and self.last_us) else self.stamp(at_us)
            self.mono += 1
            f = [("__REALTIME_TIMESTAMP", str(ts)), ("__MONOTONIC_TIMESTAMP", str(self.mono)),
                 ("_BOOT_ID", BOOT_ID), ("_HOSTNAME", HOST), ("_TRANSPORT", "stdout"), ("PRIORITY", "6")]
            if ln.kind == "systemd":
                f += [("_PID", "1"), ("SYSLOG_IDENTIFIER", "systemd"), ("_SYSTEMD_UNIT", "init.scope"),
                      ("UNIT", "ollama.service"), ("MESSAGE", ln.message)]
            elif ln.kind == "other":
                f += [("_PID", "777"), ("SYSLOG_IDENTIFIER", "cron"), ("_SYSTEMD_UNIT", "cron.service"),
                      ("MESSAGE", ln.message)]
            else:
                f += [("_PID", str(self.pid)), ("SYSLOG_IDENTIFIER", "ollama"), ("_SYSTEMD_UNIT", "ollama.service"),
                      ("MESSAGE", ln.message)]
            out.append(export_entry(f))
            self.count += 1
        return b"".join(out)

    def append(self, lines: list[Line], at_us: int | None = None) -> float:
        """Append; returns the wall time (time.time()) when the entries were in the file."""
        data = self.export(lines, at_us)
        r = subprocess.run([self.binary, "-o", str(self.path), "-"], input=data, capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"systemd-journal-remote failed: {r.stderr.decode(errors='replace')}")
        return time.time()


def last_cursor(path: Path, unit: str = "ollama.service") -> str | None:
    """The cursor of the newest entry the service would read (same matches)."""
    from ollama_ingest.sources.journal import add_unit_matches, open_reader

    r = open_reader([str(path)])
    try:
        add_unit_matches(r, unit)
        r.seek_tail()
        return r._get_cursor() if r._previous() else None
    finally:
        r.close()


# -- Ollama, as it logs at INFO ----------------------------------------------------------------------------
def blob_of(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def slog(msg: str, level: str = "INFO", source: str = "server.go:1", **kv) -> str:
    """A slog line printed now (a server in UTC)."""
    return ol.slog(ol.slog_time(datetime.now(timezone.utc)), msg, level, source, **kv)


def gin(latency_ns: int, path: str = "/api/chat", method: str = "POST", status: int = 200,
        client: str = "127.0.0.1") -> str:
    """A [GIN] line printed now, in this machine's local time as gin prints it."""
    return ol.gin(ol.gin_time(datetime.now().astimezone()), status, ol.go_duration(latency_ns), client, method, path)


MODELS = [("gemma3:12b", 8192, 2, False), ("qwen2.5-coder:7b", 4096, 1, False),
          ("nomic-embed-text:latest", 2048, 1, True)]
NOISE = ["llama_model_loader: - kv   0:                       general.architecture str              = llama",
         "llama_model_loader: - type  f32:   65 tensors", "load_tensors: offloading 32 repeating layers to GPU",
         "llama_context: n_ctx_per_seq (4096) < n_ctx_train (131072) -- the full capacity of the model will not be utilized",
         "srv  update_slots: all slots are idle", "print_info: file format = GGUF V3 (latest)", "...................",
         "ggml_cuda_init: found 1 CUDA devices:"]


@dataclass
class OllamaSim:
    """A random but plausible INFO-level Ollama: loads, requests (some tied, some ambiguous), restarts."""

    rng: random.Random
    models: list = field(default_factory=lambda: list(MODELS))
    loaded: dict = field(default_factory=dict)
    port: int = 39000

    def boot(self) -> list[Line]:
        self.loaded.clear()
        env = ol.env_map({"OLLAMA_KEEP_ALIVE": "5m0s", "OLLAMA_MAX_LOADED_MODELS": 0, "OLLAMA_NUM_PARALLEL": 0})
        return [Line(ol.systemd_starting(), "systemd"),
                Line(ol.systemd_started(), "systemd"),
                Line(slog("server config", source="routes.go:1331", env=f'"{env}"')),
                Line(slog(ol.listening("127.0.0.1:11434", "0.12.3"), source="routes.go:1384")),
                Line(slog("inference compute", source="types.go:130", id="GPU-0", library="cuda",
                          compute="8.9", name="CUDA0", description='"NVIDIA GeForce RTX 4090"',
                          total='"23.5 GiB"', available='"22.9 GiB"'))]

    def load(self, name: str, ctx: int, parallel: int, embedding: bool) -> list[Line]:
        self.port += 1
        cmd = ol.runner_cmd_e(ol.blob_path("/usr/share/ollama/.ollama/models", blob_of(name)), ctx, parallel,
                              self.port, embedding=embedding)
        out = [Line(slog(ol.STARTING["e"], cmd=f'"{cmd}"'))]
        out += [Line(self.rng.choice(NOISE)) for _ in range(self.rng.randint(2, 8))]
        secs = self.rng.uniform(1.0, 9.0)
        out.append(Line(slog(ol.started(secs), source="server.go:1272")))
        self.loaded[name] = embedding
        # the request that triggered the load ends after it
        out.append(Line(gin(int((secs + self.rng.uniform(0.2, 3)) * 1e9),
                            "/api/embed" if embedding else "/api/chat")))
        return out

    def step(self) -> list[Line]:
        r = self.rng.random()
        if r < 0.04:
            out = [Line(ol.systemd_stopping(), "systemd"), Line(ol.systemd_deactivated(), "systemd"),
                   Line(ol.systemd_stopped(), "systemd")]
            return out + self.boot()
        if r < 0.14:
            name, ctx, par, emb = self.rng.choice(self.models)
            if name not in self.loaded:
                return self.load(name, ctx, par, emb)
        if r < 0.55 and self.loaded:
            name = self.rng.choice(sorted(self.loaded))
            path = "/api/embed" if self.loaded[name] else self.rng.choice(["/api/chat", "/api/generate",
                                                                            "/v1/chat/completions"])
            line = Line(gin(self.rng.randint(50_000_000, 6_000_000_000), path))
            if self.rng.random() < 0.15:  # two identical requests ending in the same µs: a tie
                return [line, Line(line.message, same_time=True)]
            return [line]
        if r < 0.75:
            path, method = self.rng.choice([("/", "HEAD"), ("/api/tags", "GET"), ("/api/ps", "GET"),
                                            ("/api/version", "GET"), ("/wp-login.php", "GET")])
            line = Line(gin(self.rng.randint(5_000, 900_000), path, method, 404 if path.startswith("/wp") else 200))
            if self.rng.random() < 0.2:
                return [line, Line(line.message, same_time=True)]
            return [line]
        if r < 0.8:
            return [Line(f"cron[{self.rng.randint(1, 99)}]: job ran", "other")]
        if r < 0.82:
            return [Line(b"\x1b[31mbad \xff utf-8 from a runner\x1b[0m")]
        return [Line(self.rng.choice(NOISE)) for _ in range(self.rng.randint(1, 4))]

    def lines(self, n: int) -> list[Line]:
        out: list[Line] = []
        while len(out) < n:
            out += self.step()
        return out


# -- the daemon ------------------------------------------------------------------------------------------
def one_model_journal(path: Path, seed: int, lines: int) -> JournalWriter:
    """A .journal of one model's story (so no request is held for evidence), booted and ``lines`` long; its
    simulator is ``w.sim`` for what a test appends later."""
    need_journal_remote()
    w = JournalWriter(path)
    w.sim = OllamaSim(random.Random(seed), models=[MODELS[0]])
    w.append(w.sim.boot() + w.sim.lines(lines))
    return w


def service_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OLLAMA_", "INFLUXDB_V2_", "NOTIFY_SOCKET", "WATCHDOG_", "STATE_DIRECTORY",
                                "CREDENTIALS_DIRECTORY", "JOURNAL_STREAM"))}
    env.update({"OLLAMA_INGEST_CONFIG": os.devnull, "OLLAMA_INGEST_TOKEN": "test-token",
                "OLLAMA_INGEST_OLLAMA_URL": "http://127.0.0.1:9", "OLLAMA_INGEST_INVENTORY_INTERVAL_S": "0",
                "OLLAMA_MODELS": "/nonexistent/models", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


class Daemon:
    """``ollama-ingest run`` as a subprocess; stderr collected in a file."""

    def __init__(self, journal: Path, url: str, bucket: str, state_dir: Path, log: Path,
                 args: list[str] | None = None, env: dict | None = None, verbose: int = 0) -> None:
        self.cmd = [sys.executable, "-m", "ollama_ingest.cli", *(["-" + "v" * verbose] if verbose else []),
                    "run", "--journal-file", str(journal),
                    "--url", url, "--org", "o", "--bucket", bucket, "--state-dir", str(state_dir),
                    *(args or [])]
        self.env = service_env(env)
        self.log = Path(log)
        self.state_dir = Path(state_dir)
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> Daemon:
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         env=self.env, cwd=ROOT)
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 10.0) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds it took)."""
        t0 = time.monotonic()
        self.kill(signal.SIGTERM)
        rc = self.wait(timeout)
        return rc, time.monotonic() - t0

    def ensure_dead(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def checkpoint_cursor(self) -> str | None:
        from ollama_ingest import checkpoint

        try:
            cp = checkpoint.load(self.state_dir)
        except checkpoint.CheckpointError:
            return None
        return cp.cursor if cp else None

    def wait_for_cursor(self, cursor: str, timeout: float = 60.0) -> float:
        """Until the checkpoint holds ``cursor`` (everything up to it acknowledged); returns the seconds."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.checkpoint_cursor() == cursor:
                return time.monotonic() - t0
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"the daemon exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"checkpoint did not reach {cursor} in {timeout} s:\n{self.log_text()[-3000:]}")


# -- systemd's notify socket -----------------------------------------------------------------------------
class NotifySocket:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path if not path.startswith("@") else "\0" + path[1:])
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.sock.close()

    def lines(self) -> list[tuple[float, str]]:
        return [(t, ln) for t, m in self.messages for ln in m.split("\n")]


def run_cli(args: list[str], env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ollama_ingest.cli", *args], capture_output=True, text=True,
                          env=service_env(env), cwd=ROOT, timeout=timeout)


def proc_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def proc_cpu_s(pid: int) -> float:
    """CPU time of all the process's threads, in s, at ns resolution (schedstat), ticks as a fallback."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


# -- the database ----------------------------------------------------------------------------------------
def dump(influx, db: str, exclude: set[str] = COMPARE_EXCLUDE) -> dict[str, list[tuple]]:
    """measurement → sorted rows (every tag and field, exact), for equality checks."""
    out: dict[str, list[tuple]] = {}
    for row in influx.query("SHOW MEASUREMENTS", db=db):
        m = row["name"]
        if m in exclude:
            continue
        rows = influx.query(f'SELECT * FROM "{m}" GROUP BY *', db=db)
        out[m] = sorted(tuple(sorted((k, v) for k, v in r.items() if v is not None)) for r in rows)
    return out


def diff_dumps(a: dict, b: dict) -> tuple[int, int, list[str]]:
    """(rows only in a = lost, rows only in b = extra/duplicated, a few examples)."""
    lost = extra = 0
    examples: list[str] = []
    for m in sorted(set(a) | set(b)):
        ra, rb = set(a.get(m, [])), set(b.get(m, []))
        only_a, only_b = ra - rb, rb - ra
        lost += len(only_a)
        extra += len(only_b)
        for r in list(only_a)[:2]:
            examples.append(f"lost {m}: {dict(r)}")
        for r in list(only_b)[:2]:
            examples.append(f"extra {m}: {dict(r)}")
    return lost, extra, examples


def free_disk_ok(path: Path, need: int = 200 << 20) -> bool:
    return shutil.disk_usage(path).free > need
