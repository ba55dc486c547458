"""The correlator: events → records → points, with a per-host state of server instances, runner sessions and
requests (the ``Correlator`` contract of correlate/contract.py).

The rules are docs/design.md's, one module per concern, each handler ``(host state, event, out)`` appending
the records it concludes to ``out``: loads.py (§1), attribution.py (§2), adoption.py (§3), evidence.py and
sessions.py (§4), victims.py (§5), server.py (the server instance and its memory), single_runner.py (v0.1.x),
naming.py (labels, frozen at the first write). ``schema/measurements.py`` alone turns records into points.
Everything is deterministic, so a replay rewrites the same points, and the whole object is plain data (codec.py
writes it as JSON), so the service can checkpoint it with the journal cursor.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import events as ev
from ..schema.measurements import PointMaker
from ..schema.point import Point
from . import adoption, attribution, evidence, loads, server, single_runner, victims
from .contract import OpenSession
from .names import ModelNames
from .naming import model_label, series, session_update, waits_for_name, write_unnamed
from .records import Record, SessionUpdate
from .sessions import close, expire_by_keep_alive, write_due_unloads
from .state import HostState, Session
from .timing import HOLD_NS, INFERENCE_GRACE_NS

Handler = Callable[[HostState, ev.Event, list], None]
HANDLERS: dict[str, Handler] = {
    # §1 loads
    "runner_start": loads.runner_start, "runner_load_request": loads.runner_load_request,
    "offload": loads.offload, "memory_part": loads.memory_part, "load_finished": loads.load_finished,
    # §3 runners whose start is not in the input, and the line that names a load
    "load_decision": adoption.load_decision, "model_file": adoption.model_file,
    "runners_count": adoption.runners_count, "template_selection": adoption.template_selection,
    # §2 requests
    "gin_request": attribution.gin_request, "prompt_truncated": attribution.prompt_truncated,
    # §4, §5 unloads and their evidence
    "debug_runner": evidence.debug_runner, "api_ps": evidence.api_ps, "vram_timeout": evidence.vram_timeout,
    "eviction": evidence.eviction, "warning": evidence.warning,
    "model_change": single_runner.model_change, "runner_stopped": single_runner.runner_stopped,
    # the server instance, and the memory it reports
    "server_listening": server.server_listening, "server_config": server.server_config,
    "systemd_unit": server.systemd_unit, "vram_update": server.vram_update,
    "inference_compute": server.inference_compute, "system_memory": server.system_memory,
}


def tick(st: HostState, now: int, out: list) -> None:
    """Time has come to ``now``: decide what was waiting for evidence that can no longer come."""
    if st.evictions:
        victims.resolve(st, now, out)
    if st.hidden and now > st.hidden_until_ns + INFERENCE_GRACE_NS:
        st.hidden = 0  # nothing can have used them for a keep-alive: they went
    if st.held and now >= st.held[0].release_ns:
        attribution.release(st, now, out)
    if st.oom is not None and now - st.oom.at_ns > HOLD_NS:  # no request finished: it went at the WARN
        oom, st.oom = st.oom, None
        if oom.session.end_ns is None:
            close(st, oom.session, oom.at_ns, "oom", "eviction_log", out)
    if st.held_warnings:
        attribution.release_warnings(st, now, out)
    if st.loaded:
        expire_by_keep_alive(st, now, out)
    if st.closed:
        write_due_unloads(st, now, out)


class Timeline:
    def __init__(self, names: ModelNames | None = None) -> None:
        self.names = names or ModelNames()  # shared with every host's state
        self.hosts: dict[str, HostState] = {}
        self.schema = PointMaker()  # records → points; remembers recent identities for the 1 ns tie-break

    def host_state(self, host: str) -> HostState:
        st = self.hosts.get(host)
        if st is None:
            st = self.hosts[host] = HostState(names=self.names)
        return st

    # -- the input ---------------------------------------------------------------------------------
    def feed(self, e: ev.Event) -> list[Point]:
        st = self.hosts.get(e.host) or self.host_state(e.host)
        now = e.ts_us * 1000
        out: list[Record] = []
        tick(st, now, out)
        if st.unnamed is not None and not waits_for_name(st, e):
            write_unnamed(st, out)
        handler = HANDLERS.get(e.kind)
        if handler is not None:
            handler(st, e, out)
        if now > st.last_ns:
            st.last_ns = now
        return self.schema.points(out) if out else []

    def advance(self, now_ns: int) -> list[Point]:
        """Let time pass with no events (a quiet journal): release held requests, infer expiries."""
        out: list[Record] = []
        for st in self.hosts.values():
            write_unnamed(st, out)
            tick(st, now_ns, out)
        return self.schema.points(out)

    def finish(self) -> list[Point]:
        """End of input: release everything held, finalise inferred unloads, upsert open sessions."""
        out: list[Record] = []
        for st in self.hosts.values():
            write_unnamed(st, out)
            tick(st, st.last_ns, out)
            attribution.release(st, st.last_ns, out, force=True)
            write_due_unloads(st, None, out)
            attribution.release_warnings(st, None, out)
            if st.loading is not None and st.loading.blob:  # design §6: a load still going on
                out.append(session_update(st, st.loading, st.last_ns))
        return self.schema.points(out + self._open_session_updates())

    # -- what the service asks ---------------------------------------------------------------------
    def open_sessions(self, now_ns: int | None = None) -> list[Point]:
        """Upserts of the sessions still open (the service writes them periodically)."""
        return self.schema.points(self._open_session_updates(now_ns))

    def _open_session_updates(self, now_ns: int | None = None) -> list[SessionUpdate]:
        return [session_update(st, s, now_ns or st.last_ns) for st in self.hosts.values() for s in st.loaded]

    def hosts_seen(self) -> list[str]:
        """The hosts whose events were fed (or whose sessions were taken up)."""
        return list(self.hosts)

    def learn_names(self, names: ModelNames) -> None:
        """Models pulled since: names for blobs not known yet (known ones keep theirs)."""
        for blob, n in names.by_blob.items():
            self.names.by_blob.setdefault(blob, list(n))

    def open_session_records(self) -> list[OpenSession]:
        """The sessions open now, by the identity their ``ollama_session`` point has (host, model, series,
        start), for the checkpoint. Read without building their records (which marks them written)."""
        return [OpenSession(host, s.start_ns, self.model_label(s), self.series(s), s.blob or "", s.per_request_ctx,
                            s.parallel, s.requests, max(s.last_activity_ns, s.loaded_ns or s.start_ns) // 1_000_000)
                for host, st in self.hosts.items() for s in st.loaded]

    def resume_open(self, records: list[OpenSession]) -> int:
        """A fresh state takes up the sessions a lost one had open (``open_session_records``), with the identity
        they were written with (design §3); returns how many."""
        by_host: dict[str, list[OpenSession]] = {}
        for d in records:
            by_host.setdefault(d.host, []).append(d)
        for host, written in by_host.items():
            adoption.resume_open(self, host, written)
        return len(records)

    def model_label(self, s: Session | None) -> str:
        return model_label(self.names, s)

    def series(self, s: Session | None) -> str:
        return series(self.names, s)
