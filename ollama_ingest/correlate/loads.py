"""Loads: from the runner start line to ``… started in X seconds``, and what the start of one ends (design §1).

Handlers take ``(host state, event, out)`` and append the records they conclude to ``out``.
"""

from __future__ import annotations

from .. import events as ev
from . import adoption, victims
from .naming import session_update, unload_marked, write_unnamed
from .sessions import close
from .state import HostState, Session
from .timing import EVICTION_WINDOW_NS, S

FREED_MIN_BYTES = 512 << 20  # less than this between two VRAM readings is noise, not an unload


def runner_start(st: HostState, e: ev.RunnerStart, out: list) -> None:
    now = e.ts_us * 1000
    loading = st.loading
    if loading is not None and loading.from_decision and e.blob in (None, loading.blob):
        st.loading = None  # the line that named the blob came first: this is where the load starts
        e = e.model_copy(update={"blob": loading.blob}) if e.blob is None else e
    elif loading is not None and loading.blob == e.blob and e.blob and loading.loaded_ns is None:
        # A second start line for the same blob while it loads is the v0.30+ projector-offload retry.
        loading.ctx_size = e.ctx_size or loading.ctx_size
        return
    elif loading is not None and loading.from_decision:
        st.loading = None  # named a blob that is not the one started: no load of it began
    elif loading is not None:  # a load that never finished
        loading.failed = True
        close(st, loading, now, "load_failed", "new_runner", out)
    for s in [s for s in st.loaded if e.blob and s.blob == e.blob]:
        close(st, s, now, "reloaded", "new_runner", out)
    # evictions announced (v0.11.7+ / v0.30+ INFO lines), one victim each, all gone before this start
    victims.resolve(st, now, out, force=True)
    # a VRAM-recovery timeout just before this load: that unload made room for it
    for s in st.closed:
        if s.evidence == "vram_timeout" and s.reason == "unloaded" and 0 <= now - (s.end_ns or 0) < EVICTION_WINDOW_NS:
            s.reason = "evicted"
            out.append(session_update(st, s))
            out.append(unload_marked(st, s))
    # the server's model limit: a new runner while the limit is reached means one was evicted
    limit = st.max_loaded or 3 * max(1, len([g for g in st.gpus if g != "cpu"]))
    while len(st.loaded) >= limit:
        victim = victims.victim(st)
        if victim is None:
            break
        close(st, victim, now, "evicted", "max_loaded_models", out, guessed=True)
    # early C runners got --embedding for every model; only llama-server's flag means "embedding model"
    s = Session(host=e.host, blob=e.blob, start_ns=now, ctx_size=e.ctx_size, parallel=e.parallel,
                gpu_layers=e.gpu_layers, embedding=e.embedding and e.variant == "llama-server",
                last_activity_ns=now, keep_alive_ns=st.keep_alive_ns)
    s.mem["program"] = e.program
    st.loading = s


def runner_load_request(st: HostState, e: ev.RunnerLoadRequest, out: list) -> None:
    s = st.loading
    if s is not None and e.operation == "commit":
        s.ctx_size = e.kv_size or s.ctx_size
        s.parallel = e.parallel or s.parallel
        s.gpu_layers = e.gpu_layers if e.gpu_layers is not None else s.gpu_layers


def offload(st: HostState, e: ev.Offload, out: list) -> None:
    s = st.loading
    if s is None:
        return
    # VRAM arithmetic (design §4): just before this load Ollama said how much VRAM was free beside the
    # loaded models; the estimate now sees more free: the scheduler unloaded one to make room.
    seen = sum(e.memory_available_bytes)
    if (st.vram_available is not None and seen > st.vram_available + FREED_MIN_BYTES
            and 0 <= s.start_ns - st.vram_update_ns < EVICTION_WINDOW_NS
            and not any(c.end_ns and 0 <= s.start_ns - c.end_ns < EVICTION_WINDOW_NS for c in st.closed)):
        victim = victims.victim(st)
        if victim is not None:
            close(st, victim, s.start_ns, "evicted", "vram_estimate", out, guessed=True)
    st.vram_available = None
    s.mem.update({
        "mem_required_bytes": e.required_full_bytes, "mem_partial_bytes": e.required_partial_bytes,
        "kv_bytes": e.required_kv_bytes, "weights_bytes": e.weights_total_bytes,
        "graph_bytes": e.graph_full_bytes, "layers_offloaded": e.layers_offload,
        "layers_total": e.layers_model, "library": e.library,
    })


_MEMORY_PART_FIELD = {"weights": "weights_bytes", "kv_cache": "kv_bytes", "graph": "graph_bytes",
                      "total": "mem_required_bytes"}


def memory_part(st: HostState, e: ev.MemoryPart, out: list) -> None:
    if st.loading is not None:
        key = _MEMORY_PART_FIELD[e.part]
        if e.part == "total":
            st.loading.mem[key] = e.size_bytes
        else:
            st.loading.mem[key] = (st.loading.mem.get(key) or 0) + e.size_bytes


def load_finished(st: HostState, e: ev.LoadFinished, out: list) -> None:
    now = e.ts_us * 1000
    victims.resolve(st, now, out, force=True)  # every victim went before the load could finish
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
        write_unnamed(st, out)
    st.unnamed = s  # the next line may name it (template selection, DEBUG "finished setting up")
