"""Lines and polls that say a runner ended, or is still there: DEBUG scheduler lines, /api/ps, the VRAM-recovery
timeout, eviction lines and load-path warnings (docs/design.md §3, §4, §5).

Handlers take ``(host state, event, out)`` and append the records they conclude to ``out``.
"""

from __future__ import annotations

from .. import events as ev
from ..parse.common import short_model_name
from . import adoption, victims
from .attribution import mark
from .naming import model_label, name_session, session_update
from .records import EvictionLogged, VramTimedOut, Warned
from .sessions import close, find, reopen, revise
from .state import HostState, OomHint, PendingUnload
from .timing import S

_UNLOAD_REASON = {"expired": "keep_alive_expired", "expire_now": "keep_alive_zero", "evict": "evicted",
                  "shutdown": "server_stop", "reload": "reloaded"}


def debug_runner(st: HostState, e: ev.DebugRunner, out: list) -> None:
    st.debug_seen = True
    now = e.ts_us * 1000
    s = find(st, e.blob, e.runner_name, e.runner_pid, include_closed=e.step in ("stopping", "unloaded"))
    if s is None and e.step == "stopping" and not (e.blob or e.runner_name or e.runner_pid):
        # older versions log "stopping llama server" with no keys: the runner whose unload began
        pending = [x for x in st.loaded if x.start_ns in st.pending_reason]
        s = pending[0] if len(pending) == 1 else None
    if s is None and e.step == "ready" and st.unnamed is not None and st.unnamed.blob in (None, e.blob):
        s = st.unnamed  # the load that just finished, whose start line was not in the input
        s.blob = s.blob or e.blob
    if s is None and (e.blob or e.runner_name):  # design §3
        s = adoption.adopt(st, e.host, now, blob=e.blob, name=e.runner_name, pid=e.runner_pid,
                           num_ctx=e.num_ctx, parallel=e.parallel)
    if s is None:
        return
    if e.runner_name and not s.name:
        name_session(st, s, e.runner_name)
    if e.runner_pid and (e.blob or e.runner_name):
        s.runner_pid = e.runner_pid
    if e.duration_ns is not None:  # "gone idle, adding timer … duration=": the runner's keep-alive
        s.keep_alive_ns = e.duration_ns
    if e.step == "request_start":
        s.inflight += 1
    elif e.step == "request_end":
        s.inflight = max(0, s.inflight - 1)
        mark(st, s, now, now - S, now + S // 2, "debug_log")
    elif e.step in _UNLOAD_REASON:
        if e.step == "expire_now":
            s.keep_alive_ns = 0
        elif e.step == "evict":
            victims.named(st, s)  # this eviction's victim is named: no guess for it
        # the unload begins at the first of these lines; "timer expired" comes before "runner expired
        # event received": keep the more specific reason, and the first time
        first = st.pending_reason.get(s.start_ns)
        if first is None or e.step != "expired":
            st.pending_reason[s.start_ns] = PendingUnload(_UNLOAD_REASON[e.step], first.began_ns if first else now)
    elif e.step in ("stopping", "unloaded"):
        pending = st.pending_reason.pop(s.start_ns, None)
        reason, began = (pending.reason, pending.began_ns) if pending else (s.reason or "unloaded", now)
        if s.end_ns is None:
            close(st, s, began, reason, "debug_log", out)
        else:
            revise(st, s, began, reason, "debug_log", out)


def api_ps(st: HostState, e: ev.ApiPs, out: list) -> None:
    now = e.ts_us * 1000
    st.ps_seen = True
    current = {m.name: m for m in e.models}
    for s in list(st.loaded):
        names = {model_label(st.names, s), *st.names.all_names(s.blob)}
        if s.name:
            names.add(s.name)
        if not names & set(current) and st.ps_prev_ns and s.loaded_ns and s.loaded_ns < st.ps_prev_ns:
            # gone since the last poll: it expired at its expires_at if that fell in between
            prev = next((st.ps_prev[n] for n in names if n in st.ps_prev), None)
            exp = prev * 1000 if prev else None
            if exp is not None and st.ps_prev_ns < exp <= now:
                close(st, s, exp, "keep_alive_expired", "api_ps", out)
            else:
                close(st, s, now, "unloaded", "api_ps", out)
    for name in current:  # design §3: a loaded model the input has not shown, or believed expired
        blob = st.names.blob_of(name)
        s = find(st, name=name, include_closed=True) or find(st, blob=blob, include_closed=True)
        if s is not None and (s.inferred or s.guessed) and s in st.closed:
            reopen(st, s)
            s.maybe_activity_ns = max(s.maybe_activity_ns, now)
            out.append(session_update(st, s))
        elif s is None or s.end_ns is not None:
            adoption.adopt(st, e.host, now, blob=blob, name=name)
    for name, m in current.items():
        prev = st.ps_prev.get(name)
        if prev and m.expires_at_us and m.expires_at_us > prev:  # it just finished a request
            mark(st, find(st, name=name), now, st.ps_prev_ns, now, "api_ps")
    st.ps_prev, st.ps_prev_ns = {name: m.expires_at_us for name, m in current.items()}, now


def vram_timeout(st: HostState, e: ev.VramTimeout, out: list) -> None:
    now = e.ts_us * 1000
    began = now - int(e.seconds * S)
    s = find(st, e.blob, short_model_name(e.runner_name) if e.runner_name else None, include_closed=True)
    if s is not None and not victims.correct(st, s, began, out):  # it names an eviction's victim (design §5)
        last = [*s.activity, s.last_activity_ns, s.loaded_ns or 0]
        expired = any(abs(began - (t + s.keep_alive_ns)) < 10 * S for t in last if t)
        reason = "keep_alive_expired" if expired else "unloaded"
        if s.end_ns is None:
            close(st, s, began, reason, "vram_timeout", out)
        else:
            revise(st, s, began, reason, "vram_timeout", out)
    out.append(VramTimedOut(e.host, now, model_label(st.names, s), e.seconds, e.blob))


def eviction(st: HostState, e: ev.Eviction, out: list) -> None:
    now = e.ts_us * 1000
    if e.what == "load_failed_retry" and st.loading is not None:
        st.loading.failed = True
        close(st, st.loading, now, "load_failed", "load_error", out)
    if e.what in ("evict_all_oom_retry", "load_failed_retry"):
        for s in list(st.loaded):
            close(st, s, now, "evicted", "eviction_log", out)
    else:  # one victim per line, named by DEBUG or taken in the scheduler's order (design §5)
        victims.announce(st, now, "eviction_log")
    out.append(EvictionLogged(e.host, now, e.what, e.message, e.count))


def warning(st: HostState, e: ev.Warning_, out: list) -> None:
    now = e.ts_us * 1000
    s = find(st, e.blob, e.runner_name) if (e.blob or e.runner_name) else None
    if e.what in ("load_failed", "client_aborted", "model_too_large") and st.loading is not None:
        s = st.loading
        s.failed = True
        close(st, s, now, "load_failed" if e.what != "client_aborted" else "load_aborted", "load_error", out)
    elif e.what == "runtime_oom":
        if s is not None:  # it unloads once the request that hit the OOM has finished
            st.oom = OomHint(s, now)
        else:
            for victim in list(st.loaded):
                close(st, victim, now, "oom", "eviction_log", out)
    elif e.what == "runner_terminated" and st.loading is not None and s is None:
        s = st.loading  # the runner being loaded died
        s.failed = True
        close(st, s, now, "load_failed", "load_error", out)
    elif s is None and len(st.loaded) == 1:
        s = st.loaded[0]
    out.append(Warned(e.host, now, e.what, model_label(st.names, s), e.message, e.error, e.level))
