"""Which runner Ollama's scheduler unloads to make room for another (docs/design.md §5).

Ollama logs one eviction line per victim (v0.11.7–v0.24 ``model requires more … memory than is currently
available, evicting a model to make space``, v0.30+ ``llama-server model predicted to exceed available memory,
evicting``) but names none of them at INFO. Each line is held briefly: DEBUG lines naming a victim
(``resetting model to expire immediately to make room runner=…``) decide, and use up one line each; the
lines left are resolved in the scheduler's own order, one victim per line.
"""

from __future__ import annotations

from collections.abc import Iterable

from .naming import session_update
from .sessions import close, reopen
from .state import Eviction, HostState, Session
from .timing import EVICT_SETTLE_NS, EVICTION_WINDOW_NS

GUESSED = ("eviction_log", "max_loaded_models", "vram_estimate")  # evidence that names no victim


def unload_order(sessions: Iterable[Session]) -> list[Session]:
    """server/sched.go ``findRunnerToUnload``: the loaded runners sorted ``ByDurationAndName`` — the runner's
    ``sessionDuration`` (its keep-alive: the server's at load, then each request's; as Go's ``uint64`` turns a
    negative "never unload" into the largest), then the model path (the blob: one directory) — and the first
    idle one (refCount 0: known only from DEBUG request lines), else the first. Before v0.6.6 (``ByDuration``,
    an unstable sort of Go's randomly ordered map) ties had no order: the path order is then our guess."""
    return sorted(sessions, key=lambda s: (s.inflight > 0, s.keep_alive_ns % (1 << 64), s.blob or "", s.start_ns))


def victim(st: HostState) -> Session | None:
    """The runner the scheduler unloads next: loaded, and not already on its way out (a DEBUG line chose it)."""
    order = unload_order(s for s in st.loaded if s.loaded_ns is not None and s.start_ns not in st.pending_reason)
    return order[0] if order else None


def announce(st: HostState, at_ns: int, evidence: str) -> None:
    """An eviction line: one runner goes, not yet known which."""
    st.evictions.append(Eviction(at_ns, evidence))


def named(st: HostState, s: Session) -> None:
    """A DEBUG line names ``s`` as an eviction's victim: it uses up the oldest announcement (once per victim)."""
    if st.evictions and s.start_ns not in st.pending_reason:
        st.evictions.pop(0)


def resolve(st: HostState, now_ns: int, out: list, force: bool = False) -> None:
    """Close one victim per announcement old enough that no DEBUG line named it (all of them if ``force``:
    a runner start or a finished load comes only after every victim has gone)."""
    while st.evictions and (force or now_ns - st.evictions[0].at_ns >= EVICT_SETTLE_NS):
        line = st.evictions.pop(0)
        v = victim(st)
        if v is not None:  # none known: the victim is a runner the input does not name
            close(st, v, line.at_ns, "evicted", line.evidence, out, guessed=True)


def correct(st: HostState, s: Session, began_ns: int, out: list) -> bool:
    """A VRAM-recovery timeout names ``s`` as the runner whose unload began at ``began_ns``. If an eviction's
    victim was guessed by order just then, the log now names it: ``s`` was that victim (and a wrong guess is
    undone). False when no guess is concerned."""
    guess = next((g for g in reversed(st.closed) if g.guessed and g.evidence in GUESSED
                  and abs((g.end_ns or 0) - began_ns) < EVICTION_WINDOW_NS), None)
    if guess is None:
        return False
    if guess is not s:
        if s.end_ns is not None:
            return False  # it had ended already, for its own reason
        reopen(st, guess)
        out.append(session_update(st, guess))
    else:
        st.closed.remove(s)  # closed again below, with the named evidence and the exact time
        st.loaded.append(s)
        s.end_ns = None
    s.guessed = False
    close(st, s, began_ns, "evicted", "vram_timeout", out)
    return True
