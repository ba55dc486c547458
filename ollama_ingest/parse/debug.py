"""OLLAMA_DEBUG scheduler lines: the only direct record of an unload (server/sched.go, llm)."""

from __future__ import annotations

from ..entry import Entry
from ..events import DebugRunner
from .common import base, blob_of, kv, on_msg, short_model_name, to_int
from .units import parse_duration_ns

_STEPS = {
    "runner with non-zero duration has gone idle, adding timer": "idle",
    "runner with non-zero duration has gone idle, resetting timer": "idle",
    "runner with zero duration has gone idle, expiring to unload": "expire_now",
    "timer expired, expiring to unload": "expired",
    "runner expired event received": "expired",
    "got lock to unload expired event": "expired",
    "stopping llama server": "stopping",
    "stopping llama-server": "stopping",
    "runner terminated and removed from list, blocking for VRAM recovery": "stopping",
    "runner released": "stopping",  # modelPath= (v0.1.33–v0.6.x), right after the runner was stopped
    "sending an unloaded event": "unloaded",
    "resetting model to expire immediately to make room": "evict",
    "found an idle runner to unload": "evict",
    "shutting down runner": "shutdown",
    "max runners achieved, unloading one to make room": "evict",
    "no idle runners, picking the shortest duration": "evict",  # runner= (v0.6.8+) names the victim
    "reloading": "reload",  # v0.6.8+: the loaded runner of this model is replaced (new options)
    # per request (real v0.12.x log): "evaluating already loaded" model=<blob> at the start, and
    # "after processing request finished event" runner.*= right after the [GIN] line
    "evaluating already loaded": "request_start",
    "after processing request finished event": "request_end",
    "finished setting up": "ready",  # runner= (v0.11+)
    "finished setting up runner": "ready",  # model=<blob> (v0.1.33–v0.10)
}


@on_msg(*_STEPS)
def debug_runner(e: Entry, line: str, msg: str) -> DebugRunner:
    d = kv(line)
    name = d.get("runner.name")
    # modelPath= (v0.1.38–v0.6.7), runner.model= (v0.6.8+), model= (shutting down runner)
    blob = blob_of(d.get("runner.model")) or blob_of(d.get("modelPath")) or blob_of(d.get("model"))
    dur = d.get("duration")
    try:
        duration_ns = parse_duration_ns(dur) if dur else None
    except ValueError:
        duration_ns = None
    return DebugRunner(**base(e), step=_STEPS[msg], message=msg,
                       runner_name=short_model_name(name) if name else None, blob=blob,
                       runner_pid=to_int(d.get("runner.pid") or d.get("pid")),
                       num_ctx=to_int(d.get("runner.num_ctx")), parallel=to_int(d.get("runner.parallel")),
                       duration_ns=duration_ns)
