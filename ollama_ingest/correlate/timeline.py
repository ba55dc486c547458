"""Events → points: a per-host state machine of server instances, runner sessions and requests.

The rules (design §3):
- a load spans the runner start line to ``… started in X seconds``; a session spans load start to unload;
- a request belongs to the runner that served it, decided by the request's end: the load it triggered,
  else the only loaded runner, else by capability (embedding or not); DEBUG lines and ``/api/ps``
  override inference; otherwise it is marked ambiguous rather than guessed;
- unloads are not logged at INFO: each carries its reason and the best evidence there was (DEBUG unload
  lines > ``/api/ps`` > VRAM-recovery timeout > eviction lines > a new runner for the same blob >
  a server restart > VRAM arithmetic > last request end + keep-alive).

Points are emitted deterministically from the events, so a replay rewrites the same points. The whole
object is plain data and pickles, so the service can checkpoint it with the journal cursor.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field

from .. import events as ev
from ..parse.common import short_model_name
from ..sinks.lineprotocol import Point
from .endpoints import EMBED_ENDPOINTS, MODEL_ENDPOINTS, endpoint_of, method_of
from .names import ModelNames

S = 1_000_000_000
DEFAULT_KEEP_ALIVE_NS = 300 * S  # Ollama's default OLLAMA_KEEP_ALIVE (5m0s)
INFERENCE_GRACE_NS = 15 * S  # stronger evidence (VRAM timeout ~5 s after) gets this long to arrive
UNLOAD_EVENT_DELAY_NS = 3600 * S  # an inferred unload may still be undone by a long request in flight
HOLD_NS = 3 * S  # DEBUG request lines follow [GIN] within ms; /api/ps within a poll interval
PS_HOLD_NS = 6 * S
EVICTION_WINDOW_NS = 15 * S  # a VRAM-recovery timeout this close before a new load was an eviction
FREED_MIN_BYTES = 512 << 20  # less than this between two VRAM readings is noise, not an unload
_EMBED_NAME = re.compile(r"embed|minilm|bge-|e5-|gte-|arctic-embed|paraphrase", re.I)


# the ollama_event kinds drawn as yellow warning markers (report.WARNING_KINDS): they carry end and layer
MARKER_KINDS = frozenset({"vram_timeout", "prompt_truncated", "client_aborted", "model_too_large",
                          "runner_terminated", "load_failed", "runner_not_running", "runtime_oom", "eviction"})


@dataclass
class Session:
    """One runner lifetime: load start → load end → requests → unload."""

    host: str
    blob: str | None
    start_ns: int
    ctx_size: int | None = None
    parallel: int | None = None
    gpu_layers: int | None = None
    embedding: bool = False
    loaded_ns: int | None = None
    load_s: float | None = None
    name: str | None = None  # from the log itself (template selection, DEBUG runner.name)
    mem: dict = field(default_factory=dict)
    requests: int = 0
    last_activity_ns: int = 0
    end_ns: int | None = None
    reason: str | None = None
    evidence: str | None = None
    inferred: bool = False  # closed by keep-alive inference only: a late request may reopen it
    unload_emitted: bool = True
    failed: bool = False
    runner_pid: int | None = None  # from DEBUG runner.pid
    label: str | None = None  # frozen at the first point written: a later name must not fork the series
    maybe_activity_ns: int = 0  # end of the latest ambiguous request that may have been this runner's
    activity: list = field(default_factory=list)  # recent ends of requests that were (or may have been) its

    @property
    def per_request_ctx(self) -> int | None:
        if self.ctx_size is None:
            return None
        return self.ctx_size // self.parallel if self.parallel else self.ctx_size


@dataclass
class Held:
    """A request waiting briefly for DEBUG or /api/ps evidence before it is written."""

    req: ev.GinRequest
    endpoint: str
    session: Session | None
    how: str
    release_ns: int


@dataclass
class HostState:
    version: str | None = None
    keep_alive_ns: int = DEFAULT_KEEP_ALIVE_NS
    max_loaded: int = 0  # OLLAMA_MAX_LOADED_MODELS; 0 = Ollama's default (3 per GPU)
    gpus: dict = field(default_factory=dict)  # id → total bytes, from inference compute
    loading: Session | None = None
    loaded: list[Session] = field(default_factory=list)
    closed: list[Session] = field(default_factory=list)  # recent, for revisions and late evidence
    held: list[Held] = field(default_factory=list)
    held_warnings: list = field(default_factory=list)
    debug_seen: bool = False
    ps_seen: bool = False
    ps_prev: dict = field(default_factory=dict)  # name → PsModel
    ps_prev_ns: int = 0
    vram_available: int | None = None  # latest "updated VRAM based on existing loaded models"
    vram_update_ns: int = 0
    evict_hint: tuple | None = None  # (ns, evidence) an eviction was announced, victim to come
    stop_ns: int | None = None  # systemd said the service is stopping / its process exited
    pending_reason: dict = field(default_factory=dict)  # session start → reason, from DEBUG lines
    unnamed: Session | None = None  # loaded, its points wait for the line that names it (v0.30.1+)
    stopped: list = field(default_factory=list)  # ended by a service stop: a restart if it starts again
    stopped_ns: int = 0
    oom: tuple | None = None  # (session, ns): runtime OOM, it unloads once its request finishes
    last_ns: int = 0


class Timeline:
    def __init__(self, names: ModelNames | None = None) -> None:
        self.names = names or ModelNames()
        self.hosts: dict[str, HostState] = {}
        self._recent: OrderedDict[tuple, None] = OrderedDict()  # identities of recent points

    # -- labels ----------------------------------------------------------------------------------
    def model_label(self, s: Session | None) -> str:
        if s is None:
            return ""
        return s.label or s.name or self.names.label(s.blob)

    def series(self, s: Session | None) -> str:
        if s is None:
            return ""
        n = s.per_request_ctx
        return f"{self.model_label(s)} (ctx: {n})" if n else self.model_label(s)

    def _is_embedding(self, s: Session) -> bool:
        if s.embedding:
            return True
        names = [self.model_label(s), *self.names.all_names(s.blob)]
        return any(_EMBED_NAME.search(n) for n in names)

    # -- points ----------------------------------------------------------------------------------
    def _unique(self, p: Point) -> Point:
        """Two distinct events never share (measurement, tags, time): bump by 1 ns, deterministically."""
        ident = p.identity
        while ident in self._recent:
            p.time_ns += 1
            ident = p.identity
        self._recent[ident] = None
        if len(self._recent) > 4096:
            self._recent.popitem(last=False)
        return p

    def _event(self, host: str, ts_ns: int, kind: str, s: Session | None = None, **fields) -> Point:
        fields = {k: v for k, v in fields.items() if v is not None}
        fields.setdefault("message", kind)
        if kind in MARKER_KINDS:  # a Gantt marker ends where it starts; InfluxQL cannot compute either
            fields.update(end=ts_ns // 1_000_000, layer="warning")
        return self._unique(Point("ollama_event", {"host": host, "kind": kind, "model": self.model_label(s)},
                                  fields, ts_ns))

    def _session_point(self, s: Session, now_ns: int | None = None) -> Point:
        """The session bar; its identity is (host, model, series, load start): later writes overwrite it."""
        open_ = s.end_ns is None
        end = s.end_ns if not open_ else max(now_ns or 0, s.last_activity_ns, s.loaded_ns or s.start_ns)
        fields = {"end": end // 1_000_000, "open": open_, "requests": s.requests, "blob": s.blob or "",
                  "ctx": s.per_request_ctx, "parallel": s.parallel, "load_s": s.load_s,
                  "unload_reason": s.reason or ("" if open_ else "unknown"), "evidence": s.evidence or "",
                  "names": ",".join(self.names.all_names(s.blob))}
        # fixed time: not passed through _unique, so every upsert lands on the same point
        return Point("ollama_session", {"host": s.host, "model": self.model_label(s), "series": self.series(s)},
                     {k: v for k, v in fields.items() if v is not None and v != ""}, s.start_ns)

    # -- public API ------------------------------------------------------------------------------
    def feed(self, e: ev.Event) -> list[Point]:
        st = self.hosts.get(e.host)
        if st is None:
            st = self.hosts[e.host] = HostState()
        now = e.ts_us * 1000
        out = self._advance(st, e.host, now)
        if st.unnamed is not None and not (e.kind == "template_selection" or getattr(e, "step", "") == "ready"):
            out += self._load_points(st)
        handler = getattr(self, "_on_" + e.kind, None)
        if handler:
            out += handler(st, e)
        if now > st.last_ns:
            st.last_ns = now
        return out

    def advance(self, now_ns: int) -> list[Point]:
        """Let time pass with no events (a quiet journal): release held requests, infer expiries."""
        out: list[Point] = []
        for host, st in self.hosts.items():
            out += self._load_points(st)
            out += self._advance(st, host, now_ns)
        return out

    def open_sessions(self, now_ns: int | None = None) -> list[Point]:
        """Upserts of the sessions still open (the service writes them periodically)."""
        out = []
        for st in self.hosts.values():
            for s in st.loaded:
                out.append(self._session_point(s, now_ns or st.last_ns))
        return out

    def finish(self) -> list[Point]:
        """End of input: release everything held, finalise inferred unloads, upsert open sessions."""
        out: list[Point] = []
        for host, st in self.hosts.items():
            out += self._load_points(st)
            out += self._advance(st, host, st.last_ns)
            out += self._release(st, st.last_ns, force=True)
            for s in st.closed:
                if not s.unload_emitted:
                    out.append(self._unload_event(s))
            for w in st.held_warnings:
                out.append(self._warning_point(st, w, None))
            st.held_warnings.clear()
        return out + self.open_sessions()

    # -- time ------------------------------------------------------------------------------------
    def _advance(self, st: HostState, host: str, now: int) -> list[Point]:
        out: list[Point] = []
        if st.held and now >= st.held[0].release_ns:
            out += self._release(st, now)
        if st.oom is not None and now - st.oom[1] > HOLD_NS:  # no request finished: it went at the WARN
            (s, at), st.oom = st.oom, None
            if s.end_ns is None:
                out += self._close(st, s, at, "oom", "eviction_log")
        if st.held_warnings and now - st.held_warnings[0].ts_us * 1000 > 600 * S:
            w = st.held_warnings.pop(0)
            out.append(self._warning_point(st, w, None))
        # the weakest evidence: last activity + keep-alive, once nothing stronger can still come
        for s in list(st.loaded):
            if s.loaded_ns is None or st.keep_alive_ns < 0 or st.keep_alive_ns > 10**7 * S:
                continue
            # an ambiguous request may have been this runner's: it cannot have expired before that one
            deadline = max(s.last_activity_ns, s.maybe_activity_ns, s.loaded_ns) + st.keep_alive_ns
            if now > deadline + INFERENCE_GRACE_NS and not self._in_flight(st, s):
                out += self._close(st, s, deadline, "keep_alive_expired", "keep_alive_inference", inferred=True)
        for s in st.closed:
            if not s.unload_emitted and now > (s.end_ns or 0) + UNLOAD_EVENT_DELAY_NS:
                out.append(self._unload_event(s))
        return out

    @staticmethod
    def _note_activity(s: Session, end_ns: int) -> None:
        s.activity.append(end_ns)
        if len(s.activity) > 32:
            del s.activity[0]

    @staticmethod
    def _in_flight(st: HostState, s: Session) -> bool:
        return any(h.session is s for h in st.held)

    # -- sessions ----------------------------------------------------------------------------------
    def _close(self, st: HostState, s: Session, end_ns: int, reason: str, evidence: str,
               inferred: bool = False) -> list[Point]:
        pre = self._load_points(st) if st.unnamed is s else []
        if s in st.loaded:
            st.loaded.remove(s)
        if st.loading is s:
            st.loading = None
        s.end_ns = max(end_ns, s.loaded_ns or s.start_ns)
        s.reason, s.evidence, s.inferred = reason, evidence, inferred
        st.closed.append(s)
        if len(st.closed) > 32:
            old = st.closed.pop(0)
            if not old.unload_emitted:
                st.closed.insert(0, old)
        out = [*pre, self._session_point(s)]
        if inferred:
            s.unload_emitted = False  # written once no late request can reopen the session
        else:
            s.unload_emitted = True
            out.append(self._unload_event(s))
        return out

    def _unload_event(self, s: Session) -> Point:
        """The red marker. Its identity is the session's (model, end): a revision overwrites it."""
        s.unload_emitted = True
        fields = {"message": f"unloaded: {s.reason}", "reason": s.reason, "evidence": s.evidence,
                  "requests": s.requests, "end": (s.end_ns or s.start_ns) // 1_000_000, "layer": "unload"}
        return Point("ollama_event", {"host": s.host, "kind": "unload", "model": self.model_label(s)},
                     {k: v for k, v in fields.items() if v is not None}, s.end_ns or s.start_ns)

    def _revise(self, st: HostState, s: Session, end_ns: int, reason: str, evidence: str) -> list[Point]:
        """Stronger evidence for a session already closed by inference."""
        if not s.inferred:
            return []
        s.end_ns, s.reason, s.evidence, s.inferred = max(end_ns, s.loaded_ns or s.start_ns), reason, evidence, False
        return [self._session_point(s), self._unload_event(s)]

    def _reopen(self, st: HostState, s: Session) -> None:
        st.closed.remove(s)
        s.end_ns = s.reason = s.evidence = None
        s.inferred, s.unload_emitted = False, True
        st.loaded.append(s)

    def _find(self, st: HostState, blob: str | None = None, name: str | None = None,
              pid: int | None = None, include_closed: bool = False) -> Session | None:
        pools = [*reversed(st.loaded), *([st.loading] if st.loading else [])]
        if include_closed:
            pools += list(reversed(st.closed))
        for s in pools:
            if blob and s.blob == blob:
                return s
            if name and (s.name == name or name in self.names.all_names(s.blob)):
                return s
            if pid and s.runner_pid == pid:
                return s
        return None

    def _end_all(self, st: HostState, end_ns: int, reason: str, evidence: str) -> list[Point]:
        out: list[Point] = []
        out += self._release(st, end_ns, force=True)
        for s in st.closed:  # inferred ends of this server instance can no longer be revised
            s.inferred = False
            if not s.unload_emitted:
                out.append(self._unload_event(s))
        for s in [*st.loaded, *([st.loading] if st.loading else [])]:
            out += self._close(st, s, end_ns, reason if s.loaded_ns else "load_interrupted", evidence)
        return out

    def _victim(self, st: HostState) -> Session | None:
        """The runner Ollama's scheduler unloads to make room (sched.go findRunnerToUnload): an idle one
        first, in ByDurationAndName order: shortest keep-alive (the server's, as requests' own are not
        logged), then model path."""
        loaded = [s for s in st.loaded if s.loaded_ns is not None]
        busy = {id(h.session) for h in st.held if h.session is not None}
        return min(loaded, key=lambda s: (id(s) in busy, s.blob or "", s.start_ns), default=None)

    # -- loads -----------------------------------------------------------------------------------------
    def _on_runner_start(self, st: HostState, e: ev.RunnerStart) -> list[Point]:
        now = e.ts_us * 1000
        out: list[Point] = []
        # A second start line for the same blob while it loads is the v0.30+ projector-offload retry.
        if st.loading and st.loading.blob == e.blob and st.loading.loaded_ns is None:
            st.loading.ctx_size = e.ctx_size or st.loading.ctx_size
            return out
        if st.loading is not None:  # a load that never finished
            st.loading.failed = True
            out += self._close(st, st.loading, now, "load_failed", "new_runner")
        for s in [s for s in st.loaded if s.blob == e.blob]:
            out += self._close(st, s, now, "reloaded", "new_runner")
        # an eviction announced (v0.12.11+ / v0.30+ INFO lines) whose victim the log did not name
        if st.evict_hint and now - st.evict_hint[0] < EVICTION_WINDOW_NS:
            victim = self._victim(st)
            if victim is not None:
                out += self._close(st, victim, st.evict_hint[0], "evicted", st.evict_hint[1])
        st.evict_hint = None
        # a VRAM-recovery timeout just before this load: that unload made room for it
        for s in st.closed:
            if s.evidence == "vram_timeout" and s.reason == "unloaded" and 0 <= now - (s.end_ns or 0) < EVICTION_WINDOW_NS:
                s.reason = "evicted"
                out += [self._session_point(s), self._unload_event(s)]
        # the server's model limit: a new runner while the limit is reached means one was evicted
        limit = st.max_loaded or 3 * max(1, len([g for g in st.gpus if g != "cpu"]))
        while len(st.loaded) >= limit:
            victim = self._victim(st)
            if victim is None:
                break
            out += self._close(st, victim, now, "evicted", "max_loaded_models")
        # early C runners got --embedding for every model; only llama-server's flag means "embedding model"
        s = Session(host=e.host, blob=e.blob, start_ns=now, ctx_size=e.ctx_size, parallel=e.parallel,
                    gpu_layers=e.gpu_layers, embedding=e.embedding and e.variant == "llama-server",
                    last_activity_ns=now)
        s.mem["program"] = e.program
        st.loading = s
        return out

    def _on_runner_load_request(self, st: HostState, e: ev.RunnerLoadRequest) -> list[Point]:
        s = st.loading
        if s is not None and e.operation == "commit":
            s.ctx_size = e.kv_size or s.ctx_size
            s.parallel = e.parallel or s.parallel
            s.gpu_layers = e.gpu_layers if e.gpu_layers is not None else s.gpu_layers
        return []

    def _on_offload(self, st: HostState, e: ev.Offload) -> list[Point]:
        out: list[Point] = []
        s = st.loading
        if s is not None:
            # VRAM arithmetic: just before this load Ollama said how much VRAM was free beside the
            # loaded models; the estimate now sees more free: the scheduler unloaded one to make room.
            seen = sum(e.memory_available_bytes)
            if (st.vram_available is not None and seen > st.vram_available + FREED_MIN_BYTES
                    and 0 <= s.start_ns - st.vram_update_ns < EVICTION_WINDOW_NS
                    and not any(c.end_ns and 0 <= s.start_ns - c.end_ns < EVICTION_WINDOW_NS for c in st.closed)):
                victim = self._victim(st)
                if victim is not None:
                    out += self._close(st, victim, s.start_ns, "evicted", "vram_estimate")
            st.vram_available = None
            s.mem.update({
                "mem_required_bytes": e.required_full_bytes, "mem_partial_bytes": e.required_partial_bytes,
                "kv_bytes": e.required_kv_bytes, "weights_bytes": e.weights_total_bytes,
                "graph_bytes": e.graph_full_bytes, "layers_offloaded": e.layers_offload,
                "layers_total": e.layers_model, "library": e.library,
            })
        return out

    def _on_memory_part(self, st: HostState, e: ev.MemoryPart) -> list[Point]:
        if st.loading is not None:
            key = {"weights": "weights_bytes", "kv_cache": "kv_bytes", "graph": "graph_bytes",
                   "total": "mem_required_bytes"}[e.part]
            if e.part == "total":
                st.loading.mem[key] = e.size_bytes
            else:
                st.loading.mem[key] = (st.loading.mem.get(key) or 0) + e.size_bytes
        return []

    def _on_load_finished(self, st: HostState, e: ev.LoadFinished) -> list[Point]:
        s = st.loading
        if s is None:
            return []
        now = e.ts_us * 1000
        out: list[Point] = []
        st.loading = None
        s.loaded_ns = now
        s.load_s = e.seconds
        s.last_activity_ns = now
        st.loaded.append(s)
        if st.unnamed is not None:
            out += self._load_points(st)
        st.unnamed = s  # the next line may name it (template selection, DEBUG "finished setting up")
        return out

    def _load_points(self, st: HostState) -> list[Point]:
        s, st.unnamed = st.unnamed, None
        if s is None:
            return []
        s.label = self.model_label(s)
        fields = {"load_s": s.load_s, "end": (s.loaded_ns or s.start_ns) // 1_000_000, "blob": s.blob or "",
                  "ctx": s.per_request_ctx, "ctx_size": s.ctx_size, "parallel": s.parallel,
                  "gpu_layers": s.gpu_layers, **s.mem}
        load = self._unique(Point("ollama_load", {"host": s.host, "model": s.label, "series": self.series(s)},
                                  {k: v for k, v in fields.items() if v is not None and v != ""}, s.start_ns))
        return [load] if s.end_ns is not None else [load, self._session_point(s)]

    def _name_session(self, s: Session, name: str) -> list[Point]:
        if s.name == name:
            return []
        s.name = name
        if s.blob:
            self.names.learn(s.blob, name)
        return []

    def _on_template_selection(self, st: HostState, e: ev.TemplateSelection) -> list[Point]:
        # logged right after a successful load (v0.30.1+), before anything else loads
        if st.loaded:
            return self._name_session(st.loaded[-1], e.model_name)
        return []

    # -- requests --------------------------------------------------------------------------------------
    def _infer(self, st: HostState, e: ev.GinRequest, endpoint: str) -> tuple[Session | None, str]:
        start, end = e.start_ns, e.end_ns
        if st.loading is not None and start <= st.loading.start_ns <= end:
            return st.loading, "triggered_load"  # it ended before the load finished (aborted/failed)
        live = [s for s in st.loaded if (s.loaded_ns or 0) <= end]
        # sessions closed by inference alone while this request was running: it kept them loaded
        live += [s for s in st.closed if s.inferred and (s.end_ns or 0) > start]
        triggered = [s for s in live if start <= s.start_ns <= end]
        if len(triggered) == 1:
            return triggered[0], "triggered_load"
        # a load it triggered that failed or was aborted (and was not retried) before it ended
        failed = [s for s in st.closed if s.failed and start <= s.start_ns <= end]
        if failed and not triggered:
            return failed[-1], "triggered_load"
        want = endpoint in EMBED_ENDPOINTS
        if len(live) == 1 and (self._is_embedding(live[0]) == want or e.status >= 300):
            return live[0], "only_loaded"
        kind = [s for s in live if self._is_embedding(s) == want]
        if len(kind) == 1:
            return kind[0], "capability"
        if not kind and (e.status < 300 or e.latency_ns > S):
            # It reached a model (served, or failed only after a while) and no runner was started for
            # it: a model we believed expired was still loaded (its keep-alive was longer than the
            # server default). The most recent such one of the right kind it is.
            revivable = [s for s in reversed(st.closed) if s.inferred and self._is_embedding(s) == want
                         and not any(o.blob == s.blob and o.start_ns > s.start_ns for o in [*st.loaded, *st.closed])]
            if revivable:
                return revivable[0], "only_loaded" if len(revivable) == 1 else "capability"
        if not live:
            return None, "none_loaded"
        for s in kind or live:
            s.maybe_activity_ns = max(s.maybe_activity_ns, end)
            self._note_activity(s, end)
        return None, "ambiguous"

    def _on_gin_request(self, st: HostState, e: ev.GinRequest) -> list[Point]:
        endpoint = endpoint_of(e.path)
        if endpoint not in MODEL_ENDPOINTS or e.method != "POST":  # CORS preflights, probes
            return [self._request_point(e, endpoint, None, "")]
        if e.status >= 400 and e.latency_ns < S:  # refused before any model was involved (400, 404, …)
            return [self._request_point(e, endpoint, None, "not_served")]
        out: list[Point] = []
        if st.oom is not None and e.start_ns <= st.oom[1] <= e.end_ns:
            # the request that hit the runtime OOM has finished: the model it expired goes now
            (victim, _at), st.oom = st.oom, None
            if victim.end_ns is None:
                out += self._close(st, victim, e.end_ns, "oom", "eviction_log")
        s, how = self._infer(st, e, endpoint)
        if s is not None:
            s.last_activity_ns = max(s.last_activity_ns, e.end_ns)
            self._note_activity(s, e.end_ns)
        if st.debug_seen or st.ps_seen or how in ("ambiguous", "capability"):
            hold = PS_HOLD_NS if st.ps_seen else HOLD_NS
            st.held.append(Held(e, endpoint, s, how, e.end_ns + hold))
            return out
        return out + self._attribute(st, e, endpoint, s, how)

    def _attribute(self, st: HostState, e: ev.GinRequest, endpoint: str, s: Session | None,
                   how: str) -> list[Point]:
        if s is not None:
            if s.inferred and s in st.closed:
                self._reopen(st, s)
            s.requests += 1
            s.last_activity_ns = max(s.last_activity_ns, e.end_ns)
        out = [self._request_point(e, endpoint, s, how)]
        if s is not None and s.end_ns is not None and s.label is not None:
            out.append(self._session_point(s))  # its request count changed after it ended
            if s.unload_emitted:
                out.append(self._unload_event(s))

        # warnings waiting for the request they happened in
        for w in list(st.held_warnings):
            if e.start_ns <= w.ts_us * 1000 <= e.end_ns and s is not None:
                st.held_warnings.remove(w)
                out.append(self._warning_point(st, w, s))
        return out

    def _request_point(self, e: ev.GinRequest, endpoint: str, s: Session | None, how: str) -> Point:
        fields = {"latency_ms": e.latency_ns / 1e6, "end": e.end_ns // 1_000_000, "client": e.client,
                  "status_code": e.status}
        if endpoint == "other":
            fields["path"] = e.path
        if how:
            fields["attribution"] = how
        tags = {"host": e.host, "endpoint": endpoint, "method": method_of(e.method), "status": str(e.status),
                "model": self.model_label(s), "series": self.series(s)}
        return self._unique(Point("ollama_request", tags, fields, e.start_ns))

    def _release(self, st: HostState, now: int, force: bool = False) -> list[Point]:
        out: list[Point] = []
        while st.held and (force or st.held[0].release_ns <= now):
            h = st.held.pop(0)
            out += self._attribute(st, h.req, h.endpoint, h.session, h.how)
        return out

    def _mark(self, st: HostState, s: Session | None, at_ns: int, lo_ns: int, hi_ns: int, how: str) -> None:
        """Evidence that ``s`` finished a request near ``at_ns``: claim the closest held request."""
        if s is None:
            return
        best = None
        for h in st.held:
            if h.how in ("debug_log", "api_ps"):
                continue
            if lo_ns <= h.req.end_ns <= hi_ns and (best is None or abs(h.req.end_ns - at_ns) < abs(best.req.end_ns - at_ns)):
                best = h
        if best is not None:
            if best.session is not None and best.session is not s and best.how != "ambiguous":
                best.session.last_activity_ns = max(best.session.start_ns, best.session.loaded_ns or 0)
            best.session, best.how = s, how
            s.last_activity_ns = max(s.last_activity_ns, best.req.end_ns)

    # -- DEBUG lines -----------------------------------------------------------------------------------
    def _on_debug_runner(self, st: HostState, e: ev.DebugRunner) -> list[Point]:
        st.debug_seen = True
        now = e.ts_us * 1000
        s = self._find(st, e.blob, e.runner_name, e.runner_pid, include_closed=e.step in ("stopping", "unloaded"))
        if s is None and e.step == "stopping" and not (e.blob or e.runner_name or e.runner_pid):
            # older versions log "stopping llama server" with no keys: the runner whose unload began
            pending = [x for x in st.loaded if x.start_ns in st.pending_reason]
            s = pending[0] if len(pending) == 1 else None
        if s is None:
            return []
        if e.runner_name and not s.name:
            self._name_session(s, e.runner_name)
        if e.runner_pid and (e.blob or e.runner_name):
            s.runner_pid = e.runner_pid
        if e.step == "request_end":
            self._mark(st, s, now, now - S, now + S // 2, "debug_log")
        elif e.step in ("expired", "expire_now", "evict", "shutdown"):
            reason = {"expired": "keep_alive_expired", "expire_now": "keep_alive_zero", "evict": "evicted",
                      "shutdown": "server_stop"}[e.step]
            # the unload begins at the first of these lines; "timer expired" comes before "runner expired
            # event received": keep the more specific reason, and the first time
            first = st.pending_reason.get(s.start_ns)
            if first is None or e.step != "expired":
                st.pending_reason[s.start_ns] = (reason, first[1] if first else now)
        elif e.step in ("stopping", "unloaded"):
            reason, began = st.pending_reason.pop(s.start_ns, None) or (s.reason or "unloaded", now)
            if s.end_ns is None:
                return self._close(st, s, began, reason, "debug_log")
            if s.inferred:
                return self._revise(st, s, began, reason, "debug_log")
        return []

    # -- /api/ps -----------------------------------------------------------------------------------------
    def _on_api_ps(self, st: HostState, e: ev.ApiPs) -> list[Point]:
        now = e.ts_us * 1000
        out: list[Point] = []
        st.ps_seen = True
        current = {m.name: m for m in e.models}
        for s in list(st.loaded):
            label = self.model_label(s)
            names = {label, *self.names.all_names(s.blob)}
            if s.name:
                names.add(s.name)
            if not names & set(current) and st.ps_prev_ns and s.loaded_ns and s.loaded_ns < st.ps_prev_ns:
                # gone since the last poll: it expired at its expires_at if that fell in between
                prev = next((st.ps_prev[n] for n in names if n in st.ps_prev), None)
                exp = prev.expires_at_us * 1000 if prev and prev.expires_at_us else None
                if exp is not None and st.ps_prev_ns < exp <= now:
                    out += self._close(st, s, exp, "keep_alive_expired", "api_ps")
                else:
                    out += self._close(st, s, now, "unloaded", "api_ps")
        for name, m in current.items():
            prev = st.ps_prev.get(name)
            if prev and m.expires_at_us and prev.expires_at_us and m.expires_at_us > prev.expires_at_us:
                s = self._find(st, name=name)
                self._mark(st, s, now, st.ps_prev_ns, now, "api_ps")
        st.ps_prev, st.ps_prev_ns = current, now
        return out

    # -- unload and eviction evidence ---------------------------------------------------------------------
    def _on_vram_timeout(self, st: HostState, e: ev.VramTimeout) -> list[Point]:
        now = e.ts_us * 1000
        began = now - int(e.seconds * S)
        s = self._find(st, e.blob, short_model_name(e.runner_name) if e.runner_name else None,
                       include_closed=True)
        out: list[Point] = []
        if s is not None:
            last = [*s.activity, s.last_activity_ns, s.loaded_ns or 0]
            expired = any(abs(began - (t + st.keep_alive_ns)) < 10 * S for t in last if t)
            reason = "keep_alive_expired" if expired else "unloaded"
            if s.end_ns is None:
                out += self._close(st, s, began, reason, "vram_timeout")
            elif s.inferred:
                out += self._revise(st, s, began, reason, "vram_timeout")
        out.append(self._event(e.host, now, "vram_timeout", s, seconds=e.seconds, blob=e.blob,
                               message="gpu VRAM usage didn't recover within timeout"))
        return out

    def _on_eviction(self, st: HostState, e: ev.Eviction) -> list[Point]:
        now = e.ts_us * 1000
        out: list[Point] = []
        if e.what == "load_failed_retry" and st.loading is not None:
            st.loading.failed = True
            out += self._close(st, st.loading, now, "load_failed", "load_error")
        if e.what in ("evict_all_oom_retry", "load_failed_retry"):
            for s in list(st.loaded):
                out += self._close(st, s, now, "evicted", "eviction_log")
        else:
            st.evict_hint = (now, "eviction_log")
        out.append(self._event(e.host, now, "eviction", None, message=e.message, what=e.what, count=e.count))
        return out

    def _on_warning(self, st: HostState, e: ev.Warning_) -> list[Point]:
        now = e.ts_us * 1000
        out: list[Point] = []
        s = self._find(st, e.blob, e.runner_name) if (e.blob or e.runner_name) else None
        if e.what in ("load_failed", "client_aborted", "model_too_large") and st.loading is not None:
            s = st.loading
            s.failed = True
            out += self._close(st, s, now, "load_failed" if e.what != "client_aborted" else "load_aborted",
                               "load_error")
        elif e.what == "runtime_oom":
            if s is not None:  # it unloads once the request that hit the OOM has finished
                st.oom = (s, now)
            else:
                for victim in list(st.loaded):
                    out += self._close(st, victim, now, "oom", "eviction_log")
        elif e.what == "runner_terminated" and st.loading is not None and s is None:
            s = st.loading  # the runner being loaded died
            s.failed = True
            out += self._close(st, s, now, "load_failed", "load_error")
        elif s is None and len(st.loaded) == 1:
            s = st.loaded[0]
        out.append(self._event(e.host, now, e.what, s, message=e.message, error=e.error, level=e.level))
        return out

    def _on_prompt_truncated(self, st: HostState, e: ev.PromptTruncated) -> list[Point]:
        if len(st.loaded) == 1:
            return [self._warning_point(st, e, st.loaded[0])]
        st.held_warnings.append(e)  # it belongs to the request it happened in: wait for that [GIN]
        return []

    def _warning_point(self, st: HostState, e: ev.PromptTruncated, s: Session | None) -> Point:
        return self._event(e.host, e.ts_us * 1000, "prompt_truncated", s, limit=e.limit, prompt=e.prompt,
                           keep=e.keep, new=e.new, message="truncating input prompt")

    # -- server and service --------------------------------------------------------------------------------
    def _restarted(self, st: HostState, now: int) -> list[Point]:
        """The service started again soon after a stop: those sessions ended in a restart."""
        out: list[Point] = []
        if st.stopped and now - st.stopped_ns < 60 * S:
            for s in st.stopped:
                s.reason = "server_restart"
                out += [self._session_point(s), self._unload_event(s)]
        st.stopped = []
        return out

    def _on_server_listening(self, st: HostState, e: ev.ServerListening) -> list[Point]:
        now = e.ts_us * 1000
        out = self._restarted(st, now)
        out += self._end_all(st, st.stop_ns or now, "server_restart",
                             "systemd" if st.stop_ns is not None else "server_start")
        st.stop_ns = None
        st.version = e.version
        st.gpus = {}
        st.ps_prev = {}
        out.append(self._event(e.host, now, "server_start", None, message=f"Listening on {e.address}",
                               version=e.version, address=e.address))
        return out

    def _on_server_config(self, st: HostState, e: ev.ServerConfig) -> list[Point]:
        if e.keep_alive_ns is not None:
            st.keep_alive_ns = e.keep_alive_ns
        if e.max_loaded_models is not None:
            st.max_loaded = e.max_loaded_models
        return [self._event(e.host, e.ts_us * 1000, "server_config", None, message="server config",
                            keep_alive_s=e.keep_alive_ns / 1e9 if e.keep_alive_ns is not None else None,
                            num_parallel=e.num_parallel, max_loaded_models=e.max_loaded_models,
                            models_dir=e.models_dir, debug=e.debug)]

    def _on_systemd_unit(self, st: HostState, e: ev.SystemdUnit) -> list[Point]:
        now = e.ts_us * 1000
        out: list[Point] = []
        # Ollama unloads its runners on SIGTERM and exits; a stop that times out ends in SIGKILL. Either
        # way the models are gone when the main process is: the first "exited/deactivated/stopped".
        if e.action == "stopping":
            st.stop_ns = st.stop_ns or now
        if e.action in ("stopped", "failed", "deactivated", "exited"):
            crashed = e.action in ("exited", "failed") and st.stop_ns is None
            # a prompt stop: the SIGTERM handler unloaded the runners at once; a stop that hung
            # until systemd's SIGKILL: they went with the process
            prompt = st.stop_ns is not None and now - st.stop_ns < 10 * S
            ending = [*st.loaded, *([st.loading] if st.loading else [])]
            out += self._end_all(st, st.stop_ns if prompt else now, "server_crash" if crashed else "server_stop",
                                 "systemd")
            if ending:
                st.stopped = [x for x in ending if x.reason == "server_stop"]
                st.stopped_ns = now
        if e.action in ("started", "starting"):
            st.stop_ns = None
            out += self._restarted(st, now)
        out.append(self._event(e.host, now, "service_" + e.action, None, message=e.message))
        return out

    # -- memory ---------------------------------------------------------------------------------------------
    def _on_vram_update(self, st: HostState, e: ev.VramUpdate) -> list[Point]:
        now = e.ts_us * 1000
        if e.source_msg.startswith("updated") and e.available_bytes is not None:
            if now - st.vram_update_ns > S or st.vram_available is None:
                st.vram_available = 0
            st.vram_available = (st.vram_available or 0) + e.available_bytes  # summed over GPUs
            st.vram_update_ns = now
        return [self._unique(Point("ollama_vram", {"host": e.host, "gpu": e.gpu or "unknown"},
                                   {"total_bytes": e.total_bytes, "available_bytes": e.available_bytes,
                                    "library": e.library,
                                    "source": "updated_vram" if e.source_msg.startswith("updated") else "gpu_memory"},
                                   now))]

    def _on_inference_compute(self, st: HostState, e: ev.InferenceCompute) -> list[Point]:
        if e.gpu and e.total_bytes is not None and (e.library or "").lower() != "cpu":
            st.gpus[e.gpu] = e.total_bytes
        return [self._unique(Point("ollama_vram", {"host": e.host, "gpu": e.gpu or "unknown"},
                                   {"total_bytes": e.total_bytes, "available_bytes": e.available_bytes,
                                    "library": e.library, "name": e.description or e.name,
                                    "source": "inference_compute"}, e.ts_us * 1000))]

    def _on_system_memory(self, st: HostState, e: ev.SystemMemory) -> list[Point]:
        return [self._unique(Point("ollama_vram", {"host": e.host, "gpu": "system"},
                                   {"total_bytes": e.total_bytes, "available_bytes": e.free_bytes,
                                    "free_swap_bytes": e.free_swap_bytes, "source": "system_memory"},
                                   e.ts_us * 1000))]
