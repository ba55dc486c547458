"""v0.0.19–v0.1.31: one runner at a time, whose own lines say when it goes (docs/design.md §4)."""

from __future__ import annotations

from .. import events as ev
from .sessions import close
from .state import HostState
from .timing import S


def model_change(st: HostState, e: ev.ModelChange, out: list) -> None:
    """``changing loaded model``: the loaded runner is closed for the next model (an eviction, logged)."""
    now = e.ts_us * 1000
    st.changed_ns = now
    for s in list(st.loaded):
        close(st, s, now, "evicted", "eviction_log", out)


def runner_stopped(st: HostState, e: ev.RunnerStopped, out: list) -> None:
    """``llama runner stopped …`` (v0.1.10–v0.1.17, Close) / ``… exited …`` (v0.0.19–v0.1.9, the process
    ended): while loading, the load failed; else the loaded runner went, at its keep-alive or for a reason
    the line does not give."""
    now = e.ts_us * 1000
    if st.loading is not None:
        if e.error == "signal: killed" and now - st.changed_ns < 2 * S:
            return  # the runner "changing loaded model" closed exits as the next one starts
        st.loading.failed = True
        close(st, st.loading, now, "load_failed", "load_error", out)
        return
    for s in list(st.loaded):
        expired = any(abs(now - (t + s.keep_alive_ns)) < 10 * S for t in [*s.activity, s.last_activity_ns] if t)
        close(st, s, now, "keep_alive_expired" if expired else "unloaded", "stop_log", out)
