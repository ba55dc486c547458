"""Runner process start, the era-F runner ``load`` request, and load finished."""

from __future__ import annotations

import re

from ..entry import Entry
from ..events import LoadDecision, LoadFinished, ModelChange, RunnerLoadRequest, RunnersCount, RunnerStart
from .common import bare_value, base, blob_of, kv, on_msg, to_int

# flag → field, for every era's spelling (C–E long flags, G llama-server short ones)
_FLAGS = {
    "--ctx-size": "ctx_size", "-c": "ctx_size",
    "--batch-size": "batch_size", "-b": "batch_size",
    "--parallel": "parallel", "-np": "parallel",
    "--n-gpu-layers": "gpu_layers", "-ngl": "gpu_layers",
    "--threads": "threads", "-t": "threads",
    "--port": "port",
}
_VARIANT = {"starting llama server": "llama server", "starting runner": "runner",
            "starting llama-server": "llama-server"}


@on_msg(*_VARIANT)
def runner_start(e: Entry, line: str, msg: str) -> RunnerStart:
    cmd = kv(line).get("cmd", "")
    # cmd is exec.Cmd.String(): no argument quoting, so a path with spaces is ambiguous;
    # the blob is anchored on blobs/sha256-<hex> and the flags are read token by token.
    tokens = cmd.split(" ")
    values: dict[str, int] = {}
    for i, tok in enumerate(tokens[:-1]):
        field = _FLAGS.get(tok)
        if field and field not in values:
            n = to_int(tokens[i + 1])
            if n is not None:
                values[field] = n
    program = tokens[0] if tokens else ""
    return RunnerStart(
        **base(e),
        variant=_VARIANT[msg],
        blob=blob_of(cmd.split(" --mmproj ")[0]) or blob_of(cmd),
        program=program,
        embedding="--embedding" in tokens,
        ollama_engine="--ollama-engine" in tokens,
        cmd=cmd,
        **values,
    )


_LOADREQ = {k: re.compile(k + r":(\w+)") for k in
            ("Operation", "Parallel", "BatchSize", "KvSize", "GPULayers", "NumThreads")}


@on_msg("load")
def runner_load_request(e: Entry, line: str, msg: str) -> RunnerLoadRequest | None:
    req = kv(line).get("request")
    if not req:
        return None
    got = {k: (m.group(1) if (m := r.search(req)) else None) for k, r in _LOADREQ.items()}
    return RunnerLoadRequest(
        **base(e),
        operation=got["Operation"] or "",
        parallel=to_int(got["Parallel"]),
        batch_size=to_int(got["BatchSize"]),
        kv_size=to_int(got["KvSize"]),
        gpu_layers=to_int(got["GPULayers"]),
        threads=to_int(got["NumThreads"]),
    )


_STARTED = re.compile(r"(?:llama runner|llama-server) started in ([0-9.]+) seconds")


@on_msg("llama runner started in", "llama-server started in", prefix=True)
def load_finished(e: Entry, line: str, msg: str) -> LoadFinished | None:
    m = _STARTED.match(msg)
    return LoadFinished(**base(e), seconds=float(m.group(1))) if m else None


# Lines that name the blob the scheduler loads (model=<blob path>); all but the last come before the runner
# start line: INFO v0.2.0–v0.12.10 (DEBUG before), DEBUG "loading first model" (v0.1.33+), v0.30+ llama-server.
_DECISIONS = {
    "new model will fit in available VRAM in single GPU, loading": False,
    "new model will fit in available VRAM, loading": False,
    "new model will fit in available VRAM across minimum required GPUs, loading": False,
    "new model will fit in available system memory for CPU inference, loading": False,
    "loading first model": False,
    "using llama-server for model": False,
    "loading model via llama-server": True,
}


@on_msg(*_DECISIONS)
def load_decision(e: Entry, line: str, msg: str) -> LoadDecision | None:
    blob = blob_of(bare_value(line, "model"))
    return LoadDecision(**base(e), blob=blob, message=msg, after_start=_DECISIONS[msg]) if blob else None


@on_msg("loaded runners")
def runners_count(e: Entry, line: str, msg: str) -> RunnersCount | None:
    n = to_int(bare_value(line, "count"))
    return RunnersCount(**base(e), count=n) if n is not None else None


# v0.1.21–v0.1.31 (slog, llama.cpp in-process): "Loading Dynamic llm server: <lib>" begins a load, "Starting
# llama main loop" ends it; "changing loaded model" (v0.1.x) closes the one loaded runner for another model.
@on_msg("Loading Dynamic llm server: ", prefix=True)
def ext_server_start(e: Entry, line: str, msg: str) -> RunnerStart:
    return RunnerStart(**base(e), variant="ext server", blob=None, program=msg.split(": ", 1)[1], cmd="")


@on_msg("Starting llama main loop")
def ext_server_ready(e: Entry, line: str, msg: str) -> LoadFinished:
    return LoadFinished(**base(e), seconds=None)


@on_msg("changing loaded model")
def model_change(e: Entry, line: str, msg: str) -> ModelChange:
    return ModelChange(**base(e))
