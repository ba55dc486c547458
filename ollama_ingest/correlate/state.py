"""The correlator's state: per host, the server instance and its runner sessions (docs/design.md).

Plain dataclasses of plain fields (numbers, strings, lists and dicts of them, the parser's frozen events). Where a
record points at a session it holds the session itself (``loading``, ``unnamed``, ``stopped``, ``Held.session``,
``OomHint.session``). The service's checkpoint carries all of it as JSON (codec.py: sessions by id, the shape
checked field by field), so a field added, removed or renamed here is a new state version with a migration
(checkpoint_migrations.py; tests/test_checkpoint_upgrade.py says so when one is missing). A field marked
``DERIVED`` is the exception: a cache of what the other fields say, not saved, recomputed after a load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import events as ev
from .names import ModelNames
from .timing import DEFAULT_KEEP_ALIVE_NS

DERIVED = "derived"  # field metadata key: see the module's doc


@dataclass
class Session:
    """One runner lifetime: load start → load end → requests → unload."""

    host: str
    blob: str | None
    start_ns: int
    ctx_size: int | None = None
    parallel: int | None = None
    gpu_layers: int | None = None
    embedding: bool = False
    loaded_ns: int | None = None
    load_s: float | None = None
    name: str | None = None  # from the log itself (template selection, DEBUG runner.name, /api/ps)
    # the load's memory figures as the log gave them, in that order (the load point's field order)
    mem: dict[str, int | str] = field(default_factory=dict)
    requests: int = 0
    last_activity_ns: int = 0
    end_ns: int | None = None
    reason: str | None = None
    evidence: str | None = None
    inferred: bool = False  # closed by keep-alive inference only: a late request may reopen it
    unload_emitted: bool = True
    failed: bool = False
    runner_pid: int | None = None  # from DEBUG runner.pid
    label: str | None = None  # frozen at the first point written: a later name must not fork the series
    maybe_activity_ns: int = 0  # end of the latest ambiguous request that may have been this runner's
    activity: list[int] = field(default_factory=list)  # recent ends of requests that were (or may have been) its
    # the runner's own keep-alive (sched.go sessionDuration): the server's at load, DEBUG "duration=" after
    keep_alive_ns: int = DEFAULT_KEEP_ALIVE_NS
    adopted: bool = False  # its start is not in the input: it begins at the first evidence (design §3)
    from_decision: bool = False  # begun by a line naming the blob to load, before (or without) a start line
    guessed: bool = False  # closed as the scheduler's victim by its order alone: a named victim may undo it
    inflight: int = 0  # DEBUG: requests begun ("evaluating already loaded") and not yet finished
    written: bool = False  # a point carries its start: the start can no longer move
    unload_due_ns: int = 0  # its unload marker is written then (0: at once), unless undone before
    series_tag: str | None = None  # resumed from a written point: its series as written

    @property
    def per_request_ctx(self) -> int | None:
        if self.ctx_size is None:
            return None
        return self.ctx_size // self.parallel if self.parallel else self.ctx_size


@dataclass
class Held:
    """A request waiting briefly for DEBUG or /api/ps evidence before it is written."""

    req: ev.GinRequest
    endpoint: str
    session: Session | None
    how: str
    release_ns: int


@dataclass
class Eviction:
    """An eviction line: one runner goes, not yet known which (design §5)."""

    at_ns: int
    evidence: str


@dataclass
class PendingUnload:
    """A DEBUG line said a runner's unload began, and why; the line that it has gone follows (design §4)."""

    reason: str
    began_ns: int


@dataclass
class OomHint:
    """``runtime OOM detected`` named ``session``: it unloads once the request that hit the OOM has finished."""

    session: Session
    at_ns: int


@dataclass
class HostState:
    """One host's server instance: its runners (loading, loaded, recently closed) and the evidence pending."""

    names: ModelNames = field(default_factory=ModelNames)  # shared by the hosts of one correlator
    version: str | None = None
    keep_alive_ns: int = DEFAULT_KEEP_ALIVE_NS
    max_loaded: int = 0  # OLLAMA_MAX_LOADED_MODELS; 0 = Ollama's default (3 per GPU)
    gpus: dict[str, int] = field(default_factory=dict)  # id → total bytes, from inference compute
    loading: Session | None = None
    loaded: list[Session] = field(default_factory=list)
    closed: list[Session] = field(default_factory=list)  # recent, for revisions and late evidence
    held: list[Held] = field(default_factory=list)
    # "truncating input prompt" lines waiting for the request they happened in
    held_warnings: list[ev.PromptTruncated] = field(default_factory=list)
    debug_seen: bool = False
    ps_seen: bool = False
    ps_prev: dict[str, int | None] = field(default_factory=dict)  # the last /api/ps: name → expires_at (µs)
    ps_prev_ns: int = 0
    vram_available: int | None = None  # latest "updated VRAM based on existing loaded models"
    vram_update_ns: int = 0
    evictions: list[Eviction] = field(default_factory=list)  # announced, victim not yet known
    stop_ns: int | None = None  # systemd said the service is stopping / its process exited
    pending_reason: dict[int, PendingUnload] = field(default_factory=dict)  # by session start, from DEBUG lines
    unnamed: Session | None = None  # loaded, its points wait for the line that names it (v0.30.1+)
    stopped: list[Session] = field(default_factory=list)  # ended by a service stop: a restart if it starts again
    stopped_ns: int = 0
    oom: OomHint | None = None
    last_ns: int = 0
    hidden: int = 0  # runners "loaded runners count=N" says are loaded, that nothing in the input names
    hidden_until_ns: int = 0  # … and the latest they can still be loaded (their keep-alive after any use)
    changed_ns: int = 0  # v0.1.x "changing loaded model": the runner it closes exits right after
    # DERIVED: no held unload marker (a session closed by inference) is due before this; 0 = look
    unloads_due_ns: int = field(default=0, metadata={DERIVED: True})
