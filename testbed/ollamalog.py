"""Ollama's log lines, as its eras print them: one place for the tests and the benchmarks that generate logs.

The formats are Ollama's and its libraries' (slog's TextHandler, gin's default logger, Go's std log, the runner
command lines of each era) and systemd's messages about the unit, as real logs show them. The journal forms
that carry the lines (export, JSON, short text) are ``testbed.journalform``. ``fixtures/build.py`` builds its own
lines on purpose: it is the independent oracle these generators are checked against, so it imports nothing here.

Stdlib only (``bench/gen_journal.py`` runs without the venv). Lines are ``str``; times are datetimes, or µs since
the epoch through a ``Clock``, which renders each second once (a generator prints millions of lines).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
UNIT = "ollama.service"


# -- times -----------------------------------------------------------------------------------------------------
def zone_suffix(tz: tzinfo) -> str:
    """RFC 3339's zone as Go prints it: ``Z`` for UTC, else ``+03:00``."""
    off = datetime(2000, 1, 1, tzinfo=tz).strftime("%z")
    return "Z" if off == "+0000" else f"{off[:3]}:{off[3:]}"


def slog_time(d: datetime) -> str:
    """slog's ``time=`` value: RFC 3339 with milliseconds, in the server's zone."""
    return f"{d:%Y-%m-%dT%H:%M:%S}.{d.microsecond // 1000:03d}{zone_suffix(d.tzinfo)}"


def gin_time(d: datetime) -> str:
    """gin's ``2006/01/02 - 15:04:05``, the server's local time without a zone."""
    return d.strftime("%Y/%m/%d - %H:%M:%S")


class Clock:
    """µs since the epoch → the times Ollama and journalctl print, in one zone; the per-second part is cached."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.zone = zone_suffix(tz)
        self._sec = -1
        self._iso = self._gin = self._short = ""

    def _at(self, us: int) -> None:
        sec = us // 1_000_000
        if sec != self._sec:
            self._sec = sec
            d = datetime.fromtimestamp(sec, self.tz)
            self._iso = d.strftime("%Y-%m-%dT%H:%M:%S")
            self._gin = d.strftime("%Y/%m/%d - %H:%M:%S")
            self._short = f"{MONTHS[d.month - 1]} {d.day:02d} {d.strftime('%H:%M:%S')}"

    def slog(self, us: int) -> str:
        self._at(us)
        return f"{self._iso}.{(us // 1000) % 1000:03d}{self.zone}"

    def gin(self, us: int) -> str:
        self._at(us)
        return self._gin

    def short_precise(self, us: int) -> str:
        """journalctl ``-o short-precise``'s time (LC_TIME=C): ``Aug 04 08:00:00.123456``."""
        self._at(us)
        return f"{self._short}.{us % 1_000_000:06d}"


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String()``, as gin prints a latency (gin truncates above a minute: ``1m2s``)."""
    if ns <= 0:
        return "0s"
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return _frac(ns, 1_000, 3) + "\u00b5s"
    if ns < 1_000_000_000:
        return _frac(ns, 1_000_000, 6) + "ms"
    if ns < 60_000_000_000:
        return _frac(ns, 1_000_000_000, 9) + "s"
    s = ns // 1_000_000_000
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return (f"{h}h" if h else "") + f"{m}m{s}s"


def _frac(v: int, unit: int, digits: int) -> str:
    whole, frac = divmod(v, unit)
    f = f"{frac:0{digits}d}".rstrip("0")
    return f"{whole}.{f}" if f else str(whole)


def human_gib(gib: float) -> str:
    """format.HumanBytes2's rendering of a size given in GiB: ``4.6 GiB``, ``266.2 MiB``."""
    return f"{gib:.1f} GiB" if gib >= 1 else f"{gib * 1024:.1f} MiB"


# -- slog (Ollama's own lines since v0.1.21) -------------------------------------------------------------------
def attrs(**kv: object) -> str:
    """`` key=value`` pairs as given (values already rendered, quoted where slog quotes); ``a__b`` is ``a.b``."""
    return "".join(f" {k.replace('__', '.')}={v}" for k, v in kv.items())


def quoted_msg(msg: str) -> str:
    """The ``msg=`` value: quoted when it is empty or holds a space."""
    return f'"{msg}"' if (" " in msg or not msg) else msg


def slog_line(when: str, level: str, source: str, rest: str) -> str:
    """The TextHandler envelope; ``rest`` is the rendered message and its attributes."""
    return f"time={when} level={level} source={source} msg={rest}"


def slog(when: str, msg: str, level: str = "INFO", source: str = "server.go:1", **kv: object) -> str:
    return slog_line(when, level, source, quoted_msg(msg) + attrs(**kv))


def env_map(env: dict[str, str]) -> str:
    """``server config``'s env value: Go prints a map with its keys sorted."""
    return "map[" + " ".join(f"{k}:{v}" for k, v in sorted(env.items())) + "]"


