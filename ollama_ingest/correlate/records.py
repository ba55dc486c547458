"""What the correlator concludes, as records: the rules append them to an output list, and the schema layer
(``schema/measurements.py``) alone turns them into InfluxDB points.

A record is a snapshot taken when the rule decided: the model label and series are resolved then (a later
name must not change what was concluded earlier), and nothing in it refers to the live state.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import events as ev


@dataclass(slots=True)
class SessionUpdate:
    """A runner session as it stands now (its bar): written when its load finishes, while open, when it ends."""

    host: str
    start_ns: int
    model: str
    series: str
    end_ns: int  # the unload, or while open the latest time it was seen alive
    open: bool
    loading: bool  # open and its load has not finished
    adopted: bool
    requests: int
    blob: str | None
    ctx: int | None  # per request
    parallel: int | None
    load_s: float | None
    reason: str | None
    evidence: str | None
    names: list[str]  # every name its blob has


@dataclass(slots=True)
class UnloadMarked:
    """A session ended (the unload marker); a revision of the same session's end rewrites it."""

    host: str
    model: str
    at_ns: int
    reason: str | None
    evidence: str | None
    requests: int


@dataclass(slots=True)
class LoadDone:
    """A load that finished (or ended before being named: its session says how)."""

    host: str
    start_ns: int
    model: str
    series: str
    load_s: float | None
    end_ns: int
    blob: str | None
    ctx: int | None
    ctx_size: int | None
    parallel: int | None
    gpu_layers: int | None
    mem: dict[str, int | str]


@dataclass(slots=True)
class RequestAnswered:
    """A ``[GIN]`` line, with the runner it was attributed to (design §2)."""

    req: ev.GinRequest
    endpoint: str
    model: str  # "" when no runner is named
    series: str
    attribution: str  # "" for a request that concerns no model


@dataclass(slots=True)
class Warned:
    """A warning or error line (``what``), concerning ``model`` when one is known."""

    host: str
    at_ns: int
    what: str
    model: str
    message: str
    error: str | None
    level: str


@dataclass(slots=True)
class VramTimedOut:
    """``gpu VRAM usage didn't recover within timeout``: an unload began ``seconds`` earlier."""

    host: str
    at_ns: int
    model: str
    seconds: float
    blob: str | None


@dataclass(slots=True)
class EvictionLogged:
    host: str
    at_ns: int
    what: str
    message: str
    count: int | None


@dataclass(slots=True)
class PromptTruncated:
    """``truncating input prompt``, placed in the request (and so the runner) it happened in when known."""

    host: str
    at_ns: int
    model: str
    limit: int | None
    prompt: int | None
    keep: int | None
    new: int | None


@dataclass(slots=True)
class ServerStarted:
    host: str
    at_ns: int
    address: str
    version: str | None


@dataclass(slots=True)
class ServerConfigured:
    host: str
    at_ns: int
    keep_alive_ns: int | None
    num_parallel: int | None
    max_loaded_models: int | None
    models_dir: str | None
    debug: str | None


@dataclass(slots=True)
class ServiceChanged:
    """systemd's line about the unit (``action``: started, stopping, exited, …)."""

    host: str
    at_ns: int
    action: str
    message: str


@dataclass(slots=True)
class VramReading:
    """Memory as Ollama reported it: ``source`` says which line (inference compute, updated VRAM, …)."""

    host: str
    at_ns: int
    gpu: str | None
    source: str
    total_bytes: int | None
    available_bytes: int | None
    library: str | None = None
    name: str | None = None
    free_swap_bytes: int | None = None


Record = (SessionUpdate | UnloadMarked | LoadDone | RequestAnswered | Warned | VramTimedOut | EvictionLogged
          | PromptTruncated | ServerStarted | ServerConfigured | ServiceChanged | VramReading)
