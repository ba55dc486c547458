"""Typed events: what one journal entry says, with no interpretation across entries.

Every event carries the entry's journal time (µs, UTC), host, pid and seq (its position in the
input, for deterministic tie-breaks). Sizes are bytes, durations are nanoseconds or seconds as named.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    ts_us: int
    host: str = ""
    pid: int = 0
    seq: int = 0


class GinRequest(Event):
    """``[GIN]`` access line. Logged when the request ends: start = end − latency."""

    kind: Literal["gin_request"] = "gin_request"
    latency_ns: int
    status: int
    client: str
    method: str
    path: str

    @property
    def end_ns(self) -> int:
        return self.ts_us * 1000

    @property
    def start_ns(self) -> int:
        return self.ts_us * 1000 - self.latency_ns


class RunnerStart(Event):
    """``starting llama server`` (C–E) / ``starting runner`` (F) / ``starting llama-server`` (G)."""

    kind: Literal["runner_start"] = "runner_start"
    variant: str
    blob: str | None  # 64-hex model-layer digest
    program: str
    ctx_size: int | None = None  # num_ctx × parallel
    batch_size: int | None = None
    parallel: int | None = None
    gpu_layers: int | None = None
    threads: int | None = None
    port: int | None = None
    embedding: bool = False
    ollama_engine: bool = False
    cmd: str


class RunnerLoadRequest(Event):
    """Era F runner-side ``msg=load request="{Operation:… KvSize:…}"``."""

    kind: Literal["runner_load_request"] = "runner_load_request"
    operation: str
    parallel: int | None = None
    batch_size: int | None = None
    kv_size: int | None = None
    gpu_layers: int | None = None
    threads: int | None = None


class LoadFinished(Event):
    """``llama runner started in X seconds`` / ``llama-server started in X seconds``; v0.1.18–v0.1.31 (the
    in-process server) ``Starting llama main loop``, which says no duration (``seconds`` None)."""

    kind: Literal["load_finished"] = "load_finished"
    seconds: float | None


class LoadDecision(Event):
    """A scheduler line that names the blob it is about to load (or is loading): ``new model will fit in
    available VRAM…, loading``, DEBUG ``loading first model``, ``using llama-server for model`` (before the
    runner start line) and ``loading model via llama-server`` (after it)."""

    kind: Literal["load_decision"] = "load_decision"
    blob: str
    message: str
    after_start: bool = False


class ModelFile(Event):
    """llama.cpp's ``llama_model_loader: loaded meta data … from <blob path>``: the blob being loaded (the
    only record of it before v0.1.32, whose runner start lines name no model)."""

    kind: Literal["model_file"] = "model_file"
    blob: str


class RunnersCount(Event):
    """``loaded runners count=N``: N runners are loaded (with the one loading, up to v0.24)."""

    kind: Literal["runners_count"] = "runners_count"
    count: int


class RunnerStopped(Event):
    """v0.1.0–v0.1.17 (Go log): ``llama runner stopped successfully`` / ``… stopped with error: X`` and
    ``llama runner exited`` / ``… exited with error: X``: the runner process is gone."""

    kind: Literal["runner_stopped"] = "runner_stopped"
    message: str
    error: str | None = None


class ModelChange(Event):
    """v0.1.x ``changing loaded model``: the one loaded runner is closed for another model."""

    kind: Literal["model_change"] = "model_change"


class Offload(Event):
    """``offload to <lib>`` (v0.1.45–v0.5.11) and ``msg=offload`` (v0.5.12–v0.12.10)."""

    kind: Literal["offload"] = "offload"
    library: str | None = None
    layers_requested: int | None = None
    layers_model: int | None = None
    layers_offload: int | None = None
    memory_available_bytes: list[int] = []
    required_full_bytes: int | None = None
    required_partial_bytes: int | None = None
    required_kv_bytes: int | None = None
    weights_total_bytes: int | None = None
    graph_full_bytes: int | None = None
    graph_partial_bytes: int | None = None
    projector_weights_bytes: int | None = None


class MemoryPart(Event):
    """``model weights`` / ``kv cache`` / ``compute graph`` / ``total memory`` (v0.6–v0.24)."""

    kind: Literal["memory_part"] = "memory_part"
    part: str  # weights | kv_cache | graph | total
    device: str | None = None
    size_bytes: int


class SystemMemory(Event):
    kind: Literal["system_memory"] = "system_memory"
    total_bytes: int | None = None
    free_bytes: int | None = None
    free_swap_bytes: int | None = None


class VramUpdate(Event):
    """``updated VRAM based on existing loaded models`` (and ``gpu memory`` per GPU)."""

    kind: Literal["vram_update"] = "vram_update"
    source_msg: str
    gpu: str
    library: str | None = None
    total_bytes: int | None = None
    available_bytes: int | None = None


class InferenceCompute(Event):
    kind: Literal["inference_compute"] = "inference_compute"
    gpu: str
    library: str | None = None
    variant: str | None = None
    compute: str | None = None
    driver: str | None = None
    name: str | None = None
    description: str | None = None
    total_bytes: int | None = None
    available_bytes: int | None = None


class VramTimeout(Event):
    """``gpu VRAM usage didn't recover within timeout``: an unload began ≈ ``seconds`` earlier."""

    kind: Literal["vram_timeout"] = "vram_timeout"
    seconds: float
    blob: str | None = None
    runner_name: str | None = None


