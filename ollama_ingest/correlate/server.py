"""The server instance: its start, configuration, stop, crash and restart (which end every runner it had), and
the memory it reports (docs/design.md §4).

Handlers take ``(host state, event, out)`` and append the records they conclude to ``out``.
"""

from __future__ import annotations

from .. import events as ev
from .attribution import release
from .naming import session_update, unload_marked
from .records import ServerConfigured, ServerStarted, ServiceChanged, VramReading
from .sessions import close
from .state import HostState
from .timing import S

RESTART_WITHIN_NS = 60 * S  # a start this soon after a stop makes the stop a restart
PROMPT_STOP_NS = 10 * S  # a stop that ended this soon after "stopping": the runners went at SIGTERM


def end_all(st: HostState, end_ns: int, reason: str, evidence: str, out: list) -> None:
    """The server instance ended: every runner it had goes with it."""
    st.evictions, st.hidden = [], 0
    release(st, end_ns, out, force=True)
    for s in st.closed:  # inferred ends of this server instance can no longer be revised
        s.inferred = False
        if not s.unload_emitted:
            out.append(unload_marked(st, s))
    for s in [*st.loaded, *([st.loading] if st.loading else [])]:
        close(st, s, end_ns, reason if s.loaded_ns else "load_interrupted", evidence, out)


def restarted(st: HostState, now: int, out: list) -> None:
    """The service started again soon after a stop: those sessions ended in a restart."""
    if st.stopped and now - st.stopped_ns < RESTART_WITHIN_NS:
        for s in st.stopped:
            s.reason = "server_restart"
            out.append(session_update(st, s))
            out.append(unload_marked(st, s))
    st.stopped = []


def server_listening(st: HostState, e: ev.ServerListening, out: list) -> None:
    now = e.ts_us * 1000
    restarted(st, now, out)
    end_all(st, st.stop_ns or now, "server_restart", "systemd" if st.stop_ns is not None else "server_start", out)
    st.stop_ns = None
    st.version = e.version
    st.gpus = {}
    st.ps_prev = {}
    out.append(ServerStarted(e.host, now, e.address, e.version))


def server_config(st: HostState, e: ev.ServerConfig, out: list) -> None:
    if e.keep_alive_ns is not None:
        st.keep_alive_ns = e.keep_alive_ns
    if e.max_loaded_models is not None:
        st.max_loaded = e.max_loaded_models
    out.append(ServerConfigured(e.host, e.ts_us * 1000, e.keep_alive_ns, e.num_parallel, e.max_loaded_models,
                                e.models_dir, e.debug))


def systemd_unit(st: HostState, e: ev.SystemdUnit, out: list) -> None:
    now = e.ts_us * 1000
    # Ollama unloads its runners on SIGTERM and exits; a stop that times out ends in SIGKILL. Either
    # way the models are gone when the main process is: the first "exited/deactivated/stopped".
    if e.action == "stopping":
        st.stop_ns = st.stop_ns or now
    if e.action in ("stopped", "failed", "deactivated", "exited"):
        crashed = e.action in ("exited", "failed") and st.stop_ns is None
        # a prompt stop: the SIGTERM handler unloaded the runners at once; a stop that hung
        # until systemd's SIGKILL: they went with the process
        prompt = st.stop_ns is not None and now - st.stop_ns < PROMPT_STOP_NS
        ending = [*st.loaded, *([st.loading] if st.loading else [])]
        end_all(st, st.stop_ns if prompt else now, "server_crash" if crashed else "server_stop", "systemd", out)
        if ending:
            st.stopped = [x for x in ending if x.reason == "server_stop"]
            st.stopped_ns = now
    if e.action in ("started", "starting"):
        st.stop_ns = None
        restarted(st, now, out)
    out.append(ServiceChanged(e.host, now, e.action, e.message))


# -- memory ------------------------------------------------------------------------------------------------
def vram_update(st: HostState, e: ev.VramUpdate, out: list) -> None:
    now = e.ts_us * 1000
    updated = e.source_msg.startswith("updated")
    if updated and e.available_bytes is not None:  # the free VRAM beside the loaded models (design §4)
        if now - st.vram_update_ns > S or st.vram_available is None:
            st.vram_available = 0
        st.vram_available = (st.vram_available or 0) + e.available_bytes  # summed over GPUs
        st.vram_update_ns = now
    out.append(VramReading(e.host, now, e.gpu, "updated_vram" if updated else "gpu_memory", e.total_bytes,
                           e.available_bytes, library=e.library))


def inference_compute(st: HostState, e: ev.InferenceCompute, out: list) -> None:
    if e.gpu and e.total_bytes is not None and (e.library or "").lower() != "cpu":
        st.gpus[e.gpu] = e.total_bytes
    out.append(VramReading(e.host, e.ts_us * 1000, e.gpu, "inference_compute", e.total_bytes, e.available_bytes,
                           library=e.library, name=e.description or e.name))


def system_memory(st: HostState, e: ev.SystemMemory, out: list) -> None:
    out.append(VramReading(e.host, e.ts_us * 1000, "system", "system_memory", e.total_bytes, e.free_bytes,
                           free_swap_bytes=e.free_swap_bytes))
