"""A tiny DSL for correlator tests: lines at times, through the real parsers and the Timeline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ollama_ingest.correlate.names import ModelNames
from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.entry import Entry
from ollama_ingest.events import ApiPs, Event, PsModel
from ollama_ingest.parse import ParseStats, parse_entry
from testbed import ollamalog as ol

T0 = datetime(2025, 7, 22, 20, 0, 0, tzinfo=timezone.utc)
ZONE = timezone(timedelta(hours=3))  # the server's: slog prints it, [GIN] and Go's log print its local time
BLOBS = {
    "gemma3:12b": "e8ad13eff07a78d89926e9e8b882317d082ef5bf9768ad7b50fcdbbcd63748de",
    "qwen2.5-coder:7b": "60e05f2100071479f596b964f89f510f057ce397ea22f2833a0cfe029bfc2463",
    "nomic-embed-text:latest": "970aa74c0a90ef7482477cf803618e776e173c007bf957f635f1015bfcfef0e6",
    "llama3.2:3b": "dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff",
    "phi4:latest": "fd7b6731c33c57f61767612f56517460ec2d1e2e5a3f0163e0eb3d8d8cb5df20",
}


def us(t: float) -> int:
    return int((T0 + timedelta(seconds=t)).timestamp() * 1_000_000)


def at(t: float) -> datetime:
    """The story's second ``t`` on the server's clock."""
    return (T0 + timedelta(seconds=t)).astimezone(ZONE)


def stamp(t: float) -> str:
    return ol.slog_time(at(t))


def slog(t: float, msg: str, level: str = "INFO", **kv) -> tuple[float, str]:
    return t, ol.slog(stamp(t), msg, level, "x.go:1", **kv)


def gin(t_end: float, latency: str, path: str = "/api/chat", method: str = "POST", status: int = 200):
    return t_end, ol.gin(ol.gin_time(at(t_end)), status, latency, "127.0.0.1", method, path)


def start_e(t: float, model: str, ctx: int = 8192, parallel: int = 2, embedding: bool = False):
    # era C–E: --embedding says nothing about the model (early C passed it for all): never written here
    return slog(t, ol.STARTING["e"], cmd=f'"{ol.runner_cmd_e(path(model), ctx, parallel, 39041, threads=6)}"')


def start_f(t: float, model: str):
    """v0.11.5–v0.24 ``starting runner``: only the model and the port in cmd."""
    return slog(t, ol.STARTING["f"], cmd=f'"{ol.runner_cmd_f(path(model), 41234)}"')


def start_g(t: float, model: str, ctx: int = 8192, parallel: int = 1):
    return slog(t, ol.STARTING["g"], cmd=f'"{ol.runner_cmd_g(path(model), 36183, ctx, parallel)}"')


def path(model: str) -> str:
    return ol.blob_path("/usr/share/ollama/.ollama/models", BLOBS[model])


def started(t: float, seconds: float):
    return slog(t, ol.started(seconds))


def debug(t: float, msg: str, model: str, pid: int = 4066, **kv):
    """An OLLAMA_DEBUG scheduler line naming the runner with v0.6.8+ runner.* keys."""
    return slog(t, msg, level="DEBUG", **runner_kv(model, pid), **kv)


def golog(t: float, fileline: str, text: str):
    """A Go std-log line (v0.0.x–v0.1.20), in the +03:00 zone of ``stamp``."""
    return t, ol.golog(at(t), fileline, text)


def runner_kv(model: str, pid: int = 4066) -> dict:
    return ol.runner_attrs(model, pid, path(model))


def systemd(t: float, msg: str):
    return t, ("systemd", msg)


def run(lines, names: bool = True, finish: bool = True):
    """Feed lines (sorted by time) → (points, timeline)."""
    tl = Timeline(ModelNames({b: [n] for n, b in BLOBS.items()}) if names else None)
    pts = feed(tl, lines)
    if finish:
        pts += tl.finish()
    return pts, tl


def feed(tl: Timeline, lines, seq0: int = 0) -> list:
    """Feed more lines to ``tl``: text (an Ollama line), ``("systemd", text)``, or an event (``/api/ps`` polls)."""
    st = ParseStats()
    pts = []
    for seq, (t, msg) in enumerate(sorted(lines, key=lambda x: x[0]), seq0):
        if isinstance(msg, Event):
            pts += tl.feed(msg.model_copy(update={"ts_us": us(t), "host": "h", "seq": seq}))
            continue
        if isinstance(msg, tuple):
            e = Entry(ts_us=us(t), message=msg[1], host="h", pid=1, ident="systemd", unit="ollama.service", seq=seq)
        else:
            e = Entry(ts_us=us(t), message=msg, host="h", pid=1617, ident="ollama", unit="ollama.service", seq=seq)
        for ev in parse_entry(e, st):
            pts += tl.feed(ev)
    assert not st.skipped, st.skipped
    return pts


def ps(t: float, **expires: float):
    """One /api/ps poll: model name → its expires_at (s on the story's clock)."""
    models = [PsModel(name=n.replace("__", ":"), expires_at_us=us(x)) for n, x in expires.items()]
    return t, ApiPs(ts_us=us(t), models=models)


def requests(pts):
    return sorted(((p.time_ns, p.tags.get("endpoint"), p.tags.get("model", ""), p.fields.get("attribution"))
                   for p in pts if p.measurement == "ollama_request"), key=lambda r: r[0])


def sessions(pts):
    """Last write wins, as in InfluxDB: (model, start s, end s, reason, evidence, requests, open)."""
    last = {}
    for p in pts:
        if p.measurement == "ollama_session":
            last[p.identity] = p
    out = []
    for p in last.values():
        f = p.fields
        out.append((p.tags["model"], round((p.time_ns / 1000 - us(0)) / 1e6, 3),
                    round((f["end"] * 1000 - us(0)) / 1e6, 3), f.get("unload_reason", ""), f.get("evidence", ""),
                    f["requests"], f["open"]))
    return sorted(out, key=lambda s: s[1])
