"""Warnings and errors on the load path, VRAM-recovery timeouts, prompt truncation, evictions."""

from __future__ import annotations

from ..entry import Entry
from ..events import Eviction, PromptTruncated, VramTimeout, Warning_
from .common import base, blob_of, kv, on_msg, short_model_name, to_float, to_int


@on_msg("gpu VRAM usage didn't recover within timeout")
def vram_timeout(e: Entry, line: str, msg: str) -> VramTimeout | None:
    d = kv(line)
    seconds = to_float(d.get("seconds"))
    if seconds is None:
        return None
    # model=<blob> (v0.1.45–v0.6.8) or runner.model=/runner.name= (v0.7.0+)
    return VramTimeout(**base(e), seconds=seconds,
                       blob=blob_of(d.get("model")) or blob_of(d.get("runner.model")),
                       runner_name=d.get("runner.name"))


@on_msg("truncating input prompt")
def prompt_truncated(e: Entry, line: str, msg: str) -> PromptTruncated:
    d = kv(line)
    return PromptTruncated(**base(e), limit=to_int(d.get("limit")), prompt=to_int(d.get("prompt")),
                           keep=to_int(d.get("keep", d.get("numKeep"))), new=to_int(d.get("new")))


_WARNINGS = {
    "client connection closed before server finished loading, aborting load": "client_aborted",
    "client connection closed before llama-server finished loading, aborting load": "client_aborted",
    "model request too large for system": "model_too_large",
    "llama runner terminated": "runner_terminated",
    "llama-server terminated": "runner_terminated",
    "error loading llama server": "load_failed",
    "error loading llama-server": "load_failed",
    "NewLlamaServer failed": "load_failed",
    "failed to create server": "load_failed",
    "Load failed": "load_failed",
    "llama runner process no longer running": "runner_not_running",
    "llama-server process no longer running": "runner_not_running",
    "runtime OOM detected; expiring loaded models to clear memory before next request": "runtime_oom",
}


@on_msg(*_WARNINGS)
def warning(e: Entry, line: str, msg: str) -> Warning_:
    d = kv(line)
    blob = blob_of(d.get("model")) or blob_of(d.get("runner.model"))
    # v0.30+ names the model itself: model=registry.ollama.ai/library/<name>:<tag>
    name = d.get("runner.name") or (d.get("model") if d.get("model") and not blob else None)
    return Warning_(**base(e), what=_WARNINGS[msg], level=d.get("level", ""), message=msg,
                    error=d.get("error") or d.get("sys"), blob=blob,
                    runner_name=short_model_name(name) if name else None)


_EVICTIONS = {
    "llama-server model predicted to exceed available memory, evicting": "predicted_exceed",
    "evicting all other loaded models for OOM retry": "evict_all_oom_retry",
    "llama-server load failed; evicting all other models and retrying once": "load_failed_retry",
    # one wording per kind of memory: "more memory" v0.11.7–v0.13.0, "more gpu memory" v0.13.1–v0.24.0,
    # "more system memory" v0.12.11–v0.24.0 (llm/server.go verifyLayout)
    "model requires more memory than is currently available, evicting a model to make space": "make_space",
    "model requires more gpu memory than is currently available, evicting a model to make space": "make_space",
    "model requires more system memory than is currently available, evicting a model to make space":
        "make_space",
}


@on_msg(*_EVICTIONS)
def eviction(e: Entry, line: str, msg: str) -> Eviction:
    return Eviction(**base(e), what=_EVICTIONS[msg], message=msg, count=to_int(kv(line).get("count")))
