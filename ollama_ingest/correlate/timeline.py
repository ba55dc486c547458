"""Events → points: a per-host state machine of server instances and runner loads.

This is the first slice of the correlator: loads (start line → started-in line, with the memory
estimates between), request attribution by the request's end, instant events, VRAM. Times are ns.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from .. import events as ev
from ..sinks.lineprotocol import Point
from .endpoints import EMBED_ENDPOINTS, MODEL_ENDPOINTS, endpoint_of, method_of
from .names import ModelNames


@dataclass
class Runner:
    blob: str | None
    start_ns: int
    ctx_size: int | None = None
    parallel: int | None = None
    gpu_layers: int | None = None
    embedding: bool = False
    loaded_ns: int | None = None
    load_s: float | None = None
    name: str | None = None  # from the log itself (template selection / DEBUG runner.name)
    fields: dict = field(default_factory=dict)  # memory estimates gathered during the load
    requests: int = 0

    @property
    def per_request_ctx(self) -> int | None:
        if self.ctx_size is None:
            return None
        return self.ctx_size // self.parallel if self.parallel else self.ctx_size


@dataclass
class HostState:
    loading: Runner | None = None
    loaded: list[Runner] = field(default_factory=list)
    version: str | None = None


class Timeline:
    def __init__(self, names: ModelNames | None = None) -> None:
        self.names = names or ModelNames()
        self.hosts: dict[str, HostState] = {}
        self._recent: OrderedDict[tuple, None] = OrderedDict()  # identities of recent points

    # -- helpers -----------------------------------------------------------------------------
    def _unique(self, p: Point) -> Point:
        """Two distinct events never share (measurement, tags, time): bump by 1 ns, deterministically."""
        ident = p.identity
        while ident in self._recent:
            p.time_ns += 1
            ident = p.identity
        self._recent[ident] = None
        if len(self._recent) > 50_000:
            self._recent.popitem(last=False)
        return p

    def model_label(self, r: Runner | None) -> str:
        if r is None:
            return ""
        return r.name or self.names.label(r.blob)

    def series(self, r: Runner | None) -> str:
        if r is None:
            return ""
        n = r.per_request_ctx
        return f"{self.model_label(r)} (ctx: {n})" if n else self.model_label(r)

    def _event(self, e: ev.Event, kind: str, runner: Runner | None = None, **fields) -> Point:
        fields = {k: v for k, v in fields.items() if v is not None}
        fields.setdefault("message", kind)
        return self._unique(Point("ollama_event",
                                  {"host": e.host, "kind": kind, "model": self.model_label(runner)},
                                  fields, e.ts_us * 1000))

    def _by_blob(self, st: HostState, blob: str | None) -> Runner | None:
        if blob is None:
            return None
        for r in reversed(st.loaded):
            if r.blob == blob:
                return r
        if st.loading and st.loading.blob == blob:
            return st.loading
        return None

    # -- the state machine --------------------------------------------------------------------
    def feed(self, e: ev.Event) -> list[Point]:
        st = self.hosts.get(e.host)
        if st is None:
            st = self.hosts[e.host] = HostState()
        handler = getattr(self, "_on_" + e.kind, None)
        return handler(st, e) if handler else []

    def _on_runner_start(self, st: HostState, e: ev.RunnerStart) -> list[Point]:
        # A second start line for the same blob while it is loading is the v0.30+ projector retry.
        if st.loading and st.loading.blob == e.blob and st.loading.loaded_ns is None:
            st.loading.ctx_size = e.ctx_size or st.loading.ctx_size
            return []
        # A new runner for a blob that is loaded means the old one is gone.
        st.loaded = [r for r in st.loaded if r.blob != e.blob]
        st.loading = Runner(blob=e.blob, start_ns=e.ts_us * 1000, ctx_size=e.ctx_size,
                            parallel=e.parallel, gpu_layers=e.gpu_layers, embedding=e.embedding)
        st.loading.fields["program"] = e.program
        return []

    def _on_runner_load_request(self, st: HostState, e: ev.RunnerLoadRequest) -> list[Point]:
        r = st.loading
        if r is not None and e.operation == "commit":
            r.ctx_size = e.kv_size or r.ctx_size
            r.parallel = e.parallel or r.parallel
            r.gpu_layers = e.gpu_layers if e.gpu_layers is not None else r.gpu_layers
        return []

    def _on_offload(self, st: HostState, e: ev.Offload) -> list[Point]:
        if st.loading is not None:
            st.loading.fields.update({
                "mem_required_bytes": e.required_full_bytes, "mem_partial_bytes": e.required_partial_bytes,
                "kv_bytes": e.required_kv_bytes, "weights_bytes": e.weights_total_bytes,
                "graph_bytes": e.graph_full_bytes, "layers_offloaded": e.layers_offload,
                "layers_total": e.layers_model, "library": e.library,
            })
        return []

    def _on_memory_part(self, st: HostState, e: ev.MemoryPart) -> list[Point]:
        if st.loading is not None:
            key = {"weights": "weights_bytes", "kv_cache": "kv_bytes", "graph": "graph_bytes",
                   "total": "mem_required_bytes"}[e.part]
            if e.part == "total":
                st.loading.fields[key] = e.size_bytes
            else:
                st.loading.fields[key] = st.loading.fields.get(key, 0) + e.size_bytes
        return []

    def _on_load_finished(self, st: HostState, e: ev.LoadFinished) -> list[Point]:
        r = st.loading
        if r is None:
            return []
        st.loading = None
        r.loaded_ns = e.ts_us * 1000
        r.load_s = e.seconds
        st.loaded.append(r)
        fields = {"load_s": e.seconds, "end": r.loaded_ns // 1_000_000, "blob": r.blob or "",
                  "ctx": r.per_request_ctx, "ctx_size": r.ctx_size, "parallel": r.parallel,
                  "gpu_layers": r.gpu_layers}
        fields.update({k: v for k, v in r.fields.items() if v is not None})
        return [self._unique(Point("ollama_load", {"host": e.host, "model": self.model_label(r),
                                                   "series": self.series(r)},
                                   {k: v for k, v in fields.items() if v is not None}, r.start_ns))]

    def _on_template_selection(self, st: HostState, e: ev.TemplateSelection) -> list[Point]:
        if st.loaded:
            r = st.loaded[-1]
            r.name = e.model_name
            if r.blob:
                self.names.learn(r.blob, e.model_name)
        return []

    def _attribute(self, st: HostState, e: ev.GinRequest, endpoint: str) -> tuple[Runner | None, str]:
        start, end = e.start_ns, e.end_ns
        loaded = [r for r in st.loaded if r.loaded_ns is not None and r.loaded_ns <= end]
        triggered = [r for r in loaded if start <= r.start_ns <= end]
        if len(triggered) == 1:
            return triggered[0], "triggered_load"
        if len(loaded) == 1:
            return loaded[0], "only_loaded"
        if not loaded:
            return None, "none_loaded"
        want_embed = endpoint in EMBED_ENDPOINTS
        kind = [r for r in loaded if r.embedding == want_embed]
        if len(kind) == 1:
            return kind[0], "by_capability"
        return None, "ambiguous"

    def _on_gin_request(self, st: HostState, e: ev.GinRequest) -> list[Point]:
        endpoint = endpoint_of(e.path)
        runner, how = (None, "") if endpoint not in MODEL_ENDPOINTS else self._attribute(st, e, endpoint)
        if runner is not None:
            runner.requests += 1
        fields = {"latency_ms": e.latency_ns / 1e6, "end": e.end_ns // 1_000_000, "client": e.client,
                  "status_code": e.status}
        if endpoint == "other":
            fields["path"] = e.path
        if how:
            fields["attribution"] = how
        tags = {"host": e.host, "endpoint": endpoint, "method": method_of(e.method),
                "status": str(e.status), "model": self.model_label(runner), "series": self.series(runner)}
        return [self._unique(Point("ollama_request", tags, fields, e.start_ns))]

    # -- instant events ------------------------------------------------------------------------
    def _on_vram_timeout(self, st: HostState, e: ev.VramTimeout) -> list[Point]:
        r = self._by_blob(st, e.blob)
        return [self._event(e, "vram_timeout", r, seconds=e.seconds, blob=e.blob,
                            message="gpu VRAM usage didn't recover within timeout")]

    def _on_prompt_truncated(self, st: HostState, e: ev.PromptTruncated) -> list[Point]:
        r = st.loaded[-1] if len(st.loaded) == 1 else None
        return [self._event(e, "prompt_truncated", r, limit=e.limit, prompt=e.prompt, keep=e.keep,
                            new=e.new, message="truncating input prompt")]

    def _on_warning(self, st: HostState, e: ev.Warning_) -> list[Point]:
        r = self._by_blob(st, e.blob) or (st.loading if e.what in ("client_aborted", "load_failed") else None)
        if e.what in ("load_failed", "client_aborted") and st.loading is not None and r is st.loading:
            st.loading = None  # that load will not finish
        return [self._event(e, e.what, r, message=e.message, error=e.error, level=e.level)]

    def _on_eviction(self, st: HostState, e: ev.Eviction) -> list[Point]:
        return [self._event(e, "eviction", None, message=e.message, what=e.what, count=e.count)]

    def _on_debug_runner(self, st: HostState, e: ev.DebugRunner) -> list[Point]:
        if e.step != "unloaded":
            return []
        r = self._by_blob(st, e.blob)
        if r is not None and r in st.loaded:
            st.loaded.remove(r)
        return [self._event(e, "unload", r, message=e.message, evidence="debug_log")]

    def _on_server_listening(self, st: HostState, e: ev.ServerListening) -> list[Point]:
        st.loaded.clear()
        st.loading = None
        st.version = e.version
        return [self._event(e, "server_start", None, message=f"Listening on {e.address}",
                            version=e.version, address=e.address)]

    def _on_server_config(self, st: HostState, e: ev.ServerConfig) -> list[Point]:
        return [self._event(e, "server_config", None, message="server config",
                            keep_alive_s=e.keep_alive_ns / 1e9 if e.keep_alive_ns is not None else None,
                            num_parallel=e.num_parallel, max_loaded_models=e.max_loaded_models,
                            models_dir=e.models_dir, debug=e.debug)]

    def _on_systemd_unit(self, st: HostState, e: ev.SystemdUnit) -> list[Point]:
        if e.action in ("stopped", "exited", "failed", "deactivated", "killed"):
            st.loaded.clear()
            st.loading = None
        return [self._event(e, "service_" + e.action, None, message=e.message)]

    def _on_vram_update(self, st: HostState, e: ev.VramUpdate) -> list[Point]:
        return [self._unique(Point("ollama_vram", {"host": e.host, "gpu": e.gpu or "unknown"},
                                   {"total_bytes": e.total_bytes, "available_bytes": e.available_bytes,
                                    "library": e.library, "source": "updated_vram"
                                    if e.source_msg.startswith("updated") else "gpu_memory"},
                                   e.ts_us * 1000))]

    def _on_inference_compute(self, st: HostState, e: ev.InferenceCompute) -> list[Point]:
        return [self._unique(Point("ollama_vram", {"host": e.host, "gpu": e.gpu or "unknown"},
                                   {"total_bytes": e.total_bytes, "available_bytes": e.available_bytes,
                                    "library": e.library, "name": e.description or e.name,
                                    "source": "inference_compute"}, e.ts_us * 1000))]

    def _on_system_memory(self, st: HostState, e: ev.SystemMemory) -> list[Point]:
        return [self._unique(Point("ollama_vram", {"host": e.host, "gpu": "system"},
                                   {"total_bytes": e.total_bytes, "available_bytes": e.free_bytes,
                                    "free_swap_bytes": e.free_swap_bytes, "source": "system_memory"},
                                   e.ts_us * 1000))]
