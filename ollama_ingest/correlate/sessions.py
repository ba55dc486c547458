"""A session's life after its load: found by what a line names, closed with a reason and its evidence, revised
by stronger evidence, reopened when the evidence undoes an end (docs/design.md §4)."""

from __future__ import annotations

from .naming import session_update, unload_marked, write_unnamed
from .state import HostState, Session
from .timing import EVICTION_WINDOW_NS, INFERENCE_GRACE_NS, UNLOAD_EVENT_DELAY_NS, S

RECENT_CLOSED = 32  # closed sessions kept for revisions and late evidence
RECENT_ACTIVITY = 32  # request ends kept per session
_FOREVER_NS = 10**7 * S  # a keep-alive this long (or negative) never expires
_NEVER_NS = 1 << 63  # later than any time


def find(st: HostState, blob: str | None = None, name: str | None = None, pid: int | None = None,
         include_closed: bool = False) -> Session | None:
    """The session a line names (by blob, name or runner pid): the latest loaded, the loading one, then
    (``include_closed``) the latest closed."""
    pools = [*reversed(st.loaded), *([st.loading] if st.loading else [])]
    if include_closed:
        pools += list(reversed(st.closed))
    for s in pools:
        if blob and s.blob == blob:
            return s
        if name and (s.name == name or name in st.names.all_names(s.blob)):
            return s
        if pid and s.runner_pid == pid:
            return s
    return None


def close(st: HostState, s: Session, end_ns: int, reason: str, evidence: str, out: list,
          inferred: bool = False, guessed: bool = False) -> None:
    """``s`` ended at ``end_ns``. An end by keep-alive inference or by the scheduler's order alone may still be
    undone (a late request, a named victim): its unload marker waits until it can no longer be."""
    if st.unnamed is s:
        write_unnamed(st, out)
    if s in st.loaded:
        st.loaded.remove(s)
    if st.loading is s:
        st.loading = None
    s.end_ns = max(end_ns, s.loaded_ns or s.start_ns)
    s.reason, s.evidence, s.inferred, s.guessed = reason, evidence, inferred, guessed
    st.closed.append(s)
    if len(st.closed) > RECENT_CLOSED:
        old = st.closed.pop(0)
        if not old.unload_emitted:
            st.closed.insert(0, old)
    out.append(session_update(st, s))
    if inferred or guessed:  # written once no late request (or named victim) can undo it
        s.unload_emitted = False
        s.unload_due_ns = s.end_ns + (UNLOAD_EVENT_DELAY_NS if inferred else EVICTION_WINDOW_NS)
        st.unloads_due_ns = min(st.unloads_due_ns, s.unload_due_ns)
    else:
        s.unload_emitted = True
        out.append(unload_marked(st, s))


def revise(st: HostState, s: Session, end_ns: int, reason: str, evidence: str, out: list) -> None:
    """Stronger evidence for a session already closed by inference."""
    if not s.inferred:
        return
    s.end_ns, s.reason, s.evidence, s.inferred = max(end_ns, s.loaded_ns or s.start_ns), reason, evidence, False
    out.append(session_update(st, s))
    out.append(unload_marked(st, s))


def reopen(st: HostState, s: Session) -> None:
    """An end the evidence undoes (a request it served after, /api/ps listing it): loaded again."""
    st.closed.remove(s)
    s.end_ns = s.reason = s.evidence = None
    s.inferred, s.guessed, s.unload_emitted = False, False, True
    st.loaded.append(s)


def note_activity(s: Session, end_ns: int) -> None:
    s.activity.append(end_ns)
    if len(s.activity) > RECENT_ACTIVITY:
        del s.activity[0]


def in_flight(st: HostState, s: Session) -> bool:
    """A request held for evidence was attributed to ``s``: it was still loaded then."""
    return any(h.session is s for h in st.held)


def expire_by_keep_alive(st: HostState, now: int, out: list) -> None:
    """The weakest evidence: last activity + the runner's keep-alive, once nothing stronger can still come."""
    for s in list(st.loaded):
        if s.loaded_ns is None or s.keep_alive_ns < 0 or s.keep_alive_ns > _FOREVER_NS:
            continue
        # an ambiguous request may have been this runner's: it cannot have expired before that one.
        # Checked on every event: the last activity, the likeliest to be recent, is compared first.
        latest = now - INFERENCE_GRACE_NS - s.keep_alive_ns  # the activity it must be idle since
        if latest > s.last_activity_ns and latest > s.maybe_activity_ns and latest > s.loaded_ns \
                and not in_flight(st, s):
            deadline = max(s.last_activity_ns, s.maybe_activity_ns, s.loaded_ns) + s.keep_alive_ns
            close(st, s, deadline, "keep_alive_expired", "keep_alive_inference", out, inferred=True)


def write_due_unloads(st: HostState, now: int | None, out: list) -> None:
    """Unload markers held back (inferred or guessed ends) that nothing undid (all of them when ``now`` is None).
    Asked at every event: ``st.unloads_due_ns`` (the earliest due time, as of the last look; close() lowers it)
    spares the walk over the closed sessions until one can be due."""
    if now is not None and now <= st.unloads_due_ns:
        return
    earliest = _NEVER_NS
    for s in st.closed:
        if not s.unload_emitted:
            if now is None or now > s.unload_due_ns:
                out.append(unload_marked(st, s))
            else:
                earliest = min(earliest, s.unload_due_ns)
    st.unloads_due_ns = earliest
