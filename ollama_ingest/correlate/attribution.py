"""Which runner served a request (docs/design.md §2), decided at its ``[GIN]`` line and, when DEBUG lines or
/api/ps may still name the runner, a few seconds later (the request is held meanwhile).

Handlers take ``(host state, event, out)`` and append the records they conclude to ``out``.
"""

from __future__ import annotations

from .. import events as ev
from . import adoption
from .endpoints import EMBED_ENDPOINTS, MODEL_ENDPOINTS, endpoint_of
from .naming import is_embedding, model_label, series, session_update, unload_marked
from .records import PromptTruncated, RequestAnswered
from .sessions import close, note_activity, reopen
from .state import Held, HostState, Session
from .timing import HOLD_NS, PS_HOLD_NS, WARNING_HOLD_NS, S

# an attribution that evidence may still overturn: held until the DEBUG line or the poll that could
_UNSURE = frozenset({"ambiguous", "capability", "unknown"})
_BY_EVIDENCE = frozenset({"debug_log", "api_ps"})


def infer(st: HostState, e: ev.GinRequest, endpoint: str) -> tuple[Session | None, str]:
    """The runner that served ``e`` and how we know, from the sessions alone (design §2 steps 1–4)."""
    names = st.names
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
    if len(live) == 1 and (is_embedding(names, live[0]) == want or e.status >= 300):
        return live[0], "only_loaded"
    kind = [s for s in live if is_embedding(names, s) == want]
    if len(kind) == 1:
        return kind[0], "capability"
    if not kind and (e.status < 300 or e.latency_ns > S):
        # It reached a model (served, or failed only after a while) and no runner was started for
        # it: a model we believed expired was still loaded (its keep-alive was longer than the
        # server default). The most recent such one of the right kind it is.
        revivable = [s for s in reversed(st.closed) if s.inferred and is_embedding(names, s) == want
                     and not any(o.blob == s.blob and o.start_ns > s.start_ns for o in [*st.loaded, *st.closed])]
        if revivable:
            return revivable[0], "only_loaded" if len(revivable) == 1 else "capability"
    if not live:  # a model served it: one the input does not name (design §3), unless it failed
        return None, "unknown" if e.status < 400 else "none_loaded"
    for s in kind or live:
        s.maybe_activity_ns = max(s.maybe_activity_ns, end)
        note_activity(s, end)
    return None, "ambiguous"


def gin_request(st: HostState, e: ev.GinRequest, out: list) -> None:
    endpoint = endpoint_of(e.path)
    if endpoint not in MODEL_ENDPOINTS or e.method != "POST":  # CORS preflights, probes
        out.append(RequestAnswered(e, endpoint, "", "", ""))
        return
    if e.status >= 400 and e.latency_ns < S:  # refused before any model was involved (400, 404, …)
        out.append(RequestAnswered(e, endpoint, "", "", "not_served"))
        return
    if st.oom is not None and e.start_ns <= st.oom.at_ns <= e.end_ns:
        # the request that hit the runtime OOM has finished: the model it expired goes now
        victim, st.oom = st.oom.session, None
        if victim.end_ns is None:
            close(st, victim, e.end_ns, "oom", "eviction_log", out)
    s, how = infer(st, e, endpoint)
    if s is not None:
        s.last_activity_ns = max(s.last_activity_ns, e.end_ns)
        note_activity(s, e.end_ns)
    else:
        adoption.hidden_used(st, e.end_ns)
    if st.debug_seen or st.ps_seen or how in _UNSURE:
        hold = PS_HOLD_NS if st.ps_seen else HOLD_NS
        st.held.append(Held(e, endpoint, s, how, e.end_ns + hold))
        return
    attribute(st, e, endpoint, s, how, out)


def attribute(st: HostState, e: ev.GinRequest, endpoint: str, s: Session | None, how: str, out: list) -> None:
    """The request is decided: counted to its session, written, and the warnings that happened in it placed."""
    if s is not None:
        if s.inferred and s in st.closed:
            reopen(st, s)
        s.requests += 1
        s.last_activity_ns = max(s.last_activity_ns, e.end_ns)
    out.append(RequestAnswered(e, endpoint, model_label(st.names, s), series(st.names, s), how))
    if s is None:
        return
    if s.end_ns is not None and s.label is not None:
        out.append(session_update(st, s))  # its request count changed after it ended
        if s.unload_emitted:
            out.append(unload_marked(st, s))
    for w in list(st.held_warnings):  # warnings waiting for the request they happened in
        if e.start_ns <= w.ts_us * 1000 <= e.end_ns:
            st.held_warnings.remove(w)
            out.append(truncated(st, w, s))


def release(st: HostState, now: int, out: list, force: bool = False) -> None:
    """Held requests whose time for evidence is up (all of them if ``force``) are decided as they stand."""
    while st.held and (force or st.held[0].release_ns <= now):
        h = st.held.pop(0)
        attribute(st, h.req, h.endpoint, h.session, h.how, out)


def mark(st: HostState, s: Session | None, at_ns: int, lo_ns: int, hi_ns: int, how: str) -> None:
    """Evidence that ``s`` finished a request near ``at_ns``: claim the closest held request."""
    if s is None:
        return
    best = None
    for h in st.held:
        if h.how in _BY_EVIDENCE:
            continue
        if lo_ns <= h.req.end_ns <= hi_ns and (best is None or abs(h.req.end_ns - at_ns) < abs(best.req.end_ns - at_ns)):
            best = h
    if best is not None:
        if best.session is not None and best.session is not s and best.how != "ambiguous":
            best.session.last_activity_ns = max(best.session.start_ns, best.session.loaded_ns or 0)
        best.session, best.how = s, how
        adoption.claimed(s, best)
        s.last_activity_ns = max(s.last_activity_ns, best.req.end_ns)


# -- "truncating input prompt": it belongs to the request it happened in -----------------------------------
def prompt_truncated(st: HostState, e: ev.PromptTruncated, out: list) -> None:
    if len(st.loaded) == 1:
        out.append(truncated(st, e, st.loaded[0]))
    else:
        st.held_warnings.append(e)  # wait for that request's [GIN] line


def release_warnings(st: HostState, now: int | None, out: list) -> None:
    """Truncation warnings no request claimed: written without a model (the oldest one once it waited
    ``WARNING_HOLD_NS``; all of them when ``now`` is None, at the end of the input)."""
    if now is None:
        for w in st.held_warnings:
            out.append(truncated(st, w, None))
        st.held_warnings.clear()
    elif st.held_warnings and now - st.held_warnings[0].ts_us * 1000 > WARNING_HOLD_NS:
        out.append(truncated(st, st.held_warnings.pop(0), None))


def truncated(st: HostState, e: ev.PromptTruncated, s: Session | None) -> PromptTruncated:
    return PromptTruncated(e.host, e.ts_us * 1000, model_label(st.names, s), e.limit, e.prompt, e.keep, e.new)
