"""The correlator's records → InfluxDB points: measurement names, tags, fields and the identity of points.

This is the one place that knows how a conclusion is stored (docs/schema.md, field by field). Point identity
is (measurement, tag set, time) (docs/design.md §7): a session's bar and its unload marker keep theirs, so a
later write of the same session overwrites it; every other point is an event of its own, and when its
identity is taken already it moves on by 1 ns (deterministically, in input order), so two events never
overwrite each other and a replay of the same input rewrites the same points.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from ..correlate import records as r
from ..correlate.endpoints import method_of
from ..correlate.inventory import ModelInfo
from .point import Point

# the ollama_event kinds drawn as yellow warning markers (report.WARNING_KINDS): they carry end and layer
MARKER_KINDS = frozenset({"vram_timeout", "prompt_truncated", "client_aborted", "model_too_large",
                          "runner_terminated", "load_failed", "runner_not_running", "runtime_oom", "eviction"})
RECENT_IDENTITIES = 4096  # how far back a tie is looked for: the points of the last few seconds of log


def _event(host: str, ts_ns: int, kind: str, model: str, **fields) -> Point:
    """An ``ollama_event`` instant: ``message`` always, and for a marker its own time as ``end``."""
    fields = {k: v for k, v in fields.items() if v is not None}
    fields.setdefault("message", kind)
    if kind in MARKER_KINDS:  # a Gantt marker ends where it starts; InfluxQL cannot compute either
        fields.update(end=ts_ns // 1_000_000, layer="warning")
    return Point("ollama_event", {"host": host, "kind": kind, "model": model}, fields, ts_ns)


def session_point(x: r.SessionUpdate) -> Point:
    """The session bar; its identity is (host, model, series, load start): later writes overwrite it."""
    fields = {"end": x.end_ns // 1_000_000, "open": x.open, "requests": x.requests, "blob": x.blob or "",
              "ctx": x.ctx, "parallel": x.parallel, "load_s": x.load_s,
              "unload_reason": x.reason or ("" if x.open else "unknown"), "evidence": x.evidence or "",
              "names": ",".join(x.names), "adopted": x.adopted or None, "loading": x.loading or None}
    return Point("ollama_session", {"host": x.host, "model": x.model, "series": x.series},
                 {k: v for k, v in fields.items() if v is not None and v != ""}, x.start_ns)


def unload_point(x: r.UnloadMarked) -> Point:
    """The red marker. Its identity is the session's (model, end): a revision overwrites it."""
    fields = {"message": f"unloaded: {x.reason}", "reason": x.reason, "evidence": x.evidence,
              "requests": x.requests, "end": x.at_ns // 1_000_000, "layer": "unload"}
    return Point("ollama_event", {"host": x.host, "kind": "unload", "model": x.model},
                 {k: v for k, v in fields.items() if v is not None}, x.at_ns)


def load_point(x: r.LoadDone) -> Point:
    fields = {"load_s": x.load_s, "end": x.end_ns // 1_000_000, "blob": x.blob or "", "ctx": x.ctx,
              "ctx_size": x.ctx_size, "parallel": x.parallel, "gpu_layers": x.gpu_layers, **x.mem}
    return Point("ollama_load", {"host": x.host, "model": x.model, "series": x.series},
                 {k: v for k, v in fields.items() if v is not None and v != ""}, x.start_ns)


def request_point(x: r.RequestAnswered) -> Point:
    e = x.req
    fields = {"latency_ms": e.latency_ns / 1e6, "end": e.end_ns // 1_000_000, "client": e.client,
              "status_code": e.status}
    if x.endpoint == "other":
        fields["path"] = e.path
    if x.attribution:
        fields["attribution"] = x.attribution
    tags = {"host": e.host, "endpoint": x.endpoint, "method": method_of(e.method), "status": str(e.status),
            "model": x.model, "series": x.series}
    return Point("ollama_request", tags, fields, e.start_ns)


def vram_point(x: r.VramReading) -> Point:
    if x.source == "system_memory":
        fields = {"total_bytes": x.total_bytes, "available_bytes": x.available_bytes,
                  "free_swap_bytes": x.free_swap_bytes, "source": x.source}
    elif x.source == "inference_compute":
        fields = {"total_bytes": x.total_bytes, "available_bytes": x.available_bytes, "library": x.library,
                  "name": x.name, "source": x.source}
    else:
        fields = {"total_bytes": x.total_bytes, "available_bytes": x.available_bytes, "library": x.library,
                  "source": x.source}
    return Point("ollama_vram", {"host": x.host, "gpu": x.gpu or "unknown"}, fields, x.at_ns)


def warned_point(x: r.Warned) -> Point:
    return _event(x.host, x.at_ns, x.what, x.model, message=x.message, error=x.error, level=x.level)


def vram_timeout_point(x: r.VramTimedOut) -> Point:
    return _event(x.host, x.at_ns, "vram_timeout", x.model, seconds=x.seconds, blob=x.blob,
                  message="gpu VRAM usage didn't recover within timeout")


def eviction_point(x: r.EvictionLogged) -> Point:
    return _event(x.host, x.at_ns, "eviction", "", message=x.message, what=x.what, count=x.count)


def truncated_point(x: r.PromptTruncated) -> Point:
    return _event(x.host, x.at_ns, "prompt_truncated", x.model, limit=x.limit, prompt=x.prompt, keep=x.keep,
                  new=x.new, message="truncating input prompt")


def server_start_point(x: r.ServerStarted) -> Point:
    return _event(x.host, x.at_ns, "server_start", "", message=f"Listening on {x.address}", version=x.version,
                  address=x.address)


def server_config_point(x: r.ServerConfigured) -> Point:
    return _event(x.host, x.at_ns, "server_config", "", message="server config",
                  keep_alive_s=x.keep_alive_ns / 1e9 if x.keep_alive_ns is not None else None,
                  num_parallel=x.num_parallel, max_loaded_models=x.max_loaded_models, models_dir=x.models_dir,
                  debug=x.debug)


def service_point(x: r.ServiceChanged) -> Point:
    return _event(x.host, x.at_ns, "service_" + x.action, "", message=x.message)


def inventory_points(infos: list[ModelInfo], host: str, ts_ns: int) -> list[Point]:
    """``ollama_model_inventory``: the user's existing schema (tag model_name, field sha256 = model blob)."""
    seen: dict[str, ModelInfo] = {}
    for m in infos:
        seen.setdefault(m.name, m)
    return [Point("ollama_model_inventory", {"host": host, "model_name": m.name},
                  {"sha256": m.blob, "digest": m.digest, "size_bytes": m.size_bytes}, ts_ns)
            for m in sorted(seen.values(), key=lambda m: m.name)]


# -- the service's and the CLI's own points (not the correlator's records) ---------------------------
def selfmon_point(host: str, *, entries: int, events: int, unparsed: int, noise: int, dropped: int,
                  write_errors: int, points_written: int, rss_bytes: int, newest_entry_us: int | None,
                  now_ns: int, **extra: int | float | None) -> Point:
    """``ollama_ingest``: the service's health; the counters are totals since the state directory was created
    (they survive restarts); ``lag_s`` how far behind the newest entry read is; an ``extra`` None is left out."""
    fields: dict = {
        "entries": entries, "events": events, "unparsed": unparsed, "noise": noise, "dropped": dropped,
        "write_errors": write_errors, "points_written": points_written, "rss_bytes": rss_bytes,
    }
    if newest_entry_us is not None:
        fields["lag_s"] = max(0.0, round(now_ns / 1e9 - newest_entry_us / 1e6, 6))
    fields.update({k: v for k, v in extra.items() if v is not None})
    return Point("ollama_ingest", {"host": host}, fields, now_ns)


def check_point(host: str, now_ns: int) -> Point:
    """What ``ollama-ingest check`` writes to prove the bucket is writable: an ``ollama_ingest`` point whose
    only field is ``check`` (it does not look like the service's health)."""
    return Point("ollama_ingest", {"host": host}, {"check": True}, now_ns)


def journal_gap_point(host: str, since_us: int, until_us: int, span: str) -> Point:
    """An ``ollama_event`` of kind ``journal_gap`` at the gap's start, spanning it (``until``, ms): journal
    entries vacuumed before the service read them."""
    return Point("ollama_event", {"host": host, "kind": "journal_gap"},
                 {"message": f"journal entries from {span} were vacuumed before they were read",
                  "gap_s": round((until_us - since_us) / 1e6, 6), "until": until_us // 1000}, since_us * 1000)


# record type → (its point, whether the point is an event of its own: a tie moves it on by 1 ns)
_BUILD: dict[type, tuple[Callable, bool]] = {
    r.SessionUpdate: (session_point, False), r.UnloadMarked: (unload_point, False),
    r.LoadDone: (load_point, True), r.RequestAnswered: (request_point, True), r.VramReading: (vram_point, True),
    r.Warned: (warned_point, True), r.VramTimedOut: (vram_timeout_point, True),
    r.EvictionLogged: (eviction_point, True), r.PromptTruncated: (truncated_point, True),
    r.ServerStarted: (server_start_point, True), r.ServerConfigured: (server_config_point, True),
    r.ServiceChanged: (service_point, True),
}


class PointMaker:
    """Turns records into points, in order. It remembers the identities of recent event points (plain data:
    it is saved with the correlator state, so a resumed service breaks ties as an uninterrupted run would)."""

    def __init__(self) -> None:
        self.recent: OrderedDict[tuple, None] = OrderedDict()

    def points(self, records: Iterable[r.Record]) -> list[Point]:
        out = []
        for rec in records:
            build, own = _BUILD[type(rec)]
            p = build(rec)
            out.append(self._unique(p) if own else p)
        return out

    def _unique(self, p: Point) -> Point:
        """Two distinct events never share (measurement, tags, time): bump by 1 ns, deterministically."""
        ident = p.identity
        while ident in self.recent:
            p.time_ns += 1
            ident = p.identity
        self.recent[ident] = None
        if len(self.recent) > RECENT_IDENTITIES:
            self.recent.popitem(last=False)
        return p
