"""Events → points: a per-host state machine of server instances, runner sessions and requests.

The rules are docs/design.md's: §1 loads and sessions, §2 request attribution, §3 runners whose start is not
in the input (adoption), §4 unloads and their evidence, §5 evictions and the scheduler's victim order, §6 the
end of the input. Points are emitted deterministically from the events, so a replay rewrites the same
points. The whole object is plain data and pickles, so the service can checkpoint it with the journal cursor.
"""

from __future__ import annotations

import re

from .. import events as ev
from ..parse.common import short_model_name
from ..schema.measurements import PointMaker
from ..schema.point import Point
from . import adoption, single_runner, victims
from . import records as rec
from .endpoints import EMBED_ENDPOINTS, MODEL_ENDPOINTS, endpoint_of
from .names import ModelNames
from .state import DEFAULT_KEEP_ALIVE_NS, Held, HostState, OomHint, PendingUnload, S, Session
from .victims import EVICTION_WINDOW_NS

__all__ = ["DEFAULT_KEEP_ALIVE_NS", "Held", "HostState", "Session", "Timeline"]

INFERENCE_GRACE_NS = 15 * S  # stronger evidence (VRAM timeout ~5 s after) gets this long to arrive
UNLOAD_EVENT_DELAY_NS = 3600 * S  # an inferred unload may still be undone by a long request in flight
HOLD_NS = 3 * S  # DEBUG request lines follow [GIN] within ms; /api/ps within a poll interval
PS_HOLD_NS = 6 * S
FREED_MIN_BYTES = 512 << 20  # less than this between two VRAM readings is noise, not an unload
_EMBED_NAME = re.compile(r"embed|minilm|bge-|e5-|gte-|arctic-embed|paraphrase", re.I)
# between "… started in" and the line that names the model (v0.30.1+) nothing else may freeze its label
_NAMING_OR_NEUTRAL = frozenset({"template_selection", "runners_count"})
# events whose rules live in their own modules: handler(timeline, host state, event) → points
_MODULE_HANDLERS = {"load_decision": adoption.load_decision, "model_file": adoption.model_file,
                    "runners_count": adoption.runners_count, "model_change": single_runner.model_change,
                    "runner_stopped": single_runner.runner_stopped}