class PromptTruncated(Event):
    kind: Literal["prompt_truncated"] = "prompt_truncated"
    limit: int | None = None
    prompt: int | None = None
    keep: int | None = None
    new: int | None = None


class Warning_(Event):
    """Load-path warnings and errors that name no numbers worth typing."""

    kind: Literal["warning"] = "warning"
    what: Literal[
        "client_aborted", "model_too_large", "runner_terminated", "load_failed",
        "runner_not_running", "runtime_oom", "error",
    ]
    level: str
    message: str
    error: str | None = None
    blob: str | None = None
    runner_name: str | None = None


class Eviction(Event):
    """v0.30+ eviction lines and v0.11.7–v0.24 ``model requires more … memory than is currently available,
    evicting a model to make space``: one line per victim (the scheduler unloads one runner per line)."""

    kind: Literal["eviction"] = "eviction"
    what: Literal["predicted_exceed", "evict_all_oom_retry", "load_failed_retry", "make_space"]
    message: str
    count: int | None = None


class TemplateSelection(Event):
    """v0.30.1+ ``template selection model=registry.ollama.ai/library/<name>:<tag>``: names the model."""

    kind: Literal["template_selection"] = "template_selection"
    model_name: str
    model_ref: str


class DebugRunner(Event):
    """DEBUG scheduler lines that mark an unload step for one runner."""

    kind: Literal["debug_runner"] = "debug_runner"
    step: Literal["idle", "expired", "expire_now", "stopping", "unloaded", "evict", "shutdown", "reload",
                  "ready", "request_start", "request_end"]
    message: str
    runner_name: str | None = None
    blob: str | None = None
    runner_pid: int | None = None
    num_ctx: int | None = None  # runner.num_ctx (v0.6.8+): per-request context
    parallel: int | None = None  # runner.parallel (v0.6.8+)
    duration_ns: int | None = None  # "… gone idle, adding/resetting timer" duration=: the runner's keep-alive


class ServerConfig(Event):
    kind: Literal["server_config"] = "server_config"
    env: dict[str, str]
    keep_alive_ns: int | None = None
    num_parallel: int | None = None
    max_loaded_models: int | None = None
    models_dir: str | None = None
    debug: str | None = None


class ServerListening(Event):
    kind: Literal["server_listening"] = "server_listening"
    address: str
    version: str | None = None


class SystemdUnit(Event):
    """systemd's own lines about the unit (PID 1): start, stop, crash, restart."""

    kind: Literal["systemd_unit"] = "systemd_unit"
    action: Literal["starting", "started", "stopping", "stopped", "exited", "restart_scheduled",
                    "deactivated", "failed", "killed"]
    message: str


class PsModel(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    digest: str = ""  # manifest digest (not the blob)
    expires_at_us: int | None = None
    context_length: int | None = None
    size_vram: int | None = None


class ApiPs(Event):
    """One poll of Ollama's ``GET /api/ps``: the models loaded at ``ts_us``."""

    kind: Literal["api_ps"] = "api_ps"
    models: list[PsModel]
