#!/usr/bin/env python3
"""Deterministic generator of a realistic Ollama systemd journal, for benchmarks.

Writes N entries of one Ollama era (E v0.11.4, F v0.12.3, G v0.32.9) as ``journalctl -o export``
(default), ``-o json`` or ``-o short-precise -a`` text, streaming with constant memory. The same seed
gives the same entries in every format, so the three forms of one run hold identical content.

The mix follows what a busy single-GPU server logs at the default INFO level: ~90 % llama.cpp /
runner / llama-server output (model loads; in era G also per-request ``srv``/``slot`` lines), ``[GIN]``
access lines (many health checks and some real requests), the era's slog INFO/WARN load lines, a few
systemd lines around service restarts, and ~0.1 % entries whose MESSAGE is not printable UTF-8 (ANSI
colours, invalid UTF-8), which the export form writes as ``KEY\\n`` + u64le length + bytes + ``\\n``.
Every ollama entry carries the trusted fields journald adds for a service, so the entry size is like a
real export (~700–900 bytes).

``--day`` shapes it like a real day the benchmarks compare against: short entries (~500 bytes: the
process's path, command line, cgroup and ids left out), a server that mostly keeps serving the model it has
loaded and answers health checks every few seconds, so about three quarters of the entries are llama.cpp
output. Without it the output is exactly what it always was for a seed.

    python bench/gen_journal.py --era e -n 1000000 --out bench/data/era-e-1m.export
    python bench/gen_journal.py --era g -n 100000 --format json --out /tmp/g.json
    python bench/gen_journal.py --day -n 200000 --out bench/data/day-e-200k.export

A summary (entries by kind, bytes, seconds) goes to stderr and to ``<out>.meta.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout's testbed/

from gen_eras import ERAS, EraLines  # noqa: E402  (bench/, beside this file)

from testbed import ollamalog as ol  # noqa: E402
from testbed.journalform import FORMATS, JournalStream, Proc  # noqa: E402
from testbed.llamacpp import Model  # noqa: E402

# name, arch, engine (E/F: "ollama" = --ollama-engine), layers, tensors, file type, size GiB, params,
# ctx_train, n_embd, n_head, n_head_kv, n_ff, n_vocab, kind
MODELS = [Model(*m) for m in [
    ("llama3.1:8b", "llama", "llama", 32, 292, "Q4_K - Medium", 4.58, "8.03 B", 131072, 4096, 32, 8, 14336, 128256, "chat"),
    ("qwen2.5:7b", "qwen2", "llama", 28, 339, "Q4_K - Medium", 4.36, "7.62 B", 32768, 3584, 28, 4, 18944, 152064, "chat"),
    ("qwen3:8b", "qwen3", "ollama", 36, 399, "Q4_K - Medium", 4.86, "8.19 B", 40960, 4096, 32, 8, 12288, 151936, "chat"),
    ("gemma3:12b", "gemma3", "ollama", 48, 1065, "Q4_K - Medium", 7.57, "11.77 B", 131072, 3840, 16, 8, 15360, 262144, "chat"),
    ("mistral:7b", "llama", "llama", 32, 291, "Q4_0", 3.83, "7.25 B", 32768, 4096, 32, 8, 14336, 32768, "chat"),
    ("deepseek-r1:14b", "qwen2", "llama", 48, 579, "Q4_K - Medium", 8.37, "14.77 B", 131072, 5120, 40, 8, 13824, 152064, "chat"),
    ("nomic-embed-text:latest", "nomic-bert", "llama", 12, 112, "F16", 0.26, "136.73 M", 2048, 768, 12, 12, 3072, 30522, "embed"),
]]
MODEL_WEIGHTS = [22, 14, 14, 10, 6, 6, 28]

def hexid(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


# --day: the fields a short entry leaves out (the entry is ~500 bytes instead of ~850)
DAY_LEFT_OUT = frozenset({"_EXE", "_CMDLINE", "_CAP_EFFECTIVE", "_SELINUX_CONTEXT", "_SYSTEMD_CGROUP",
                          "_SYSTEMD_SLICE", "_SYSTEMD_INVOCATION_ID", "_STREAM_ID", "_MACHINE_ID"})
DAY_STAY = 0.5  # --day: how often the next requests go to the model loaded last (no load in between)
DAY_HEALTH = 6  # --day: mean health checks between two rounds of requests (else 4)


class _Done(Exception):
    pass


class Gen(EraLines):
    """The story: a server that starts, loads models (gen_eras.py: what each era prints), serves requests
    and health checks, and is restarted now and then; every line goes through ``emit``."""

    def __init__(self, era: str, n: int, seed: int, fmt: str, day: bool = False) -> None:
        self.era = era
        self.day = day
        self.cfg = ERAS[era]
        self.n = n
        self.fmt = fmt
        self.rng = random.Random(f"{seed}-{era}")
        rng = self.rng
        self.tz = self.cfg["tz"]
        self.clock = ol.Clock(self.tz)
        start = datetime.fromisoformat(self.cfg["start"]).replace(tzinfo=self.tz)
        self.t = int(start.timestamp()) * 1_000_000 + 123_456
        self.boot_us = self.t - 3 * 3600 * 1_000_000 - rng.randrange(10**9)
        self.boot = hexid(rng)
        self.machine = hexid(rng)
        self.seqid = hexid(rng)
        self.seq = 0
        self.kinds: Counter[str] = Counter()
        self.host = self.cfg["host"]
        self.models_dir = self.cfg["models_dir"]
        self.gpu_id = "GPU-" + "-".join(f"{rng.getrandbits(b * 4):0{b}x}" for b in (8, 4, 4, 4, 12))
        self.stream: JournalStream | None = None
        self.loaded: list[Model] = []  # models currently loaded (most recent last)
        self.next_pid = 1500 + rng.randrange(500)
        self.server_pid = 0
        self.systemd = self._systemd_proc()
        self.task = 0
        self.runner: Proc | None = None
        self.new_server()

    # ----------------------------------------------------------------- processes and fields

    def _pid(self) -> int:
        self.next_pid += 1 + self.rng.randrange(400)
        return self.next_pid

    def _service_fields(self, pid: int, comm: str, exe: str, cmdline: str) -> list[tuple[str, str]]:
        fields = [
            ("_BOOT_ID", self.boot), ("_TRANSPORT", "stdout"), ("PRIORITY", "6"), ("SYSLOG_FACILITY", "3"),
            ("SYSLOG_IDENTIFIER", "ollama"), ("_PID", str(pid)), ("_UID", "998"), ("_GID", "998"),
            ("_COMM", comm), ("_EXE", exe), ("_CMDLINE", cmdline), ("_CAP_EFFECTIVE", "0"),
            ("_SELINUX_CONTEXT", "unconfined"), ("_SYSTEMD_CGROUP", "/system.slice/ollama.service"),
            ("_SYSTEMD_UNIT", "ollama.service"), ("_SYSTEMD_SLICE", "system.slice"),
            ("_SYSTEMD_INVOCATION_ID", self.invocation), ("_MACHINE_ID", self.machine),
            ("_HOSTNAME", self.host), ("_STREAM_ID", self.stream_id),
        ]
        return [f for f in fields if f[0] not in DAY_LEFT_OUT] if self.day else fields

    def _systemd_proc(self) -> Proc:
        self.invocation = hexid(self.rng)
        return Proc([
            ("_BOOT_ID", self.boot), ("_TRANSPORT", "journal"), ("PRIORITY", "6"), ("SYSLOG_FACILITY", "3"),
            ("SYSLOG_IDENTIFIER", "systemd"), ("_PID", "1"), ("_UID", "0"), ("_GID", "0"), ("_COMM", "systemd"),
            ("_EXE", "/usr/lib/systemd/systemd"), ("_CMDLINE", "/sbin/init"), ("_CAP_EFFECTIVE", "1ffffffffff"),
            ("_SELINUX_CONTEXT", "unconfined"), ("_SYSTEMD_CGROUP", "/init.scope"), ("_SYSTEMD_UNIT", "init.scope"),
            ("_SYSTEMD_SLICE", "-.slice"), ("_MACHINE_ID", self.machine), ("_HOSTNAME", self.host),
            ("CODE_FILE", "src/core/unit.c"), ("CODE_LINE", "5780"), ("CODE_FUNC", "unit_log_success"),
            ("MESSAGE_ID", "7ad2d189f7e94e70a38c781354912448"), ("UNIT", "ollama.service"),
            ("INVOCATION_ID", self.invocation), ("_SOURCE_REALTIME_TIMESTAMP", "0"),
        ], "systemd", 1)

    def new_server(self) -> None:
        self.invocation = hexid(self.rng)
        self.systemd = Proc([(k, self.invocation if k == "INVOCATION_ID" else v)
                             for k, v in self.systemd.fields], "systemd", 1)
        self.stream_id = hexid(self.rng)
        self.server_pid = self._pid()
        self.server = Proc(self._service_fields(self.server_pid, "ollama", "/usr/local/bin/ollama",
                                                "/usr/local/bin/ollama serve"), "ollama", self.server_pid)
        self.port_base = 33000 + self.rng.randrange(20000)

    def new_runner(self, cmd: str) -> Proc | None:
        if not self.cfg["runner_pid_stdout"]:
            return None
        pid = self._pid()
        exe = "/usr/local/bin/ollama"
        self.runner = Proc(self._service_fields(pid, "ollama", exe, cmd), "ollama", pid)
        return self.runner

    # ----------------------------------------------------------------- output

    @property
    def bytes(self) -> int:
        return self.stream.bytes if self.stream else 0

    def _cursor(self, seq: int, t: int, mono: int) -> str:
        return (f"s={self.seqid};i={seq:x};b={self.boot};m={mono:x};t={t:x};"
                f"x={(seq * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF:016x}")

    def emit(self, dt_us: int, kind: str, msg: str | bytes, proc: Proc | None = None) -> None:
        self.t += dt_us if dt_us > 0 else 1
        self.seq += 1
        t = self.t
        if self.stream.cursors:
            mono = t - self.boot_us
            self.stream.write(msg, proc or self.server, t, mono, self._cursor(self.seq, t, mono))
        else:
            self.stream.write(msg, proc or self.server, t)
        self.kinds[kind] += 1
        if self.seq >= self.n:
            raise _Done
        if self.rng.random() < 0.001:
            self.binary()

    # ----------------------------------------------------------------- line builders

    def slog(self, dt: int, level: str, source: str, rest: str, kind: str | None = None) -> None:
        self.t += dt if dt > 0 else 1
        line = ol.slog_line(self.clock.slog(self.t), level, source, rest)
        self.emit(0, kind or ("slog_warn" if level == "WARN" else "slog_info"), line)

    def noise(self, dt: int, line: str, proc: Proc | None = None) -> None:
        self.emit(dt, "noise", line, proc)

    def gin(self, dt: int, status: int, lat_ns: int, ip: str, method: str, path: str, kind: str,
            color: bool = False) -> None:
        self.t += dt if dt > 0 else 1
        line = ol.gin(self.clock.gin(self.t), status, ol.go_duration(lat_ns), ip, method, path, color)
        if color:  # journald keeps a line with escape sequences as a binary field
            self.emit(0, "binary", line.encode())
        else:
            self.emit(0, kind, line)

    def binary(self) -> None:
        """~0.1 % of entries: MESSAGE that journald stores as a binary field."""
        r = self.rng.random()
        if r < 0.4:
            self.gin(self.rng.randrange(1, 2000), 200, self.rng.randrange(8_000, 90_000), "127.0.0.1",
                     "GET", "/api/ps", "binary", color=True)
        elif r < 0.5:
            line = ol.gin_recovery(self.clock.gin(self.t))
            self.emit(self.rng.randrange(1, 500), "binary", line.encode())
        else:
            # a token piece cut in the middle of a multi-byte sequence
            piece = self.rng.choice([b"\xe2\x96", b"\xf0\x9f\x98", b"\xc3", b"\xe4\xbd"])
            tid = self.rng.randrange(100, 150000)
            if self.era == "g":
                line = (b"slot process_toke: id  0 | task " + str(self.task).encode()
                        + b" | n_decoded = 17, piece = '" + piece + b"'")
            else:
                line = b"print_info: token to piece: " + str(tid).encode() + b" -> '" + piece + b"'"
            self.emit(self.rng.randrange(1, 500), "binary", line)

    # ----------------------------------------------------------------- blocks

    def systemd_line(self, dt: int, text: str) -> None:
        self.emit(dt, "systemd", text, self.systemd)

    def restart(self) -> None:
        rng = self.rng
        self.systemd_line(rng.randrange(10**6, 60 * 10**6), ol.systemd_stopping())
        self.systemd_line(rng.randrange(10**4, 10**6), ol.systemd_deactivated())
        self.systemd_line(rng.randrange(100, 1000), ol.systemd_stopped())
        self.systemd_line(rng.randrange(100, 1000), ol.systemd_consumed(
            f"{rng.randrange(1, 20)}h {rng.randrange(60)}min {rng.randrange(60)}.{rng.randrange(1000):03d}s"))
        self.loaded.clear()
        self.new_server()
        self.systemd_line(rng.randrange(10**5, 4 * 10**6), ol.systemd_started())
        self.startup()

    # --- requests -----------------------------------------------------------------------------

    HEALTH = [("HEAD", "/", 5_000, 60_000, 30), ("GET", "/api/ps", 25_000, 400_000, 25),
              ("GET", "/api/tags", 400_000, 15_000_000, 25), ("GET", "/api/version", 8_000, 80_000, 15),
              ("GET", "/", 4_000, 40_000, 5)]
    HEALTH_W = [h[4] for h in HEALTH]
    HEALTH_IPS = ["127.0.0.1", "127.0.0.1", "::1", "172.17.0.3", "172.17.0.3"]
    CLIENT_IPS = ["172.17.0.3", "172.17.0.3", "192.168.1.17", "10.0.0.123", "127.0.0.1",
                  "2001:db8:85a3::8a2e:370:7334"]

    def health(self) -> None:
        rng = self.rng
        method, path, lo, hi, _ = rng.choices(self.HEALTH, self.HEALTH_W)[0]
        lat = rng.randrange(lo, hi)
        if path == "/" and rng.random() < 0.05:
            lat = rng.randrange(300, 999)  # ns
        self.gin(rng.randrange(200_000, 15_000_000), 200, lat, rng.choice(self.HEALTH_IPS), method, path, "gin_health")

    def request(self, m: tuple, load_s: float) -> None:
        rng, era = self.rng, self.era
        ip = rng.choice(self.CLIENT_IPS)
        embed = m.kind == "embed"
        if embed:
            path = "/api/embed" if rng.random() < 0.8 else "/api/embeddings"
            lat = int(rng.lognormvariate(-2.5, 1.0) * 1e9)
        else:
            path = rng.choices(["/api/chat", "/api/generate", "/v1/chat/completions"], [55, 25, 20])[0]
            lat = int(rng.lognormvariate(1.3, 1.0) * 1e9)
            if rng.random() < 0.01:
                lat = int(rng.uniform(60, 1900) * 1e9)  # >1 minute: gin prints 1m2s
        lat += int(load_s * 1e9)
        status = rng.choices([200, 500, 400, 499], [96, 2, 1.5, 0.5])[0]
        if era != "g" and not embed and rng.random() < 0.04:
            self.slog(rng.randrange(1000, 100_000), "WARN", "runner.go:130",
                      f'"truncating input prompt" limit=4096 prompt={rng.randrange(4097, 20000)} keep=4 '
                      f'new={rng.randrange(3000, 4096)}')
        if era == "g":
            self.task += 1 + rng.randrange(3)
            tid = self.task
            npt = rng.randrange(20, 4000)
            npast = rng.randrange(0, npt)
            ngen = rng.randrange(5, 800)
            if not embed and rng.random() < 0.03:
                self.slog(rng.randrange(1000, 100_000), "WARN", "llama_server.go:702",
                          f'"truncating input prompt" limit=8192 prompt={rng.randrange(8193, 40000)} keep=4 '
                          f'new={rng.randrange(6000, 8192)}')
            d = rng.randrange
            if not embed:
                self.noise(d(1000, 50_000), "srv  params_from_: Chat format: Content-only")
            self.noise(d(100, 3000), f"slot get_availabl: id  0 | task -1 | selected slot by LCP similarity, "
                       f"sim_best = {rng.uniform(0.1, 1):.3f} (> 0.100 thold), f_keep = {rng.random():.3f}")
            self.noise(d(100, 3000), f"slot launch_slot_: id  0 | task {tid} | processing task")
            self.noise(d(100, 3000), f"slot update_slots: id  0 | task {tid} | new prompt, n_ctx_slot = 8192, "
                       f"n_keep = 0, n_prompt_tokens = {npt}")
            self.noise(d(100, 3000), f"slot update_slots: id  0 | task {tid} | n_past = {npast}, memory_seq_rm [{npast}, end)")
            self.noise(d(1000, 300_000), f"slot update_slots: id  0 | task {tid} | prompt processing progress, "
                       f"n_past = {npt}, n_tokens = {npt - npast}, progress = 1.000000")
            self.noise(d(100, 3000), f"slot update_slots: id  0 | task {tid} | prompt done, n_past = {npt}, "
                       f"n_tokens = {npt - npast}")
            pe = rng.uniform(20, 900)
            ev = rng.uniform(200, 20000)
            self.noise(int(lat / 1000 * 0.9), f"slot      release: id  0 | task {tid} | stop processing: "
                       f"n_past = {npt + ngen}, truncated = 0")
            self.noise(d(10, 100), f"slot print_timing: id  0 | task {tid} | ")
            self.noise(d(10, 100), f"prompt eval time = {pe:10.2f} ms / {npt - npast:5d} tokens ({pe / max(npt - npast, 1):8.2f} "
                       f"ms per token, {(npt - npast) / pe * 1000:8.2f} tokens per second)")
            self.noise(d(10, 100), f"       eval time = {ev:10.2f} ms / {ngen:5d} tokens ({ev / ngen:8.2f} ms per token, "
                       f"{ngen / ev * 1000:8.2f} tokens per second)")
            self.noise(d(10, 100), f"      total time = {pe + ev:10.2f} ms / {npt - npast + ngen:5d} tokens")
            self.noise(d(100, 3000), "srv  update_slots: all slots are idle")
            self.noise(d(100, 3000), f"srv  log_server_r: request: POST /{'embedding' if embed else 'completion'} "
                       f"127.0.0.1 {status if status != 499 else 200}")
            self.gin(d(100, 5000), status, lat, ip, "POST", path, "gin_request")
        else:
            self.gin(max(1, lat // 1000), status, lat, ip, "POST", path, "gin_request")

    # --- main loop ---------------------------------------------------------------------------

    def run(self, out) -> None:
        self.stream = JournalStream(self.fmt, out, self.host, self.clock)
        rng = self.rng
        restart_every = max(self.n // 4, 50_000)
        next_restart = restart_every // 2
        try:
            self.systemd_line(0, ol.systemd_started())
            self.startup()
            while True:
                if self.seq >= next_restart:
                    next_restart += restart_every
                    self.restart()
                for _ in range(int(rng.expovariate(1 / (DAY_HEALTH if self.day else 4))) + 1):
                    self.health()
                if rng.random() < 0.02:
                    p = rng.choice(["/api/show", "/api/pull", "/v1/models"])
                    self.gin(rng.randrange(10**5, 10**7), 200 if rng.random() < 0.9 else 404,
                             rng.randrange(200_000, 60_000_000), rng.choice(self.CLIENT_IPS),
                             "GET" if p == "/v1/models" else "POST", p, "gin_request")
                if rng.random() < 0.003:
                    self.gin(rng.randrange(10**5, 10**7), 204, rng.randrange(5_000, 40_000), "192.168.1.17",
                             "OPTIONS", "/api/chat", "gin_request")
                if self.day and self.loaded and rng.random() < DAY_STAY:
                    m = self.loaded[-1]
                else:
                    m = rng.choices(MODELS, MODEL_WEIGHTS)[0]
                load_s = 0.0
                if m not in self.loaded:
                    if len(self.loaded) >= 2 or (self.loaded and rng.random() < 0.5):
                        self.unload_one()
                    self.t += rng.randrange(10**6, 120 * 10**6)
                    load_s = self.load(m)
                else:
                    self.t += rng.randrange(10**6, 60 * 10**6)
                for i in range(int(rng.expovariate(1 / 2.5)) + 1):
                    self.request(m, load_s if i == 0 else 0.0)
                    if rng.random() < 0.5:
                        self.health()
        except _Done:
            pass
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--entries", type=int, default=1_000_000)
    ap.add_argument("--era", choices=sorted(ERAS), default="e")
    ap.add_argument("--format", choices=FORMATS, default="export")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--day", action="store_true", help="day-shaped: short entries (~500 B), a server that mostly "
                    "keeps its model loaded, ~3/4 llama.cpp output (default: the busy ~850 B/entry mix)")
    ap.add_argument("--out", default=None, help="default bench/data/era-<era>-<size>.<export|json|txt>")
    a = ap.parse_args(argv)
    if a.out is None:
        size = f"{a.entries // 1_000_000}m" if a.entries % 1_000_000 == 0 else (
            f"{a.entries // 1000}k" if a.entries % 1000 == 0 else str(a.entries))
        ext = {"export": "export", "json": "json", "text": "txt"}[a.format]
        a.out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", f"era-{a.era}-{size}.{ext}")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    g = Gen(a.era, a.entries, a.seed, a.format, day=a.day)
    t0 = time.perf_counter()
    tmp = a.out + ".part"
    with open(tmp, "wb", buffering=1 << 20) as f:
        g.run(f)
    os.replace(tmp, a.out)
    secs = time.perf_counter() - t0
    meta = {"era": a.era, "version": g.cfg["version"], "format": a.format, "seed": a.seed,
            **({"day": True} if a.day else {}), "entries": g.seq, "bytes": g.bytes, "bytes_per_entry": round(g.bytes / max(g.seq, 1), 1), "seconds": round(secs, 2),
            "kinds": dict(g.kinds.most_common()),
            "kind_share": {k: round(v / max(g.seq, 1), 5) for k, v in g.kinds.most_common()}}
    with open(a.out + ".meta.json", "w") as f:
        json.dump(meta, f, indent=1)
    print(f"{a.out}: {g.seq} entries, {g.bytes / 1e6:.1f} MB ({meta['bytes_per_entry']} B/entry) in {secs:.1f} s",
          file=sys.stderr)
    print("  " + ", ".join(f"{k} {v / g.seq:.2%}" for k, v in g.kinds.most_common()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
