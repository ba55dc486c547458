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

    python bench/gen_journal.py --era e -n 1000000 --out bench/data/era-e-1m.export
    python bench/gen_journal.py --era g -n 100000 --format json --out /tmp/g.json

A summary (entries by kind, bytes, seconds) goes to stderr and to ``<out>.meta.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import struct
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

FLUSH_EVERY = 4096

# ---------------------------------------------------------------------------------------------
# Eras

ERAS = {
    "e": dict(version="0.11.4", start="2025-08-04T08:00:00", tz=timezone(timedelta(hours=1)),
              host="j-360", models_dir="/usr/share/ollama/.ollama/models", gpu="NVIDIA GeForce RTX 3060",
              vram_gib=11.6, routes_line=1331, runner_pid_stdout=True),
    "f": dict(version="0.12.3", start="2025-10-06T08:00:00", tz=timezone(timedelta(hours=2)),
              host="ai-lab", models_dir="/usr/share/ollama/.ollama/models", gpu="NVIDIA GeForce RTX 4070 Ti SUPER",
              vram_gib=15.6, routes_line=1475, runner_pid_stdout=True),
    "g": dict(version="0.32.9", start="2026-08-24T08:00:00", tz=timezone.utc,
              host="llm-node1", models_dir="/home/ollama/.ollama/models", gpu="NVIDIA GeForce RTX 4090",
              vram_gib=23.5, routes_line=1933, runner_pid_stdout=False),
}

