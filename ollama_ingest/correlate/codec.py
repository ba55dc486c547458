"""The correlator's state as JSON data (the service's checkpoint, docs/design.md §10): explicit, versioned by
the checkpoint's ``STATE_VERSION``, never a pickle of objects.

The form (``to_json`` / ``from_json``)::

    {"names":  {blob: [name, …]},                    ModelNames, once (every host shares it)
     "hosts":  {host: {<HostState fields>,            in the dataclass's field order
                       "sessions": [<Session>, …]}},  the host's table of sessions; an index is a session's id
     "recent": {"keys": [[measurement, [[tag, value], …]], …],   PointMaker.recent (the 1 ns tie-break, §7),
                "times": [[key index, time_ns], …]}}              oldest first, tag sets written once

Where the state points at a session (``loading``, ``loaded``, ``closed``, ``unnamed``, ``stopped``,
``Held.session``, ``OomHint.session``) the JSON holds its id; a session reachable only from ``held`` or
``oom`` is in the table too, and one object referred to twice stays one object. The parser's events
(``Held.req``, ``held_warnings``) are their pydantic ``model_dump``; ``pending_reason`` keys (a session's
start) are strings; ``Session.mem`` keeps its order (it is the load point's field order). The encoding is
deterministic: a state saved, loaded and saved again gives identical JSON.

Decoding is strict: every record must have exactly its fields (``StateFormatError`` otherwise), so a state
whose shape changed is migrated (checkpoint_migrations.py) or refused, never half-read.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import fields
from typing import Any

from .. import events as ev
from .names import ModelNames
from .state import DERIVED, Eviction, Held, HostState, OomHint, PendingUnload, Session
from .timeline import Timeline

# HostState fields that are not plain JSON values: written by hand below
_SESSION_REF = ("loading", "unnamed")
_SESSION_LIST = ("loaded", "closed", "stopped")


def _saved(cls: type) -> list[str]:
    """The fields of a state record that are saved: all but the DERIVED caches (state.py)."""
    return [f.name for f in fields(cls) if not f.metadata.get(DERIVED)]


_HOST_FIELDS = _saved(HostState)
_SESSION_FIELDS = _saved(Session)


class StateFormatError(ValueError):
    """The JSON is not a correlator state of this shape (a field missing or unknown, a bad reference)."""


def state_shape() -> dict[str, list[str]]:
    """The fields of every record the state holds: what a change of shape (needing a migration) changes."""
    shape = {c.__name__: _saved(c) for c in (HostState, Session, Held, Eviction, PendingUnload, OomHint)}
    shape.update({c.__name__: list(c.model_fields) for c in (ev.GinRequest, ev.PromptTruncated)})
    return shape


# -- encoding ----------------------------------------------------------------------------------------------
def to_json(tl: Timeline) -> dict:
    """The correlator's whole state as JSON-ready data (shares nothing mutable with ``tl``)."""
    return {"names": {b: list(n) for b, n in tl.names.by_blob.items()},
            "hosts": {host: _host(st) for host, st in tl.hosts.items()},
            "recent": _recent(tl.schema.recent)}


def _table(st: HostState) -> tuple[dict[int, int], list[Session]]:
    """The host's sessions in a fixed order of discovery, and id(session) → its index there."""
    ids: dict[int, int] = {}
    table: list[Session] = []
    for s in (st.loading, *st.loaded, *st.closed, st.unnamed, *st.stopped, *(h.session for h in st.held),
              st.oom.session if st.oom else None):
        if s is not None and id(s) not in ids:
            ids[id(s)] = len(table)
            table.append(s)
    return ids, table


def _host(st: HostState) -> dict:
    ids, table = _table(st)

    def ref(s: Session | None) -> int | None:
        return None if s is None else ids[id(s)]

    out: dict[str, Any] = {}
    for name in _HOST_FIELDS:
        if name == "names":
            continue
        if name in _SESSION_REF:
            out[name] = ref(getattr(st, name))
        elif name in _SESSION_LIST:
            out[name] = [ids[id(s)] for s in getattr(st, name)]
        elif name == "held":
            out[name] = [{"req": h.req.model_dump(), "endpoint": h.endpoint, "session": ref(h.session),
                          "how": h.how, "release_ns": h.release_ns} for h in st.held]
        elif name == "held_warnings":
            out[name] = [w.model_dump() for w in st.held_warnings]
        elif name == "evictions":
            out[name] = [{"at_ns": x.at_ns, "evidence": x.evidence} for x in st.evictions]
        elif name == "pending_reason":
            out[name] = {str(k): {"reason": p.reason, "began_ns": p.began_ns} for k, p in st.pending_reason.items()}
        elif name == "oom":
            out[name] = None if st.oom is None else {"session": ref(st.oom.session), "at_ns": st.oom.at_ns}
        else:
            out[name] = _copy(getattr(st, name))
    out["sessions"] = [{name: _copy(getattr(s, name)) for name in _SESSION_FIELDS} for s in table]
    return out