def listening(addr: str, version: str) -> str:
    return f"Listening on {addr} (version {version})"


# -- [GIN] (every API request, at its end) and Go's std log (before v0.1.21) ------------------------------------
GIN_STATUS_COLOR = {2: "\x1b[97;42m", 3: "\x1b[90;47m", 4: "\x1b[90;43m", 5: "\x1b[97;41m"}
GIN_METHOD_COLOR = {"GET": "\x1b[97;44m", "POST": "\x1b[97;46m", "HEAD": "\x1b[97;45m", "DELETE": "\x1b[97;41m",
                    "OPTIONS": "\x1b[90;47m"}


def gin(when: str, status: int, latency: str, client: str, method: str, path: str, color: bool = False) -> str:
    """gin's default access line (``LoggerWithFormatter``); coloured when its stdout is a terminal."""
    if not color:
        return f'[GIN] {when} | {status:3d} | {latency:>13} | {client:>15} | {method:<7}  "{path}"'
    return (f"[GIN] {when} |{GIN_STATUS_COLOR[status // 100]} {status:3d} \x1b[0m| {latency:>13} | {client:>15} |"
            f'{GIN_METHOD_COLOR[method]} {method:<7} \x1b[0m "{path}"')


def gin_recovery(when: str) -> str:
    """The first line of gin's Recovery block (always red)."""
    return f"\x1b[31m[Recovery] {when} panic recovered:"


def golog(d: datetime, fileline: str, text: str) -> str:
    """Go's std log with ``Lshortfile`` (v0.0.x–v0.1.20): local time, no zone."""
    return f"{d:%Y/%m/%d %H:%M:%S} {fileline}: {text}"


# -- runners, per era ------------------------------------------------------------------------------------------
# The message that starts a runner, and the one that says it is ready, per era: E = v0.1.x–v0.11.4 (the
# `ollama runner` with all its flags), F = v0.11.5–v0.24 (only model and port on the command line: the rest comes
# in `load request` lines), G = v0.30+ (llama.cpp's own llama-server).
STARTING = {"e": "starting llama server", "f": "starting runner", "g": "starting llama-server"}
OLLAMA_EXE = "/usr/local/bin/ollama"
LLAMA_SERVER_EXE = "/usr/lib/ollama/llama-server"


def started(secs: float, era: str = "e") -> str:
    return f"{'llama-server' if era == 'g' else 'llama runner'} started in {secs:.2f} seconds"


def blob_path(models_dir: str, sha256: str) -> str:
    return f"{models_dir}/blobs/sha256-{sha256}"


def runner_cmd_e(model: str, ctx: int, parallel: int, port: int, *, gpu_layers: int = 49, threads: int = 8,
                 engine: bool = False, embedding: bool = False) -> str:
    return (f"{OLLAMA_EXE} runner{' --ollama-engine' if engine else ''} --model {model} --ctx-size {ctx} "
            f"--batch-size 512{' --embedding' if embedding else ''} --n-gpu-layers {gpu_layers} --threads {threads} "
            f"--parallel {parallel} --port {port}")


def runner_cmd_f(model: str, port: int, engine: bool = True) -> str:
    return f"{OLLAMA_EXE} runner{' --ollama-engine' if engine else ''} --model {model} --port {port}"


def runner_cmd_g(model: str, port: int, ctx: int, parallel: int, extra: str = "") -> str:
    return (f"{LLAMA_SERVER_EXE} --model {model} --port {port} --host 127.0.0.1 --no-webui --offline -c {ctx} "
            f"-np {parallel} --log-verbosity 4{extra}")


def runner_attrs(name: str, pid: int, model: str, num_ctx: int = 4096) -> dict[str, object]:
    """The ``runner.*`` attributes (v0.6.8+) that name a runner in scheduler lines, as ``slog``'s keywords."""
    return {"runner__name": f"registry.ollama.ai/library/{name}", "runner__pid": pid, "runner__model": model,
            "runner__num_ctx": num_ctx}


# -- systemd's lines about the unit (PID 1) --------------------------------------------------------------------
def systemd_starting(unit: str = UNIT, description: str = "Ollama Service") -> str:
    return f"Starting {unit} - {description}..."


def systemd_started(unit: str = UNIT, description: str = "Ollama Service") -> str:
    return f"Started {unit} - {description}."


def systemd_stopping(unit: str = UNIT, description: str = "Ollama Service") -> str:
    return f"Stopping {unit} - {description}..."


def systemd_deactivated(unit: str = UNIT) -> str:
    return f"{unit}: Deactivated successfully."


def systemd_stopped(unit: str = UNIT, description: str = "Ollama Service") -> str:
    return f"Stopped {unit} - {description}."


def systemd_consumed(cpu: str, unit: str = UNIT) -> str:
    return f"{unit}: Consumed {cpu} CPU time."