# name, arch, engine (E/F: "ollama" = --ollama-engine), layers, tensors, file type, size GiB, params,
# ctx_train, n_embd, n_head, n_head_kv, n_ff, n_vocab, kind
MODELS = [
    ("llama3.1:8b", "llama", "llama", 32, 292, "Q4_K - Medium", 4.58, "8.03 B", 131072, 4096, 32, 8, 14336, 128256, "chat"),
    ("qwen2.5:7b", "qwen2", "llama", 28, 339, "Q4_K - Medium", 4.36, "7.62 B", 32768, 3584, 28, 4, 18944, 152064, "chat"),
    ("qwen3:8b", "qwen3", "ollama", 36, 399, "Q4_K - Medium", 4.86, "8.19 B", 40960, 4096, 32, 8, 12288, 151936, "chat"),
    ("gemma3:12b", "gemma3", "ollama", 48, 1065, "Q4_K - Medium", 7.57, "11.77 B", 131072, 3840, 16, 8, 15360, 262144, "chat"),
    ("mistral:7b", "llama", "llama", 32, 291, "Q4_0", 3.83, "7.25 B", 32768, 4096, 32, 8, 14336, 32768, "chat"),
    ("deepseek-r1:14b", "qwen2", "llama", 48, 579, "Q4_K - Medium", 8.37, "14.77 B", 131072, 5120, 40, 8, 13824, 152064, "chat"),
    ("nomic-embed-text:latest", "nomic-bert", "llama", 12, 112, "F16", 0.26, "136.73 M", 2048, 768, 12, 12, 3072, 30522, "embed"),
]
MODEL_WEIGHTS = [22, 14, 14, 10, 6, 6, 28]

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def blob(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def hexid(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def go_frac(v: int, unit: int, digits: int) -> str:
    whole, frac = divmod(v, unit)
    f = f"{frac:0{digits}d}".rstrip("0")
    return f"{whole}.{f}" if f else str(whole)


def gin_latency(ns: int) -> str:
    """Go time.Duration.String(), with gin's truncation to whole seconds above one minute."""
    if ns <= 0:
        return "0s"
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return go_frac(ns, 1_000, 3) + "\u00b5s"
    if ns < 1_000_000_000:
        return go_frac(ns, 1_000_000, 6) + "ms"
    if ns <= 60_000_000_000:
        return go_frac(ns, 1_000_000_000, 9) + "s"
    s = ns // 1_000_000_000
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return (f"{h}h" if h else "") + f"{m}m{s}s"


def human(gib: float) -> str:
    """format.HumanBytes2-like rendering of a size given in GiB."""
    if gib >= 1:
        return f"{gib:.1f} GiB"
    return f"{gib * 1024:.1f} MiB"


class _Done(Exception):
    pass


class Proc:
    """One writer process: the journal fields journald adds for it, pre-rendered per output format."""

    def __init__(self, fields: list[tuple[str, str]], ident: str, pid: int) -> None:
        self.fields = fields
        self.ident = ident
        self.pid = pid
        self.export = "".join(f"{k}={v}\n" for k, v in fields)
        self.json = "".join(f",{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}" for k, v in fields)
        self.text_tag = f"{ident}[{pid}]: "


class Gen:
    def __init__(self, era: str, n: int, seed: int, fmt: str) -> None:
        self.era = era
        self.cfg = ERAS[era]
        self.n = n
        self.fmt = fmt
        self.rng = random.Random(f"{seed}-{era}")
        rng = self.rng
        self.tz = self.cfg["tz"]
        tzs = datetime(2000, 1, 1, tzinfo=self.tz).strftime("%z")
        self.tzs = "Z" if tzs == "+0000" else f"{tzs[:3]}:{tzs[3:]}"
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
        self._sec = -1
        self.buf: list[str] = []
        self.out = None
        self.bytes = 0
        self.loaded: list[tuple] = []  # models currently loaded (most recent last)
        self.next_pid = 1500 + rng.randrange(500)
        self.server_pid = 0
        self.systemd = self._systemd_proc()
        self.task = 0
        self.runner: Proc | None = None
        self.new_server()
        self._emit = {"export": self._emit_export, "json": self._emit_json, "text": self._emit_text}[fmt]

    # ----------------------------------------------------------------- processes and fields

    def _pid(self) -> int:
        self.next_pid += 1 + self.rng.randrange(400)
        return self.next_pid

    def _service_fields(self, pid: int, comm: str, exe: str, cmdline: str) -> list[tuple[str, str]]:
        return [
            ("_BOOT_ID", self.boot), ("_TRANSPORT", "stdout"), ("PRIORITY", "6"), ("SYSLOG_FACILITY", "3"),
            ("SYSLOG_IDENTIFIER", "ollama"), ("_PID", str(pid)), ("_UID", "998"), ("_GID", "998"),
            ("_COMM", comm), ("_EXE", exe), ("_CMDLINE", cmdline), ("_CAP_EFFECTIVE", "0"),
            ("_SELINUX_CONTEXT", "unconfined"), ("_SYSTEMD_CGROUP", "/system.slice/ollama.service"),
            ("_SYSTEMD_UNIT", "ollama.service"), ("_SYSTEMD_SLICE", "system.slice"),
            ("_SYSTEMD_INVOCATION_ID", self.invocation), ("_MACHINE_ID", self.machine),
            ("_HOSTNAME", self.host), ("_STREAM_ID", self.stream_id),
        ]

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

    def _stamp(self) -> None:
        sec = self.t // 1_000_000
        if sec != self._sec:
            self._sec = sec
            d = datetime.fromtimestamp(sec, self.tz)
            self._iso = d.strftime("%Y-%m-%dT%H:%M:%S")
            self._gin = d.strftime("%Y/%m/%d - %H:%M:%S")
            self._short = f"{MONTHS[d.month - 1]} {d.day:02d} {d.strftime('%H:%M:%S')}"

    def _head(self) -> tuple[int, int, str]:
        self.seq += 1
        seq = self.seq
        t = self.t
        mono = t - self.boot_us
        cursor = (f"s={self.seqid};i={seq:x};b={self.boot};m={mono:x};t={t:x};"
                  f"x={(seq * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF:016x}")
        return t, mono, cursor

    def _emit_export(self, msg: str | bytes, proc: Proc) -> None:
        t, mono, cursor = self._head()
        head = f"__CURSOR={cursor}\n__REALTIME_TIMESTAMP={t}\n__MONOTONIC_TIMESTAMP={mono}\n{proc.export}"
        if proc is self.systemd:
            head = head.replace("_SOURCE_REALTIME_TIMESTAMP=0\n", f"_SOURCE_REALTIME_TIMESTAMP={t - 37}\n")
        if type(msg) is str:
            self.buf.append(f"{head}MESSAGE={msg}\n\n")
        else:
            self._flush()
            raw = head.encode() + b"MESSAGE\n" + struct.pack("<Q", len(msg)) + msg + b"\n\n"
            self.out.write(raw)
            self.bytes += len(raw)

    def _emit_json(self, msg: str | bytes, proc: Proc) -> None:
        t, mono, cursor = self._head()
        fields = proc.json
        if proc is self.systemd:
            fields = fields.replace('"_SOURCE_REALTIME_TIMESTAMP":"0"', f'"_SOURCE_REALTIME_TIMESTAMP":"{t - 37}"')
        if type(msg) is str:
            m = json.dumps(msg, ensure_ascii=False)
        else:  # journalctl -o json: a field that is not printable UTF-8 is an array of byte values
            m = "[" + ",".join(map(str, msg)) + "]"
        self.buf.append(f'{{"__CURSOR":"{cursor}","__REALTIME_TIMESTAMP":"{t}",'
                        f'"__MONOTONIC_TIMESTAMP":"{mono}"{fields},"MESSAGE":{m}}}\n')

    def _emit_text(self, msg: str | bytes, proc: Proc) -> None:
        self.seq += 1
        self._stamp()
        head = f"{self._short}.{self.t % 1_000_000:06d} {self.host} {proc.text_tag}"
        if type(msg) is str:
            self.buf.append(head + msg + "\n")
        else:  # -a prints the raw bytes
            self._flush()
            raw = head.encode() + msg + b"\n"
            self.out.write(raw)
            self.bytes += len(raw)

    def _flush(self) -> None:
        if self.buf:
            data = "".join(self.buf).encode("utf-8", "surrogateescape")
            self.out.write(data)
            self.bytes += len(data)
            self.buf.clear()

    def emit(self, dt_us: int, kind: str, msg: str | bytes, proc: Proc | None = None) -> None:
        self.t += dt_us if dt_us > 0 else 1
        self._emit(msg, proc or self.server)
        self.kinds[kind] += 1
        if len(self.buf) >= FLUSH_EVERY:
            self._flush()
        if self.seq >= self.n:
            raise _Done
        if self.rng.random() < 0.001:
            self.binary()

    # ----------------------------------------------------------------- line builders

    def slog(self, dt: int, level: str, source: str, rest: str, kind: str | None = None) -> None:
        self.t += dt if dt > 0 else 1
        self._stamp()
        ms = (self.t // 1000) % 1000
        line = f"time={self._iso}.{ms:03d}{self.tzs} level={level} source={source} msg={rest}"
        self.emit(0, kind or ("slog_warn" if level == "WARN" else "slog_info"), line)

    def noise(self, dt: int, line: str, proc: Proc | None = None) -> None:
        self.emit(dt, "noise", line, proc)

    def gin(self, dt: int, status: int, lat_ns: int, ip: str, method: str, path: str, kind: str,
            color: bool = False) -> None:
        self.t += dt if dt > 0 else 1
        self._stamp()
        lat = gin_latency(lat_ns)
        if not color:
            line = f"[GIN] {self._gin} | {status:3d} | {lat:>13} | {ip:>15} | {method:<7}  \"{path}\""
            self.emit(0, kind, line)
            return
        sc = {2: "\x1b[97;42m", 3: "\x1b[90;47m", 4: "\x1b[90;43m", 5: "\x1b[97;41m"}[status // 100]
        mc = {"GET": "\x1b[97;44m", "POST": "\x1b[97;46m", "HEAD": "\x1b[97;45m",
              "DELETE": "\x1b[97;41m", "OPTIONS": "\x1b[90;47m"}[method]
        line = (f"[GIN] {self._gin} |{sc} {status:3d} \x1b[0m| {lat:>13} | {ip:>15} |{mc} {method:<7} "
                f"\x1b[0m \"{path}\"")
        self.emit(0, "binary", line.encode())

    def binary(self) -> None:
        """~0.1 % of entries: MESSAGE that journald stores as a binary field."""
        r = self.rng.random()
        if r < 0.4:
            self.gin(self.rng.randrange(1, 2000), 200, self.rng.randrange(8_000, 90_000), "127.0.0.1",
                     "GET", "/api/ps", "binary", color=True)
        elif r < 0.5:
            self._stamp()
            line = f"\x1b[31m[Recovery] {self._gin} panic recovered:"
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
        self.systemd_line(rng.randrange(10**6, 60 * 10**6), "Stopping ollama.service - Ollama Service...")
        self.systemd_line(rng.randrange(10**4, 10**6), "ollama.service: Deactivated successfully.")
        self.systemd_line(rng.randrange(100, 1000), "Stopped ollama.service - Ollama Service.")
        self.systemd_line(rng.randrange(100, 1000),
                          f"ollama.service: Consumed {rng.randrange(1, 20)}h {rng.randrange(60)}min "
                          f"{rng.randrange(60)}.{rng.randrange(1000):03d}s CPU time.")
        self.loaded.clear()
        self.new_server()
        self.systemd_line(rng.randrange(10**5, 4 * 10**6), "Started ollama.service - Ollama Service.")
        self.startup()

    def startup(self) -> None:
        rng, c, era = self.rng, self.cfg, self.era
        mdir = self.models_dir
        origins = ("[http://localhost https://localhost http://localhost:* https://localhost:* http://127.0.0.1 "
                   "https://127.0.0.1 http://127.0.0.1:* https://127.0.0.1:* http://0.0.0.0 https://0.0.0.0 "
                   "http://0.0.0.0:* https://0.0.0.0:* app://* file://* tauri://* vscode-webview://* vscode-file://*]")
        env = (f"map[CUDA_VISIBLE_DEVICES: GPU_DEVICE_ORDINAL: HIP_VISIBLE_DEVICES: HSA_OVERRIDE_GFX_VERSION: "
               f"HTTPS_PROXY: HTTP_PROXY: NO_PROXY: OLLAMA_CONTEXT_LENGTH:{8192 if era == 'g' else 4096} "
               f"OLLAMA_DEBUG:INFO OLLAMA_FLASH_ATTENTION:false OLLAMA_GPU_OVERHEAD:0 OLLAMA_HOST:http://0.0.0.0:11434 "
               f"OLLAMA_INTEL_GPU:false OLLAMA_KEEP_ALIVE:5m0s OLLAMA_KV_CACHE_TYPE: OLLAMA_LLM_LIBRARY: "
               f"OLLAMA_LOAD_TIMEOUT:5m0s OLLAMA_MAX_LOADED_MODELS:0 OLLAMA_MAX_QUEUE:512 OLLAMA_MODELS:{mdir} "
               f"OLLAMA_MULTIUSER_CACHE:false OLLAMA_NEW_ENGINE:false OLLAMA_NOHISTORY:false OLLAMA_NOPRUNE:false "
               f"OLLAMA_NUM_PARALLEL:1 OLLAMA_ORIGINS:{origins} OLLAMA_SCHED_SPREAD:false ROCR_VISIBLE_DEVICES: "
               f"http_proxy: https_proxy: no_proxy:]")
        self.slog(rng.randrange(20_000, 90_000), "INFO", f"routes.go:{c['routes_line']}", f'"server config" env="{env}"')
        self.slog(rng.randrange(100, 3000), "INFO", "images.go:477", f'"total blobs: {rng.randrange(20, 60)}"')
        self.slog(rng.randrange(100, 3000), "INFO", "images.go:484", '"total unused blobs removed: 0"')
        if era == "g":
            self.slog(rng.randrange(100, 3000), "INFO", "routes.go:1988", '"Ollama cloud disabled: false"')
        self.slog(rng.randrange(100, 3000), "INFO", f"routes.go:{c['routes_line'] + 53}",
                  f'"Listening on [::]:11434 (version {c["version"]})"')
        vram = c["vram_gib"]
        if era == "e":
            self.slog(rng.randrange(100, 3000), "INFO", "gpu.go:217", '"looking for compatible GPUs"')
            self.slog(rng.randrange(200_000, 900_000), "INFO", "types.go:130",
                      f'"inference compute" id={self.gpu_id} library=cuda variant=v12 compute=8.6 driver=12.8 '
                      f'name="{c["gpu"]}" total="{vram:.1f} GiB" available="{vram - 0.2:.1f} GiB"')
        else:
            self.slog(rng.randrange(100, 3000), "INFO", "runner.go:80", '"discovering available GPUs..."')
            lib, extra = ("CUDA", "")
            self.slog(rng.randrange(200_000, 900_000), "INFO", "types.go:42",
                      f'"inference compute" id={self.gpu_id}{extra} library={lib} compute=8.9 name=CUDA0 '
                      f'description="{c["gpu"]}" libdirs=ollama,cuda_v12 driver=12.8 pci_id=0000:01:00.0 '
                      f'type=discrete total="{vram:.1f} GiB" available="{vram - 0.4:.1f} GiB"')
            if era == "g":
                self.slog(rng.randrange(100, 3000), "INFO", "routes.go:2033",
                          '"vram-based default context" total_vram="23.5 GiB" default_num_ctx=32768')

    # --- llama.cpp output during a load ---------------------------------------------------

    def kv_dump(self, m: tuple, proc: Proc | None) -> None:
        name, arch, _eng, layers, tensors, ftype, size, params, ctx, embd, head, head_kv, ff, vocab, kind = m
        path = f"{self.models_dir}/blobs/sha256-{blob(name)}"
        kvs = [
            ("general.architecture", "str", arch), ("general.type", "str", "model"),
            ("general.name", "str", name.split(":")[0].title()), ("general.finetune", "str", "Instruct"),
            ("general.basename", "str", name.split(":")[0]), ("general.size_label", "str", params.replace(" ", "")),
            ("general.license", "str", "apache-2.0"), ("general.tags", "arr[str,2]", '["chat", "text-generation"]'),
            ("general.languages", "arr[str,1]", '["en"]'),
            (f"{arch}.block_count", "u32", str(layers)), (f"{arch}.context_length", "u32", str(ctx)),
            (f"{arch}.embedding_length", "u32", str(embd)), (f"{arch}.feed_forward_length", "u32", str(ff)),
            (f"{arch}.attention.head_count", "u32", str(head)), (f"{arch}.attention.head_count_kv", "u32", str(head_kv)),
            (f"{arch}.rope.freq_base", "f32", "500000.000000"),
            (f"{arch}.attention.layer_norm_rms_epsilon", "f32", "0.000010"),
            ("general.file_type", "u32", "15"), (f"{arch}.vocab_size", "u32", str(vocab)),
            (f"{arch}.rope.dimension_count", "u32", "128"),
            ("tokenizer.ggml.model", "str", "gpt2"), ("tokenizer.ggml.pre", "str", arch),
            ("tokenizer.ggml.tokens", f"arr[str,{vocab}]", '["!", "\\"", "#", "$", "%", "&", "\'", ...'),
            ("tokenizer.ggml.token_type", f"arr[i32,{vocab}]", "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ..."),
            ("tokenizer.ggml.merges", "arr[str,280147]", '["\u0120 \u0120", "\u0120 \u0120\u0120\u0120", "\u0120\u0120 \u0120\u0120", "...'),
            ("tokenizer.ggml.bos_token_id", "u32", "128000"), ("tokenizer.ggml.eos_token_id", "u32", "128009"),
            ("tokenizer.ggml.padding_token_id", "u32", "128004"),
            ("tokenizer.chat_template", "str", "{{- bos_token }}\\n{%- if custom_tools is defined %}\\n    {%- set tools_in_user..."),
            ("general.quantization_version", "u32", "2"),
        ]
        rng = self.rng
        self.noise(rng.randrange(500, 4000), f"llama_model_loader: loaded meta data with {len(kvs)} key-value pairs "
                   f"and {tensors} tensors from {path} (version GGUF V3 (latest))", proc)
        self.noise(20, "llama_model_loader: Dumping metadata keys/values. Note: KV overrides do not apply in this output.", proc)
        for i, (k, t, v) in enumerate(kvs):
            self.noise(rng.randrange(5, 60), f"llama_model_loader: - kv {i:3d}: {k:>42} {t:<16} = {v}", proc)
        self.noise(10, f"llama_model_loader: - type  f32:  {tensors // 4:3d} tensors", proc)
        self.noise(10, f"llama_model_loader: - type q4_K:  {tensors // 2:3d} tensors", proc)
        self.noise(10, f"llama_model_loader: - type q6_K:  {tensors - tensors // 4 - tensors // 2:3d} tensors", proc)

    def print_info(self, m: tuple, proc: Proc | None, vocab_only: bool) -> None:
        name, arch, _eng, layers, tensors, ftype, size, params, ctx, embd, head, head_kv, ff, vocab, kind = m
        rng = self.rng
        lines = [
            "file format = GGUF V3 (latest)", f"file type   = {ftype}",
            f"file size   = {size:.2f} GiB ({size * 8.59 / max(float(params.split()[0]), 0.1):.2f} BPW)",
        ]
        self.noise(rng.randrange(20, 200), "print_info: " + lines[0], proc)
        self.noise(10, "print_info: " + lines[1], proc)
        self.noise(10, "print_info: " + lines[2], proc)
        self.noise(rng.randrange(1000, 30000), "load: special tokens cache size = 256", proc)
        self.noise(rng.randrange(1000, 30000), "load: token to piece cache size = 0.7999 MB", proc)
        body = [f"arch             = {arch}", f"vocab_only       = {int(vocab_only)}"]
        if not vocab_only:
            body += [
                f"n_ctx_train      = {ctx}", f"n_embd           = {embd}", f"n_layer          = {layers}",
                f"n_head           = {head}", f"n_head_kv        = {head_kv}", "n_rot            = 128",
                "n_swa            = 0", "is_swa_any       = 0", "n_embd_head_k    = 128", "n_embd_head_v    = 128",
                f"n_gqa            = {head // head_kv}", f"n_embd_k_gqa     = {128 * head_kv}",
                f"n_embd_v_gqa     = {128 * head_kv}", "f_norm_eps       = 0.0e+00", "f_norm_rms_eps   = 1.0e-05",
                "f_clamp_kqv      = 0.0e+00", "f_max_alibi_bias = 0.0e+00", "f_logit_scale    = 0.0e+00",
                "f_attn_scale     = 0.0e+00", f"n_ff             = {ff}", "n_expert         = 0",
                "n_expert_used    = 0", "causal attn      = 1", "pooling type     = 0", "rope type        = 0",
                "rope scaling     = linear", "freq_base_train  = 500000.0", "freq_scale_train = 1",
                f"n_ctx_orig_yarn  = {ctx}", "rope_finetuned   = unknown", f"model type       = {params.split('.')[0]}B",
                f"model params     = {params}",
            ]
        body += [
            f"general.name     = {name.split(':')[0].title()}", "vocab type       = BPE", f"n_vocab          = {vocab}",
            "n_merges         = 280147", "BOS token        = 128000 '<|begin_of_text|>'",
            "EOS token        = 128009 '<|eot_id|>'", "EOT token        = 128009 '<|eot_id|>'",
            "EOM token        = 128008 '<|eom_id|>'", "LF token         = 198 '\u010a'",
            "EOG token        = 128001 '<|end_of_text|>'", "EOG token        = 128008 '<|eom_id|>'",
            "EOG token        = 128009 '<|eot_id|>'", "max token length = 256",
        ]
        for b in body:
            self.noise(rng.randrange(5, 40), "print_info: " + b, proc)
        if vocab_only:
            self.noise(rng.randrange(50, 500), "llama_model_load: vocab only - skipping tensors", proc)

    def cuda_init(self, proc: Proc | None) -> None:
        c, rng = self.cfg, self.rng
        self.noise(rng.randrange(10_000, 200_000), "ggml_cuda_init: GGML_CUDA_FORCE_MMQ:    no", proc)
        self.noise(10, "ggml_cuda_init: GGML_CUDA_FORCE_CUBLAS: no", proc)
        self.noise(10, "ggml_cuda_init: found 1 CUDA devices:", proc)
        self.noise(10, f"  Device 0: {c['gpu']}, compute capability 8.9, VMM: yes, ID: {self.gpu_id}", proc)
        lib = "/usr/lib/ollama" if self.era == "g" else "/usr/local/lib/ollama"
        self.noise(rng.randrange(100, 5000), f"load_backend: loaded CUDA backend from {lib}/cuda_v12/libggml-cuda.so", proc)
        self.noise(rng.randrange(100, 5000), f"load_backend: loaded CPU backend from {lib}/libggml-cpu-alderlake.so", proc)

    def tensors_and_context(self, m: tuple, num_ctx: int, proc: Proc | None) -> None:
        name, arch, _eng, layers, tensors, ftype, size, params, ctx, embd, head, head_kv, ff, vocab, kind = m
        rng = self.rng
        kv_mib = 2 * layers * num_ctx * 128 * head_kv * 2 / 2**20
        self.noise(rng.randrange(1000, 50_000), "load_tensors: loading model tensors, this can take a while... (mmap = true)", proc)
        self.noise(rng.randrange(100, 5000), f"load_tensors: offloading {layers} repeating layers to GPU", proc)
        self.noise(10, "load_tensors: offloading output layer to GPU", proc)
        self.noise(10, f"load_tensors: offloaded {layers + 1}/{layers + 1} layers to GPU", proc)
        self.noise(10, f"load_tensors:        CUDA0 model buffer size = {size * 1024 * 0.94:8.2f} MiB", proc)
        self.noise(10, f"load_tensors:   CPU_Mapped model buffer size = {size * 1024 * 0.06:8.2f} MiB", proc)
        self.noise(rng.randrange(500_000, 4_000_000), "llama_context: constructing llama_context", proc)
        for line in ("n_seq_max     = 1", f"n_ctx         = {num_ctx}", f"n_ctx_per_seq = {num_ctx}",
                     "n_batch       = 512", "n_ubatch      = 512", "causal_attn   = 1", "flash_attn    = 0",
                     "kv_unified    = false", "freq_base     = 500000.0", "freq_scale    = 1"):
            self.noise(rng.randrange(5, 30), "llama_context: " + line, proc)
        if num_ctx < ctx:
            self.noise(10, f"llama_context: n_ctx_per_seq ({num_ctx}) < n_ctx_train ({ctx}) -- the full capacity "
                       "of the model will not be utilized", proc)
        self.noise(rng.randrange(100, 3000), "llama_context:  CUDA_Host  output buffer size =     0.50 MiB", proc)
        kvname = "llama_kv_cache" if self.era == "g" else "llama_kv_cache_unified"
        self.noise(rng.randrange(100, 3000), f"{kvname}: kv_size = {num_ctx}, type_k = 'f16', type_v = 'f16', "
                   f"n_layer = {layers}, can_shift = 1, padding = 32", proc)
        self.noise(10, f"{kvname}:      CUDA0 KV buffer size = {kv_mib:8.2f} MiB", proc)
        self.noise(10, f"{kvname}: KV self size  = {kv_mib:8.2f} MiB, K (f16): {kv_mib / 2:8.2f} MiB, "
                   f"V (f16): {kv_mib / 2:8.2f} MiB", proc)
        comp = "sched_reserve" if self.era == "g" else "llama_context"
        self.noise(rng.randrange(1000, 100_000), f"{comp}:      CUDA0 compute buffer size = {rng.uniform(100, 700):8.2f} MiB", proc)
        self.noise(10, f"{comp}:  CUDA_Host compute buffer size = {rng.uniform(8, 40):8.2f} MiB", proc)
        self.noise(10, f"llama_context: graph nodes  = {layers * 34 + 6}", proc)
        self.noise(10, "llama_context: graph splits = 2", proc)

    # --- one model load, per era ----------------------------------------------------------

    def load(self, m: tuple) -> float:
        """Emit a load of model m; returns its duration in seconds (for the first request's latency)."""
        rng, c, era = self.rng, self.cfg, self.era
        name, arch, eng, layers, tensors, ftype, size, params, ctx, embd, head, head_kv, ff, vocab, kind = m
        path = f"{self.models_dir}/blobs/sha256-{blob(name)}"
        num_ctx = 2048 if kind == "embed" else rng.choice([4096, 4096, 8192, 16384])
        port = self.port_base + rng.randrange(10000)
        vram = c["vram_gib"]
        used = sum(x[6] * 1.25 for x in self.loaded)
        t0 = self.t
        self.slog(rng.randrange(5_000, 200_000), "INFO", "server.go:135" if era == "e" else "server.go:215",
                  f'"system memory" total="62.7 GiB" free="{rng.uniform(30, 55):.1f} GiB" free_swap="8.0 GiB"')
        if era != "e":
            self.slog(rng.randrange(50, 2000), "INFO", "server.go:222",
                      f'"gpu memory" id={self.gpu_id} library=CUDA available="{vram - used - 0.5:.1f} GiB" '
                      f'free="{vram - used:.1f} GiB" minimum="457.0 MiB" overhead="0 B"')
        if self.loaded and era != "g":
            self.slog(rng.randrange(50, 2000), "INFO", "sched.go:546" if era == "e" else "sched.go:612",
                      f'"updated VRAM based on existing loaded models" gpu={self.gpu_id} library=cuda '
                      f'total="{vram:.1f} GiB" available="{vram - used:.1f} GiB"')
        if era == "e":
            self.kv_dump(m, None)
            self.print_info(m, None, vocab_only=True)
            req = size * 1.2 + num_ctx / 4096 * 0.5
            self.slog(rng.randrange(1000, 40_000), "INFO", "server.go:175",
                      f"offload library=cuda layers.requested=-1 layers.model={layers + 1} layers.offload={layers + 1} "
                      f'layers.split="" memory.available="[{vram - used:.1f} GiB]" memory.gpu_overhead="0 B" '
                      f'memory.required.full="{human(req)}" memory.required.partial="{human(req)}" '
                      f'memory.required.kv="{human(num_ctx / 8192)}" memory.required.allocations="[{human(req)}]" '
                      f'memory.weights.total="{human(size)}" memory.weights.repeating="{human(size * 0.9)}" '
                      f'memory.weights.nonrepeating="{human(size * 0.1)}" memory.graph.full="{human(0.3)}" '
                      f'memory.graph.partial="{human(0.5)}"')
            engine = " --ollama-engine" if eng == "ollama" else ""
            cmd = (f"/usr/local/bin/ollama runner{engine} --model {path} --ctx-size {num_ctx} --batch-size 512 "
                   f"--n-gpu-layers {layers + 1} --threads 8 --parallel 1 --port {port}")
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:438", f'"starting llama server" cmd="{cmd}"')
            runner = self.new_runner(cmd)
            self.slog(rng.randrange(100, 3000), "INFO", "sched.go:481", f'"loaded runners" count={len(self.loaded) + 1}')
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:598", '"waiting for llama runner to start responding"')
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:632",
                      '"waiting for server to become available" status="llm server not responding"')
            if eng == "ollama":
                self.slog(rng.randrange(5000, 50_000), "INFO", "runner.go:925", '"starting ollama engine"')
                self.slog(rng.randrange(100, 3000), "INFO", "runner.go:983", f'"Server listening on 127.0.0.1:{port}"')
                self.slog(rng.randrange(100, 3000), "INFO", "ggml.go:92",
                          f'"" architecture={arch} file_type=Q4_K_M name={name.split(":")[0].title()} '
                          f'description="" num_tensors={tensors} num_key_values=36')
                self.cuda_init(runner)
                self.slog(rng.randrange(100, 3000), "INFO", "ggml.go:104",
                          "system CPU.0.SSE3=1 CPU.0.SSSE3=1 CPU.0.AVX=1 CPU.0.AVX_VNNI=1 CPU.0.AVX2=1 "
                          "CPU.0.F16C=1 CPU.0.FMA=1 CPU.0.BMI2=1 CPU.0.LLAMAFILE=1 CPU.1.LLAMAFILE=1 "
                          "CUDA.0.ARCHS=500,600,610,700,750,800,860,870,890,900,1200 CUDA.0.USE_GRAPHS=1 "
                          "CUDA.0.PEER_MAX_BATCH_SIZE=128 compiler=cgo(gcc)", kind="noise")
                self.slog(rng.randrange(100, 30000), "INFO", "ggml.go:365",
                          f'"model weights" buffer=CUDA0 size="{human(size * 0.94)}"')
                self.slog(10, "INFO", "ggml.go:365", f'"model weights" buffer=CPU size="{human(size * 0.06)}"')
                self.slog(rng.randrange(100_000, 3_000_000), "INFO", "ggml.go:719",
                          f'"compute graph" backend=CUDA0 buffer_type=CUDA0 size="{human(0.3)}"')
                self.slog(10, "INFO", "ggml.go:719", f'"compute graph" backend=CPU buffer_type=CUDA_Host size="{human(0.02)}"')
            else:
                self.slog(rng.randrange(5000, 50_000), "INFO", "runner.go:815", '"starting go runner"')
                self.cuda_init(runner)
                self.slog(rng.randrange(100, 3000), "INFO", "ggml.go:104",
                          "system CPU.0.SSE3=1 CPU.0.SSSE3=1 CPU.0.AVX=1 CPU.0.AVX2=1 CPU.0.F16C=1 "
                          "CPU.0.FMA=1 CPU.0.BMI2=1 CUDA.0.ARCHS=500,600,610,700,750,800,860,870,890,900,1200 "
                          "compiler=cgo(gcc)")
                self.slog(rng.randrange(100, 3000), "INFO", "runner.go:874", f'"Server listening on 127.0.0.1:{port}"')
                self.noise(rng.randrange(100, 3000), f"llama_model_load_from_file_impl: using device CUDA0 ({c['gpu']}) "
                           f"- {int((vram - used) * 1024)} MiB free")
                self.kv_dump(m, None)
                self.print_info(m, None, vocab_only=False)
                self.tensors_and_context(m, num_ctx, runner)
            secs = (self.t - t0) / 1e6 + rng.uniform(0.5, 6)
            self.t += int(rng.uniform(0.3, 3) * 1e6)
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:637", f'"llama runner started in {secs:.2f} seconds"')
        elif era == "f":
            engine = " --ollama-engine" if eng == "ollama" else ""
            cmd = f"/usr/local/bin/ollama runner{engine} --model {path} --port {port}"
            if eng != "ollama":
                self.kv_dump(m, None)
                self.print_info(m, None, vocab_only=True)
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:400", f'"starting runner" cmd="{cmd}"')
            runner = self.new_runner(cmd)
            self.slog(rng.randrange(5000, 50_000), "INFO", "runner.go:1252",
                      '"starting ollama engine"' if eng == "ollama" else '"starting go runner"')
            self.slog(rng.randrange(100, 3000), "INFO", "runner.go:1288", f'"Server listening on 127.0.0.1:{port}"')
            gl = f"{layers + 1}[ID:{self.gpu_id} Layers:{layers + 1}(0..{layers})]"
            for i, op in enumerate(("fit", "alloc", "commit")):
                self.slog(rng.randrange(1000, 300_000), "INFO", "runner.go:1222",
                          f'load request="{{Operation:{op} LoraPath:[] Parallel:1 BatchSize:512 FlashAttention:false '
                          f'KvSize:{num_ctx} KvCacheType: NumThreads:8 GPULayers:{gl} MultiUserCache:false '
                          f'ProjectorPath: MainGPU:0 UseMmap:false}}"')
                if i == 0:
                    if eng == "ollama":
                        self.slog(rng.randrange(100, 3000), "INFO", "ggml.go:131",
                                  f'"" architecture={arch} file_type=Q4_K_M name={name.split(":")[0].title()} '
                                  f'description="" num_tensors={tensors} num_key_values=36')
                        self.cuda_init(runner)
                    else:
                        self.cuda_init(runner)
                        self.noise(rng.randrange(100, 3000), f"llama_model_load_from_file_impl: using device CUDA0 "
                                   f"({c['gpu']}) - {int((vram - used) * 1024)} MiB free")
                        self.kv_dump(m, None)
                        self.print_info(m, None, vocab_only=False)
                if i == 2 and eng != "ollama":
                    self.tensors_and_context(m, num_ctx, runner)
            kv = 2 * layers * num_ctx * 128 * head_kv * 2 / 2**30
            self.slog(rng.randrange(100, 3000), "INFO", "device.go:212", f'"model weights" device=CUDA0 size="{human(size * 0.94)}"')
            self.slog(10, "INFO", "device.go:217", f'"model weights" device=CPU size="{human(size * 0.06)}"')
            self.slog(10, "INFO", "device.go:223", f'"kv cache" device=CUDA0 size="{human(kv)}"')
            self.slog(10, "INFO", "device.go:234", f'"compute graph" device=CUDA0 size="{human(0.3)}"')
            self.slog(10, "INFO", "device.go:239", f'"compute graph" device=CPU size="{human(0.02)}"')
            self.slog(10, "INFO", "device.go:244", f'"total memory" size="{human(size + kv + 0.32)}"')
            self.slog(rng.randrange(100, 3000), "INFO", "sched.go:480", f'"loaded runners" count={len(self.loaded) + 1}')
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:1236", '"waiting for llama runner to start responding"')
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:1270",
                      '"waiting for server to become available" status="llm server loading model"')
            secs = (self.t - t0) / 1e6 + rng.uniform(0.5, 6)
            self.t += int(rng.uniform(0.3, 3) * 1e6)
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:1274", f'"llama runner started in {secs:.2f} seconds"')
        else:
            fits = "fits alongside existing models" if self.loaded else "fits alongside existing models"
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:842",
                      f'"llama-server model {fits}" predicted="{human(size * 1.2)}" predicted_num_ctx={num_ctx} '
                      f'num_batch=512 available="{human(vram - used)}" gpu_free="{human(vram - used)}" '
                      f'system_free="{rng.uniform(30, 55):.1f} GiB" system_limited=false')
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:360", f'"loading model via llama-server" model={path}')
            cmd = (f"/usr/lib/ollama/llama-server --model {path} --port {port} --host 127.0.0.1 --no-webui --offline "
                   f"-c {num_ctx} -np 1 --log-verbosity 4 --no-log-prefix --no-log-timestamps --flash-attn auto "
                   f"-b 512 -ub 512" + (" --embedding" if kind == "embed" else " --context-shift --keep 4"))
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:431", f'"starting llama-server" cmd="{cmd}"')
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:1230", '"waiting for llama-server to start responding"')
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:1262",
                      '"waiting for llama-server to become available" status="llm server loading model"')
            self.noise(rng.randrange(20_000, 200_000), "build: 6512 (d5c8a1f2) with cc (GCC) 11.2.1 20220127 "
                       "(Red Hat 11.2.1-9) for x86_64-redhat-linux")
            self.noise(100, "system info: n_threads = 8, n_threads_batch = 8, total_threads = 16")
            self.noise(100, "system_info: n_threads = 8 (n_threads_batch = 8) / 16 | CUDA : ARCHS = "
                       "500,610,700,750,800,860,890,1200 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | CPU : SSE3 = 1 | "
                       "SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | LLAMAFILE = 1 | "
                       "OPENMP = 1 | REPACK = 1 |")
            self.noise(100, "main: binding port with default address family")
            self.noise(100, f"main: HTTP server is listening, hostname: 127.0.0.1, port: {port}, http threads: 15")
            self.noise(100, "main: loading model")
            self.noise(100, f"srv    load_model: loading model '{path}'")
            self.cuda_init(None)
            self.noise(rng.randrange(100, 3000), f"llama_model_load_from_file_impl: using device CUDA0 ({c['gpu']}) "
                       f"(0000:01:00.0) - {int((vram - used) * 1024)} MiB free")
            self.kv_dump(m, None)
            self.print_info(m, None, vocab_only=False)
            self.tensors_and_context(m, num_ctx, None)
            self.noise(rng.randrange(100, 3000), "common_init_from_params: added <|end_of_text|> logit bias = -inf")
            self.noise(10, f"common_init_from_params: setting dry_penalty_last_n to ctx_size = {num_ctx}")
            self.noise(10, "common_init_from_params: warming up the model with an empty run - please wait ... "
                       "(--no-warmup to disable)")
            self.noise(rng.randrange(10_000, 300_000), "srv          init: initializing slots, n_slots = 1")
            self.noise(100, f"slot         init: id  0 | task -1 | new slot n_ctx_slot = {num_ctx}")
            self.noise(100, "main: model loaded")
            self.noise(100, "main: chat template, chat_template: {%- for message in messages -%}..., example_format: "
                       "'<|im_start|>system\\nYou are a helpful assistant<|im_end|>\\n<|im_start|>user\\nHello<|im_end|>'")
            self.noise(100, f"main: server is listening on http://127.0.0.1:{port} - starting the main loop")
            self.noise(100, "srv  update_slots: all slots are idle")
            secs = (self.t - t0) / 1e6 + rng.uniform(0.5, 6)
            self.t += int(rng.uniform(0.3, 3) * 1e6)
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:1274", f'"llama-server started in {secs:.2f} seconds"')
            self.slog(rng.randrange(100, 3000), "INFO", "sched.go:519", f'"loaded runners" count={len(self.loaded) + 1}')
            self.slog(rng.randrange(100, 3000), "INFO", "images.go:373",
                      f'"template selection" model=registry.ollama.ai/library/{name} selected=renderer '
                      f'renderer={arch} parser={arch} go_template=false chat_template=true harmony=false '
                      f'renderer_parser=true')
        self.loaded.append(m)
        return (self.t - t0) / 1e6

    def unload_one(self) -> None:
        """Unloads are silent at INFO; up to v0.12.5 a slow VRAM recovery leaves a WARN."""
        m = self.loaded.pop(0)
        if self.era != "g" and self.rng.random() < 0.15:
            path = f"{self.models_dir}/blobs/sha256-{blob(m[0])}"
            who = (f'runner.name=registry.ollama.ai/library/{m[0]} runner.inference=cuda runner.devices=1 '
                   f'runner.size="{human(m[6] * 1.25)}" runner.vram="{human(m[6] * 1.25)}" runner.parallel=1 '
                   f'runner.pid={self.next_pid} runner.model={path} runner.num_ctx=4096')
            self.slog(self.rng.randrange(5_000_000, 6_000_000), "WARN", "sched.go:687",
                      f"\"gpu VRAM usage didn't recover within timeout\" seconds={self.rng.uniform(5.0, 5.4):.8f} {who}")

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
        embed = m[14] == "embed"
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
        self.out = out
        rng = self.rng
        restart_every = max(self.n // 4, 50_000)
        next_restart = restart_every // 2
        try:
            self.systemd_line(0, "Started ollama.service - Ollama Service.")
            self.startup()
            while True:
                if self.seq >= next_restart:
                    next_restart += restart_every
                    self.restart()
                for _ in range(int(rng.expovariate(1 / 4)) + 1):
                    self.health()
                if rng.random() < 0.02:
                    p = rng.choice(["/api/show", "/api/pull", "/v1/models"])
                    self.gin(rng.randrange(10**5, 10**7), 200 if rng.random() < 0.9 else 404,
                             rng.randrange(200_000, 60_000_000), rng.choice(self.CLIENT_IPS),
                             "GET" if p == "/v1/models" else "POST", p, "gin_request")
                if rng.random() < 0.003:
                    self.gin(rng.randrange(10**5, 10**7), 204, rng.randrange(5_000, 40_000), "192.168.1.17",
                             "OPTIONS", "/api/chat", "gin_request")
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
        self._flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--entries", type=int, default=1_000_000)
    ap.add_argument("--era", choices=sorted(ERAS), default="e")
    ap.add_argument("--format", choices=["export", "json", "text"], default="export")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=None, help="default bench/data/era-<era>-<size>.<export|json|txt>")
    a = ap.parse_args(argv)
    if a.out is None:
        size = f"{a.entries // 1_000_000}m" if a.entries % 1_000_000 == 0 else (
            f"{a.entries // 1000}k" if a.entries % 1000 == 0 else str(a.entries))
        ext = {"export": "export", "json": "json", "text": "txt"}[a.format]
        a.out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", f"era-{a.era}-{size}.{ext}")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    g = Gen(a.era, a.entries, a.seed, a.format)
    t0 = time.perf_counter()
    tmp = a.out + ".part"
    with open(tmp, "wb", buffering=1 << 20) as f:
        g.run(f)
    os.replace(tmp, a.out)
    secs = time.perf_counter() - t0
    meta = {"era": a.era, "version": g.cfg["version"], "format": a.format, "seed": a.seed, "entries": g.seq,
            "bytes": g.bytes, "bytes_per_entry": round(g.bytes / max(g.seq, 1), 1), "seconds": round(secs, 2),
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