class Timeline:
    def __init__(self, names: ModelNames | None = None) -> None:
        self.names = names or ModelNames()
        self.hosts: dict[str, HostState] = {}
        self.schema = PointMaker()  # records → points

    # -- labels ----------------------------------------------------------------------------------
    def model_label(self, s: Session | None) -> str:
        if s is None:
            return ""
        return s.label or s.name or self.names.label(s.blob)

    def series(self, s: Session | None) -> str:
        if s is None:
            return ""
        if s.series_tag:  # resumed from a point already written (design §3): keep its identity
            return s.series_tag
        n = s.per_request_ctx
        return f"{self.model_label(s)} (ctx: {n})" if n else self.model_label(s)

    def _is_embedding(self, s: Session) -> bool:
        if s.embedding:
            return True
        names = [self.model_label(s), *self.names.all_names(s.blob)]
        return any(_EMBED_NAME.search(n) for n in names)

    # -- records -------------------------------------------------------------------------------
    def _session_point(self, s: Session, now_ns: int | None = None) -> rec.SessionUpdate:
        """The session as it stands; once written, its start and label are its identity and no longer move."""
        open_ = s.end_ns is None
        if s.adopted and s.label is None:
            s.label = self.model_label(s)  # no load point froze it
        s.written = True
        end = s.end_ns if not open_ else max(now_ns or 0, s.last_activity_ns, s.loaded_ns or s.start_ns)
        return rec.SessionUpdate(host=s.host, start_ns=s.start_ns, model=self.model_label(s), series=self.series(s),
                                 end_ns=end, open=open_, loading=open_ and s.loaded_ns is None, adopted=s.adopted,
                                 requests=s.requests, blob=s.blob, ctx=s.per_request_ctx, parallel=s.parallel,
                                 load_s=s.load_s, reason=s.reason, evidence=s.evidence,
                                 names=self.names.all_names(s.blob))

    # -- public API ------------------------------------------------------------------------------
    def feed(self, e: ev.Event) -> list[Point]:
        st = self.hosts.get(e.host)
        if st is None:
            st = self.hosts[e.host] = HostState()
        now = e.ts_us * 1000
        out = self._advance(st, e.host, now)
        if st.unnamed is not None and not (e.kind in _NAMING_OR_NEUTRAL or getattr(e, "step", "") == "ready"):
            out += self._load_points(st)
        handler = getattr(self, "_on_" + e.kind, None)
        if handler:
            out += handler(st, e)
        elif e.kind in _MODULE_HANDLERS:
            out += _MODULE_HANDLERS[e.kind](self, st, e)
        if now > st.last_ns:
            st.last_ns = now
        return self.schema.points(out) if out else out

    def advance(self, now_ns: int) -> list[Point]:
        """Let time pass with no events (a quiet journal): release held requests, infer expiries."""
        out: list = []
        for host, st in self.hosts.items():
            out += self._load_points(st)
            out += self._advance(st, host, now_ns)
        return self.schema.points(out)

    def open_sessions(self, now_ns: int | None = None) -> list[Point]:
        """Upserts of the sessions still open (the service writes them periodically)."""
        return self.schema.points(self._open_sessions(now_ns))

    def _open_sessions(self, now_ns: int | None = None) -> list[rec.SessionUpdate]:
        out = []
        for st in self.hosts.values():
            for s in st.loaded:
                out.append(self._session_point(s, now_ns or st.last_ns))
        return out

    def finish(self) -> list[Point]:
        """End of input: release everything held, finalise inferred unloads, upsert open sessions."""
        out: list = []
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
            if st.loading is not None and st.loading.blob:  # design §6: a load still going on
                out.append(self._session_point(st.loading, st.last_ns))
        return self.schema.points(out + self._open_sessions())

    # -- time ------------------------------------------------------------------------------------
    def _advance(self, st: HostState, host: str, now: int) -> list[rec.Record]:
        out: list[rec.Record] = []
        if st.evictions:
            out += victims.resolve(self, st, now)
        if st.hidden and now > st.hidden_until_ns + INFERENCE_GRACE_NS:
            st.hidden = 0  # nothing can have used them for a keep-alive: they went
        if st.held and now >= st.held[0].release_ns:
            out += self._release(st, now)
        if st.oom is not None and now - st.oom.at_ns > HOLD_NS:  # no request finished: it went at the WARN
            oom, st.oom = st.oom, None
            if oom.session.end_ns is None:
                out += self._close(st, oom.session, oom.at_ns, "oom", "eviction_log")
        if st.held_warnings and now - st.held_warnings[0].ts_us * 1000 > 600 * S:
            w = st.held_warnings.pop(0)
            out.append(self._warning_point(st, w, None))
        # the weakest evidence: last activity + keep-alive, once nothing stronger can still come
        for s in list(st.loaded):
            if s.loaded_ns is None or s.keep_alive_ns < 0 or s.keep_alive_ns > 10**7 * S:
                continue
            # an ambiguous request may have been this runner's: it cannot have expired before that one
            deadline = max(s.last_activity_ns, s.maybe_activity_ns, s.loaded_ns) + s.keep_alive_ns
            if now > deadline + INFERENCE_GRACE_NS and not self._in_flight(st, s):
                out += self._close(st, s, deadline, "keep_alive_expired", "keep_alive_inference", inferred=True)
        for s in st.closed:
            if not s.unload_emitted and now > s.unload_due_ns:
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
               inferred: bool = False, guessed: bool = False) -> list[rec.Record]:
        pre = self._load_points(st) if st.unnamed is s else []
        if s in st.loaded:
            st.loaded.remove(s)
        if st.loading is s:
            st.loading = None
        s.end_ns = max(end_ns, s.loaded_ns or s.start_ns)
        s.reason, s.evidence, s.inferred, s.guessed = reason, evidence, inferred, guessed
        st.closed.append(s)
        if len(st.closed) > 32:
            old = st.closed.pop(0)
            if not old.unload_emitted:
                st.closed.insert(0, old)
        out = [*pre, self._session_point(s)]
        if inferred or guessed:  # written once no late request (or named victim) can undo it
            s.unload_emitted = False
            s.unload_due_ns = s.end_ns + (UNLOAD_EVENT_DELAY_NS if inferred else EVICTION_WINDOW_NS)
        else:
            s.unload_emitted = True
            out.append(self._unload_event(s))
        return out

    def _unload_event(self, s: Session) -> rec.UnloadMarked:
        s.unload_emitted = True
        return rec.UnloadMarked(host=s.host, model=self.model_label(s), at_ns=s.end_ns or s.start_ns,
                                reason=s.reason, evidence=s.evidence, requests=s.requests)

    def _revise(self, st: HostState, s: Session, end_ns: int, reason: str, evidence: str) -> list[rec.Record]:
        """Stronger evidence for a session already closed by inference."""
        if not s.inferred:
            return []
        s.end_ns, s.reason, s.evidence, s.inferred = max(end_ns, s.loaded_ns or s.start_ns), reason, evidence, False
        return [self._session_point(s), self._unload_event(s)]

    def _reopen(self, st: HostState, s: Session) -> None:
        st.closed.remove(s)
        s.end_ns = s.reason = s.evidence = None
        s.inferred, s.guessed, s.unload_emitted = False, False, True
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

    def _end_all(self, st: HostState, end_ns: int, reason: str, evidence: str) -> list[rec.Record]:
        out: list[rec.Record] = []
        st.evictions, st.hidden = [], 0  # the server instance's runners all go
        out += self._release(st, end_ns, force=True)
        for s in st.closed:  # inferred ends of this server instance can no longer be revised
            s.inferred = False
            if not s.unload_emitted:
                out.append(self._unload_event(s))
        for s in [*st.loaded, *([st.loading] if st.loading else [])]:
            out += self._close(st, s, end_ns, reason if s.loaded_ns else "load_interrupted", evidence)
        return out

    # -- loads (design §1) -----------------------------------------------------------------------------
    def _on_runner_start(self, st: HostState, e: ev.RunnerStart) -> list[rec.Record]:
        now = e.ts_us * 1000
        out: list[rec.Record] = []
        loading = st.loading
        if loading is not None and loading.from_decision and e.blob in (None, loading.blob):
            st.loading = None  # the line that named the blob came first: this is where the load starts
            e = e.model_copy(update={"blob": loading.blob}) if e.blob is None else e
        elif loading is not None and loading.blob == e.blob and e.blob and loading.loaded_ns is None:
            # A second start line for the same blob while it loads is the v0.30+ projector-offload retry.
            loading.ctx_size = e.ctx_size or loading.ctx_size
            return out
        elif loading is not None and loading.from_decision:
            st.loading = None  # named a blob that is not the one started: no load of it began
        elif loading is not None:  # a load that never finished
            loading.failed = True
            out += self._close(st, loading, now, "load_failed", "new_runner")
        for s in [s for s in st.loaded if e.blob and s.blob == e.blob]:
            out += self._close(st, s, now, "reloaded", "new_runner")
        # evictions announced (v0.11.7+ / v0.30+ INFO lines), one victim each, all gone before this start
        out += victims.resolve(self, st, now, force=True)
        # a VRAM-recovery timeout just before this load: that unload made room for it
        for s in st.closed:
            if s.evidence == "vram_timeout" and s.reason == "unloaded" and 0 <= now - (s.end_ns or 0) < EVICTION_WINDOW_NS:
                s.reason = "evicted"
                out += [self._session_point(s), self._unload_event(s)]
        # the server's model limit: a new runner while the limit is reached means one was evicted
        limit = st.max_loaded or 3 * max(1, len([g for g in st.gpus if g != "cpu"]))
        while len(st.loaded) >= limit:
            victim = victims.victim(st)
            if victim is None:
                break
            out += self._close(st, victim, now, "evicted", "max_loaded_models", guessed=True)
        # early C runners got --embedding for every model; only llama-server's flag means "embedding model"
        s = Session(host=e.host, blob=e.blob, start_ns=now, ctx_size=e.ctx_size, parallel=e.parallel,
                    gpu_layers=e.gpu_layers, embedding=e.embedding and e.variant == "llama-server",
                    last_activity_ns=now, keep_alive_ns=st.keep_alive_ns)
        s.mem["program"] = e.program
        st.loading = s
        return out

    def _on_runner_load_request(self, st: HostState, e: ev.RunnerLoadRequest) -> list[rec.Record]:
        s = st.loading
        if s is not None and e.operation == "commit":
            s.ctx_size = e.kv_size or s.ctx_size
            s.parallel = e.parallel or s.parallel
            s.gpu_layers = e.gpu_layers if e.gpu_layers is not None else s.gpu_layers
        return []

    def _on_offload(self, st: HostState, e: ev.Offload) -> list[rec.Record]:
        out: list[rec.Record] = []
        s = st.loading
        if s is not None:
            # VRAM arithmetic: just before this load Ollama said how much VRAM was free beside the
            # loaded models; the estimate now sees more free: the scheduler unloaded one to make room.
            seen = sum(e.memory_available_bytes)
            if (st.vram_available is not None and seen > st.vram_available + FREED_MIN_BYTES
                    and 0 <= s.start_ns - st.vram_update_ns < EVICTION_WINDOW_NS
                    and not any(c.end_ns and 0 <= s.start_ns - c.end_ns < EVICTION_WINDOW_NS for c in st.closed)):
                victim = victims.victim(st)
                if victim is not None:
                    out += self._close(st, victim, s.start_ns, "evicted", "vram_estimate", guessed=True)
            st.vram_available = None
            s.mem.update({
                "mem_required_bytes": e.required_full_bytes, "mem_partial_bytes": e.required_partial_bytes,
                "kv_bytes": e.required_kv_bytes, "weights_bytes": e.weights_total_bytes,
                "graph_bytes": e.graph_full_bytes, "layers_offloaded": e.layers_offload,
                "layers_total": e.layers_model, "library": e.library,
            })
        return out

    def _on_memory_part(self, st: HostState, e: ev.MemoryPart) -> list[rec.Record]:
        if st.loading is not None:
            key = {"weights": "weights_bytes", "kv_cache": "kv_bytes", "graph": "graph_bytes",
                   "total": "mem_required_bytes"}[e.part]
            if e.part == "total":
                st.loading.mem[key] = e.size_bytes
            else:
                st.loading.mem[key] = (st.loading.mem.get(key) or 0) + e.size_bytes
        return []

    def _on_load_finished(self, st: HostState, e: ev.LoadFinished) -> list[rec.Record]:
        now = e.ts_us * 1000
        out = victims.resolve(self, st, now, force=True)  # every victim went before the load could finish
        s = st.loading
        if s is None or s.from_decision:  # design §3: its start line is not in the input
            s = s or adoption.adopt_loading(st, e.host, now, None)
            s.adopted, s.from_decision = True, False
            if e.seconds is not None:
                s.start_ns = now - round(e.seconds * S)
        st.loading = None
        s.loaded_ns = now
        s.load_s = e.seconds if e.seconds is not None else round((now - s.start_ns) / S, 2)
        s.last_activity_ns = now
        st.loaded.append(s)
        if st.unnamed is not None:
            out += self._load_points(st)
        st.unnamed = s  # the next line may name it (template selection, DEBUG "finished setting up")
        return out

    def _load_points(self, st: HostState) -> list[rec.Record]:
        s, st.unnamed = st.unnamed, None
        if s is None:
            return []
        s.label = self.model_label(s)
        load = rec.LoadDone(host=s.host, start_ns=s.start_ns, model=s.label, series=self.series(s), load_s=s.load_s,
                            end_ns=s.loaded_ns or s.start_ns, blob=s.blob, ctx=s.per_request_ctx,
                            ctx_size=s.ctx_size, parallel=s.parallel, gpu_layers=s.gpu_layers, mem=dict(s.mem))
        return [load] if s.end_ns is not None else [load, self._session_point(s)]

    def _name_session(self, s: Session, name: str) -> list[rec.Record]:
        if s.name == name:
            return []
        s.name = name
        if s.blob:
            self.names.learn(s.blob, name)
        return []

    def _on_template_selection(self, st: HostState, e: ev.TemplateSelection) -> list[rec.Record]:
        # logged right after a successful load (v0.30.1+), before anything else loads
        if st.loaded:
            latest = max(st.loaded, key=lambda s: s.loaded_ns or 0)
            return self._name_session(st.unnamed or latest, e.model_name)
        adoption.adopt(self, st, e.host, e.ts_us * 1000, blob=self.names.blob_of(e.model_name), name=e.model_name)
        return []

    # -- requests (design §2) --------------------------------------------------------------------------
    def _infer(self, st: HostState, e: ev.GinRequest, endpoint: str) -> tuple[Session | None, str]:
        start, end = e.start_ns, e.end_ns
        if st.loading is not None and start <= st.loading.start_ns <= end:
            return st.loading, "triggered_load"  # it ended before the load finished (aborted/failed)
        live = [s for s in st.loaded if (s.loaded_ns or 0) <= end]
        # sessions closed by inference alone while this request was running: it kept them loaded
        live += [s for s in st.closed if s.inferred and (s.end_ns or 0) > start]
        # an adopted runner's bar begins at its first evidence, not at a load: it triggered nothing
        triggered = [s for s in live if start <= s.start_ns <= end and not (s.adopted and s.load_s is None)]
        if len(triggered) == 1:
            return triggered[0], "triggered_load"
        # a load it triggered that failed or was aborted (and was not retried) before it ended
        failed = [s for s in st.closed if s.failed and start <= s.start_ns <= end]
        if failed and not triggered:
            return failed[-1], "triggered_load"
        if st.hidden:  # design §3: runners the input does not name are loaded too
            for s in live:
                s.maybe_activity_ns = max(s.maybe_activity_ns, end)
            return None, "ambiguous" if live else "unknown" if e.status < 400 else "none_loaded"
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
        if not live:  # a model served it: one the input does not name (design §3), unless it failed
            return None, "unknown" if e.status < 400 else "none_loaded"
        for s in kind or live:
            s.maybe_activity_ns = max(s.maybe_activity_ns, end)
            self._note_activity(s, end)
        return None, "ambiguous"

    def _on_gin_request(self, st: HostState, e: ev.GinRequest) -> list[rec.Record]:
        endpoint = endpoint_of(e.path)
        if endpoint not in MODEL_ENDPOINTS or e.method != "POST":  # CORS preflights, probes
            return [self._request_point(e, endpoint, None, "")]
        if e.status >= 400 and e.latency_ns < S:  # refused before any model was involved (400, 404, …)
            return [self._request_point(e, endpoint, None, "not_served")]
        out: list[rec.Record] = []
        if st.oom is not None and e.start_ns <= st.oom.at_ns <= e.end_ns:
            # the request that hit the runtime OOM has finished: the model it expired goes now
            victim, st.oom = st.oom.session, None
            if victim.end_ns is None:
                out += self._close(st, victim, e.end_ns, "oom", "eviction_log")
        s, how = self._infer(st, e, endpoint)
        if s is not None:
            s.last_activity_ns = max(s.last_activity_ns, e.end_ns)
            self._note_activity(s, e.end_ns)
        else:
            adoption.hidden_used(st, e.end_ns)
        if st.debug_seen or st.ps_seen or how in ("ambiguous", "capability", "unknown"):
            hold = PS_HOLD_NS if st.ps_seen else HOLD_NS
            st.held.append(Held(e, endpoint, s, how, e.end_ns + hold))
            return out
        return out + self._attribute(st, e, endpoint, s, how)

    def _attribute(self, st: HostState, e: ev.GinRequest, endpoint: str, s: Session | None,
                   how: str) -> list[rec.Record]:
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

    def _request_point(self, e: ev.GinRequest, endpoint: str, s: Session | None, how: str) -> rec.RequestAnswered:
        return rec.RequestAnswered(e, endpoint, self.model_label(s), self.series(s), how)

    def _release(self, st: HostState, now: int, force: bool = False) -> list[rec.Record]:
        out: list[rec.Record] = []
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
            adoption.claimed(s, best)
            s.last_activity_ns = max(s.last_activity_ns, best.req.end_ns)

    # -- DEBUG lines (design §3, §4, §5) ---------------------------------------------------------------
    def _on_debug_runner(self, st: HostState, e: ev.DebugRunner) -> list[rec.Record]:
        st.debug_seen = True
        now = e.ts_us * 1000
        s = self._find(st, e.blob, e.runner_name, e.runner_pid, include_closed=e.step in ("stopping", "unloaded"))
        if s is None and e.step == "stopping" and not (e.blob or e.runner_name or e.runner_pid):
            # older versions log "stopping llama server" with no keys: the runner whose unload began
            pending = [x for x in st.loaded if x.start_ns in st.pending_reason]
            s = pending[0] if len(pending) == 1 else None
        if s is None and e.step == "ready" and st.unnamed is not None and st.unnamed.blob in (None, e.blob):
            s = st.unnamed  # the load that just finished, whose start line was not in the input
            s.blob = s.blob or e.blob
        if s is None and (e.blob or e.runner_name):  # design §3
            s = adoption.adopt(self, st, e.host, now, blob=e.blob, name=e.runner_name, pid=e.runner_pid,
                               num_ctx=e.num_ctx, parallel=e.parallel)
        if s is None:
            return []
        if e.runner_name and not s.name:
            self._name_session(s, e.runner_name)
        if e.runner_pid and (e.blob or e.runner_name):
            s.runner_pid = e.runner_pid
        if e.duration_ns is not None:  # "gone idle, adding timer … duration=": the runner's keep-alive
            s.keep_alive_ns = e.duration_ns
        if e.step == "request_start":
            s.inflight += 1
        elif e.step == "request_end":
            s.inflight = max(0, s.inflight - 1)
            self._mark(st, s, now, now - S, now + S // 2, "debug_log")
        elif e.step in ("expired", "expire_now", "evict", "shutdown", "reload"):
            if e.step == "expire_now":
                s.keep_alive_ns = 0
            elif e.step == "evict":
                victims.named(st, s)  # this eviction's victim is named: no guess for it
            reason = {"expired": "keep_alive_expired", "expire_now": "keep_alive_zero", "evict": "evicted",
                      "shutdown": "server_stop", "reload": "reloaded"}[e.step]
            # the unload begins at the first of these lines; "timer expired" comes before "runner expired
            # event received": keep the more specific reason, and the first time
            first = st.pending_reason.get(s.start_ns)
            if first is None or e.step != "expired":
                st.pending_reason[s.start_ns] = PendingUnload(reason, first.began_ns if first else now)
        elif e.step in ("stopping", "unloaded"):
            pending = st.pending_reason.pop(s.start_ns, None)
            reason, began = (pending.reason, pending.began_ns) if pending else (s.reason or "unloaded", now)
            if s.end_ns is None:
                return self._close(st, s, began, reason, "debug_log")
            if s.inferred:
                return self._revise(st, s, began, reason, "debug_log")
        return []

    # -- /api/ps (design §3, §4) -------------------------------------------------------------------------
    def _on_api_ps(self, st: HostState, e: ev.ApiPs) -> list[rec.Record]:
        now = e.ts_us * 1000
        out: list[rec.Record] = []
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
                exp = prev * 1000 if prev else None
                if exp is not None and st.ps_prev_ns < exp <= now:
                    out += self._close(st, s, exp, "keep_alive_expired", "api_ps")
                else:
                    out += self._close(st, s, now, "unloaded", "api_ps")
        for name in current:  # design §3: a loaded model the input has not shown, or believed expired
            blob = self.names.blob_of(name)
            s = self._find(st, name=name, include_closed=True) or self._find(st, blob=blob, include_closed=True)
            if s is not None and (s.inferred or s.guessed) and s in st.closed:
                self._reopen(st, s)
                s.maybe_activity_ns = max(s.maybe_activity_ns, now)
                out.append(self._session_point(s))
            elif s is None or s.end_ns is not None:
                adoption.adopt(self, st, e.host, now, blob=blob, name=name)
        for name, m in current.items():
            prev = st.ps_prev.get(name)
            if prev and m.expires_at_us and m.expires_at_us > prev:
                s = self._find(st, name=name)
                self._mark(st, s, now, st.ps_prev_ns, now, "api_ps")
        st.ps_prev, st.ps_prev_ns = {name: m.expires_at_us for name, m in current.items()}, now
        return out

    # -- unload and eviction evidence (design §4, §5) -----------------------------------------------------
    def _on_vram_timeout(self, st: HostState, e: ev.VramTimeout) -> list[rec.Record]:
        now = e.ts_us * 1000
        began = now - int(e.seconds * S)
        s = self._find(st, e.blob, short_model_name(e.runner_name) if e.runner_name else None,
                       include_closed=True)
        out: list[rec.Record] = []
        fixed = victims.correct(self, st, s, began) if s is not None else None
        if fixed is not None:  # it names an eviction's victim (design §5)
            out += fixed
        elif s is not None:
            last = [*s.activity, s.last_activity_ns, s.loaded_ns or 0]
            expired = any(abs(began - (t + s.keep_alive_ns)) < 10 * S for t in last if t)
            reason = "keep_alive_expired" if expired else "unloaded"
            if s.end_ns is None:
                out += self._close(st, s, began, reason, "vram_timeout")
            elif s.inferred:
                out += self._revise(st, s, began, reason, "vram_timeout")
        out.append(rec.VramTimedOut(e.host, now, self.model_label(s), e.seconds, e.blob))
        return out

    def _on_eviction(self, st: HostState, e: ev.Eviction) -> list[rec.Record]:
        now = e.ts_us * 1000
        out: list[rec.Record] = []
        if e.what == "load_failed_retry" and st.loading is not None:
            st.loading.failed = True
            out += self._close(st, st.loading, now, "load_failed", "load_error")
        if e.what in ("evict_all_oom_retry", "load_failed_retry"):
            for s in list(st.loaded):
                out += self._close(st, s, now, "evicted", "eviction_log")
        else:  # one victim per line, named by DEBUG or taken in the scheduler's order (design §5)
            victims.announce(st, now, "eviction_log")
        out.append(rec.EvictionLogged(e.host, now, e.what, e.message, e.count))
        return out

    def _on_warning(self, st: HostState, e: ev.Warning_) -> list[rec.Record]:
        now = e.ts_us * 1000
        out: list[rec.Record] = []
        s = self._find(st, e.blob, e.runner_name) if (e.blob or e.runner_name) else None
        if e.what in ("load_failed", "client_aborted", "model_too_large") and st.loading is not None:
            s = st.loading
            s.failed = True
            out += self._close(st, s, now, "load_failed" if e.what != "client_aborted" else "load_aborted",
                               "load_error")
        elif e.what == "runtime_oom":
            if s is not None:  # it unloads once the request that hit the OOM has finished
                st.oom = OomHint(s, now)
            else:
                for victim in list(st.loaded):
                    out += self._close(st, victim, now, "oom", "eviction_log")
        elif e.what == "runner_terminated" and st.loading is not None and s is None:
            s = st.loading  # the runner being loaded died
            s.failed = True
            out += self._close(st, s, now, "load_failed", "load_error")
        elif s is None and len(st.loaded) == 1:
            s = st.loaded[0]
        out.append(rec.Warned(e.host, now, e.what, self.model_label(s), e.message, e.error, e.level))
        return out

    def _on_prompt_truncated(self, st: HostState, e: ev.PromptTruncated) -> list[rec.Record]:
        if len(st.loaded) == 1:
            return [self._warning_point(st, e, st.loaded[0])]
        st.held_warnings.append(e)  # it belongs to the request it happened in: wait for that [GIN]
        return []

    def _warning_point(self, st: HostState, e: ev.PromptTruncated, s: Session | None) -> rec.PromptTruncated:
        return rec.PromptTruncated(e.host, e.ts_us * 1000, self.model_label(s), e.limit, e.prompt, e.keep, e.new)

    # -- server and service --------------------------------------------------------------------------------
    def _restarted(self, st: HostState, now: int) -> list[rec.Record]:
        """The service started again soon after a stop: those sessions ended in a restart."""
        out: list[rec.Record] = []
        if st.stopped and now - st.stopped_ns < 60 * S:
            for s in st.stopped:
                s.reason = "server_restart"
                out += [self._session_point(s), self._unload_event(s)]
        st.stopped = []
        return out

    def _on_server_listening(self, st: HostState, e: ev.ServerListening) -> list[rec.Record]:
        now = e.ts_us * 1000
        out = self._restarted(st, now)
        out += self._end_all(st, st.stop_ns or now, "server_restart",
                             "systemd" if st.stop_ns is not None else "server_start")
        st.stop_ns = None
        st.version = e.version
        st.gpus = {}
        st.ps_prev = {}
        out.append(rec.ServerStarted(e.host, now, e.address, e.version))
        return out

    def _on_server_config(self, st: HostState, e: ev.ServerConfig) -> list[rec.Record]:
        if e.keep_alive_ns is not None:
            st.keep_alive_ns = e.keep_alive_ns
        if e.max_loaded_models is not None:
            st.max_loaded = e.max_loaded_models
        return [rec.ServerConfigured(e.host, e.ts_us * 1000, e.keep_alive_ns, e.num_parallel, e.max_loaded_models,
                                     e.models_dir, e.debug)]

    def _on_systemd_unit(self, st: HostState, e: ev.SystemdUnit) -> list[rec.Record]:
        now = e.ts_us * 1000
        out: list[rec.Record] = []
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
        out.append(rec.ServiceChanged(e.host, now, e.action, e.message))
        return out

    # -- memory ---------------------------------------------------------------------------------------------
    def _on_vram_update(self, st: HostState, e: ev.VramUpdate) -> list[rec.Record]:
        now = e.ts_us * 1000
        if e.source_msg.startswith("updated") and e.available_bytes is not None:
            if now - st.vram_update_ns > S or st.vram_available is None:
                st.vram_available = 0
            st.vram_available = (st.vram_available or 0) + e.available_bytes  # summed over GPUs
            st.vram_update_ns = now
        return [rec.VramReading(e.host, now, e.gpu, "updated_vram" if e.source_msg.startswith("updated")
                                else "gpu_memory", e.total_bytes, e.available_bytes, library=e.library)]

    def _on_inference_compute(self, st: HostState, e: ev.InferenceCompute) -> list[rec.Record]:
        if e.gpu and e.total_bytes is not None and (e.library or "").lower() != "cpu":
            st.gpus[e.gpu] = e.total_bytes
        return [rec.VramReading(e.host, e.ts_us * 1000, e.gpu, "inference_compute", e.total_bytes,
                                e.available_bytes, library=e.library, name=e.description or e.name)]

    def _on_system_memory(self, st: HostState, e: ev.SystemMemory) -> list[rec.Record]:
        return [rec.VramReading(e.host, e.ts_us * 1000, "system", "system_memory", e.total_bytes, e.free_bytes,
                                free_swap_bytes=e.free_swap_bytes)]
