"""Runners whose start is not in the input: adopted from the evidence (docs/design.md §3).

A paste, ``--since`` in the middle of a session, the service installed (or its state lost) while models are
loaded: the runner start lines are not in the input, yet the input says which runners are there. A successful
request to a model endpoint is never written as served by nothing: it is attributed to an adopted runner, or
marked ``unknown`` (no model tag) when nothing in the input names one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import events as ev
from . import victims
from .naming import name_session, session_update
from .sessions import reopen
from .state import Held, HostState, Session

if TYPE_CHECKING:
    from .contract import OpenSession
    from .timeline import Timeline


def version_at_least(version: str | None, *want: int) -> bool | None:
    """``0.11.5`` ≥ (0, 11, 5)? None when the version is unknown or not numeric."""
    if not version:
        return None
    try:
        got = tuple(int(p) for p in version.split("-")[0].split(".")[:3])
    except ValueError:
        return None
    return got >= want


def adopt(st: HostState, host: str, at_ns: int, *, blob: str | None = None, name: str | None = None,
          pid: int | None = None, num_ctx: int | None = None, parallel: int | None = None) -> Session:
    """A loaded runner known only from now on: its bar begins at this evidence (``adopted``)."""
    s = Session(host=host, blob=blob, start_ns=at_ns, loaded_ns=at_ns, last_activity_ns=at_ns, adopted=True,
                keep_alive_ns=st.keep_alive_ns, runner_pid=pid, parallel=parallel)
    # runner.num_ctx is num_ctx × parallel up to v0.11.4, per request from v0.11.5: only with a known version
    per_request = version_at_least(st.version, 0, 11, 5)
    if num_ctx and per_request is not None:
        s.ctx_size = num_ctx * (parallel or 1) if per_request else num_ctx
    if name:
        name_session(st, s, name)
    st.loaded.append(s)
    if st.hidden:
        st.hidden -= 1  # one of the runners "loaded runners" counted is now named
    return s


def adopt_loading(st: HostState, host: str, at_ns: int, blob: str | None) -> Session:
    """A load seen from its middle (a line naming the blob it loads, without its start line)."""
    s = Session(host=host, blob=blob, start_ns=at_ns, last_activity_ns=at_ns, from_decision=True,
                keep_alive_ns=st.keep_alive_ns)
    st.loading = s
    return s


def load_decision(st: HostState, e: ev.LoadDecision, out: list) -> None:
    """A line naming the blob the scheduler loads: it begins the load until the start line says more (§1)."""
    if st.loading is None:
        adopt_loading(st, e.host, e.ts_us * 1000, e.blob)
    elif st.loading.blob is None:
        st.loading.blob = e.blob


def model_file(st: HostState, e: ev.ModelFile, out: list) -> None:
    """llama.cpp names the file it loads: the loading runner's blob (none in v0.0.19–v0.1.31 start lines)."""
    if st.loading is not None:
        if st.loading.blob is None:
            st.loading.blob = e.blob
    elif not any(s.blob == e.blob for s in st.loaded):
        adopt_loading(st, e.host, e.ts_us * 1000, e.blob)


def template_selection(st: HostState, e: ev.TemplateSelection, out: list) -> None:
    """v0.30.1+ names the model just loaded (the load waiting for its name, else the latest); with nothing
    loaded, a runner the input has not shown (§3)."""
    if st.loaded:
        latest = max(st.loaded, key=lambda s: s.loaded_ns or 0)
        name_session(st, st.unnamed or latest, e.model_name)
        return
    adopt(st, e.host, e.ts_us * 1000, blob=st.names.blob_of(e.model_name), name=e.model_name)


def claimed(s: Session, h: Held) -> None:
    """A request ``h`` attributed to ``s`` by evidence: an adopted runner served it, so it was loaded by its
    start (its bar cannot begin after a request it served), unless a point already carries its start."""
    if s.adopted and not s.written and h.req.start_ns < s.start_ns:
        s.start_ns = s.loaded_ns = s.last_activity_ns = h.req.start_ns


def runners_count(st: HostState, e: ev.RunnersCount, out: list) -> None:
    """``loaded runners count=N``: the runners beyond those the input names are loaded too (``hidden``): a
    request cannot be told to be the only loaded one's while they are, nor to have been served by nothing."""
    now = e.ts_us * 1000
    victims.resolve(st, now, out, force=True)
    missing = e.count - len([s for s in st.loaded if s.loaded_ns is not None]) - (st.loading is not None)
    # first the runners believed expired by keep-alive inference alone: their keep-alive was longer
    for s in reversed(list(st.closed)):
        if missing <= 0:
            break
        if s.inferred and not any(o.blob == s.blob for o in st.loaded):
            reopen(st, s)
            s.maybe_activity_ns = max(s.maybe_activity_ns, now)  # alive now: it expires after this at the earliest
            out.append(session_update(st, s))
            missing -= 1
    st.hidden = max(0, missing)
    if st.hidden:
        st.hidden_until_ns = now + st.keep_alive_ns


def hidden_used(st: HostState, end_ns: int) -> None:
    """A request that may have been a hidden runner's keeps it loaded for its keep-alive after it."""
    if st.hidden:
        st.hidden_until_ns = max(st.hidden_until_ns, end_ns + st.keep_alive_ns)


def resume_open(correlator: Timeline, host: str, written: list[OpenSession]) -> None:
    """Sessions a lost state had written open (the checkpoint's records of them): taken up with the identity
    they were written with, so that the evidence that follows (/api/ps, the log, keep-alive) ends them in place
    instead of leaving them open for ever beside a new bar (design §3)."""
    st = correlator.host_state(host)
    for d in written:
        if any(s.start_ns == d.start_ns for s in st.loaded):
            continue
        seen = max(d.start_ns, d.end * 1_000_000)
        s = Session(host=host, blob=d.blob or None, start_ns=d.start_ns, loaded_ns=d.start_ns,
                    last_activity_ns=seen, keep_alive_ns=st.keep_alive_ns, label=d.model, written=True,
                    series_tag=d.series or d.model, parallel=d.parallel, requests=d.requests)
        if d.ctx:
            s.ctx_size = d.ctx * (d.parallel or 1)
        if not d.model.startswith("sha256:") and d.model != "unknown":
            s.name = d.model
        st.loaded.append(s)