def _copy(v: Any) -> Any:
    if isinstance(v, dict):
        return dict(v)
    if isinstance(v, list):
        return list(v)
    return v


def _recent(recent: OrderedDict) -> dict:
    keys: dict[tuple, int] = {}
    times = []
    for measurement, tags, t in recent:
        k = keys.setdefault((measurement, tags), len(keys))
        times.append([k, t])
    return {"keys": [[m, [list(kv) for kv in tags]] for m, tags in keys], "times": times}


# -- decoding ----------------------------------------------------------------------------------------------
def from_json(doc: dict) -> Timeline:
    """The correlator ``to_json`` wrote; ``StateFormatError`` when ``doc`` is not of this shape."""
    try:
        _exactly("state", doc, ["names", "hosts", "recent"])
        names = ModelNames({str(b): [str(n) for n in ns] for b, ns in doc["names"].items()})
        tl = Timeline(names)
        for host, d in doc["hosts"].items():
            tl.hosts[host] = _host_state(d, names)
        recent = doc["recent"]
        _exactly("recent", recent, ["keys", "times"])
        keys = [(m, tuple((k, v) for k, v in tags)) for m, tags in recent["keys"]]
        tl.schema.recent = OrderedDict(((*keys[k], t), None) for k, t in recent["times"])
        return tl
    except StateFormatError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:  # pydantic's is a ValueError
        raise StateFormatError(f"not a correlator state: {type(exc).__name__}: {exc}"[:300]) from None


def _exactly(what: str, d: Any, want: list[str]) -> None:
    if not isinstance(d, dict):
        raise StateFormatError(f"{what}: not an object")
    if set(d) != set(want):
        missing, unknown = sorted(set(want) - set(d)), sorted(set(d) - set(want))
        raise StateFormatError(f"{what}: fields missing {missing}, unknown {unknown}")


def _host_state(d: dict, names: ModelNames) -> HostState:
    _exactly("HostState", d, [n for n in _HOST_FIELDS if n != "names"] + ["sessions"])
    table = []
    for s in d["sessions"]:
        _exactly("Session", s, _SESSION_FIELDS)
        table.append(Session(**s))

    def sess(i: int | None) -> Session | None:
        if i is None:
            return None
        if not isinstance(i, int) or not 0 <= i < len(table):
            raise StateFormatError(f"no session {i!r} in the host's table")
        return table[i]

    kw: dict[str, Any] = {"names": names}
    for name in _HOST_FIELDS:
        if name == "names":
            continue
        v = d[name]
        if name in _SESSION_REF:
            kw[name] = sess(v)
        elif name in _SESSION_LIST:
            kw[name] = [sess(i) for i in v]
        elif name == "held":
            kw[name] = [_held(h, sess) for h in v]
        elif name == "held_warnings":
            kw[name] = [ev.PromptTruncated.model_validate(w) for w in v]
        elif name == "evictions":
            kw[name] = [Eviction(**_fields_of("Eviction", x, Eviction)) for x in v]
        elif name == "pending_reason":
            kw[name] = {int(k): PendingUnload(**_fields_of("PendingUnload", p, PendingUnload)) for k, p in v.items()}
        elif name == "oom":
            kw[name] = None if v is None else OomHint(sess(_fields_of("OomHint", v, OomHint)["session"]), v["at_ns"])
        else:
            kw[name] = v
    return HostState(**kw)


def _fields_of(what: str, d: dict, cls: type) -> dict:
    _exactly(what, d, [f.name for f in fields(cls)])
    return d


def _held(h: dict, sess) -> Held:
    _fields_of("Held", h, Held)
    return Held(ev.GinRequest.model_validate(h["req"]), h["endpoint"], sess(h["session"]), h["how"], h["release_ns"])
