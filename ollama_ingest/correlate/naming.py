"""Which name a session is written under, and the records that carry it (docs/design.md §1, §6).

A session's label is the name the log gives it (``template selection``, DEBUG ``runner.name``, /api/ps), else
the manifests' name of its blob, else ``sha256:<12 hex>``. It is frozen at its first write (the load record,
or an adopted runner's session), so a later name never forks its series. From v0.30.1 the line that names a
model follows ``… started in``: the finished load (``unnamed``) waits for it, and anything else that happens
first writes it under the name known then.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .. import events as ev
from .names import ModelNames
from .records import LoadDone, SessionUpdate, UnloadMarked
from .state import HostState, Session

_EMBED_NAME = re.compile(r"embed|minilm|bge-|e5-|gte-|arctic-embed|paraphrase", re.I)
# between "… started in" and the line that names the model (v0.30.1+) nothing else may freeze its label
_NAMING_OR_NEUTRAL = frozenset({"template_selection", "runners_count"})


def model_label(names: ModelNames, s: Session | None) -> str:
    if s is None:
        return ""
    return s.label or s.name or names.label(s.blob)


def series(names: ModelNames, s: Session | None) -> str:
    if s is None:
        return ""
    if s.series_tag:  # resumed from a point already written (design §3): keep its identity
        return s.series_tag
    n = s.per_request_ctx
    return f"{model_label(names, s)} (ctx: {n})" if n else model_label(names, s)


def is_embedding(names: ModelNames, s: Session) -> bool:
    if s.embedding:
        return True
    return _embedding_name(model_label(names, s)) or any(map(_embedding_name, names.all_names(s.blob)))


@lru_cache(maxsize=4096)  # asked for every live session at every model request: a few names, over and over
def _embedding_name(name: str) -> bool:
    return _EMBED_NAME.search(name) is not None


def name_session(st: HostState, s: Session, name: str) -> None:
    """The log names the runner: its label (unless frozen already), and a name its blob has from now on."""
    if s.name == name:
        return
    s.name = name
    if s.blob:
        st.names.learn(s.blob, name)


def waits_for_name(st: HostState, e: ev.Event) -> bool:
    """Whether ``e`` may still come before the line that names the load just finished."""
    return e.kind in _NAMING_OR_NEUTRAL or (e.kind == "debug_runner" and e.step == "ready")


def write_unnamed(st: HostState, out: list) -> None:
    """The finished load waiting for its name is written now, under the name known now (design §6)."""
    s, st.unnamed = st.unnamed, None
    if s is None:
        return
    s.label = model_label(st.names, s)
    out.append(LoadDone(host=s.host, start_ns=s.start_ns, model=s.label, series=series(st.names, s),
                        load_s=s.load_s, end_ns=s.loaded_ns or s.start_ns, blob=s.blob, ctx=s.per_request_ctx,
                        ctx_size=s.ctx_size, parallel=s.parallel, gpu_layers=s.gpu_layers, mem=dict(s.mem)))
    if s.end_ns is None:
        out.append(session_update(st, s))


def session_update(st: HostState, s: Session, now_ns: int | None = None) -> SessionUpdate:
    """The session as it stands; once written, its start and label are its identity and no longer move."""
    names = st.names
    open_ = s.end_ns is None
    if s.adopted and s.label is None:
        s.label = model_label(names, s)  # no load record froze it
    s.written = True
    end = s.end_ns if not open_ else max(now_ns or 0, s.last_activity_ns, s.loaded_ns or s.start_ns)
    return SessionUpdate(host=s.host, start_ns=s.start_ns, model=model_label(names, s), series=series(names, s),
                         end_ns=end, open=open_, loading=open_ and s.loaded_ns is None, adopted=s.adopted,
                         requests=s.requests, blob=s.blob, ctx=s.per_request_ctx, parallel=s.parallel,
                         load_s=s.load_s, reason=s.reason, evidence=s.evidence, names=names.all_names(s.blob))


def unload_marked(st: HostState, s: Session) -> UnloadMarked:
    """The session's end as a marker (written once; a revision of the end writes it again)."""
    s.unload_emitted = True
    return UnloadMarked(host=s.host, model=model_label(st.names, s), at_ns=s.end_ns or s.start_ns,
                        reason=s.reason, evidence=s.evidence, requests=s.requests)
