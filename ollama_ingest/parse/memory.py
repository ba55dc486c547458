"""Memory and GPU lines: offload estimates, memory parts, system memory, VRAM, inference compute."""

from __future__ import annotations

from ..entry import Entry
from ..events import InferenceCompute, MemoryPart, Offload, SystemMemory, VramUpdate
from .common import base, kv, on_msg, to_int
from .units import parse_bytes, parse_bytes_list


def _bytes(v: str | None) -> int | None:
    if v is None or v == "":
        return None
    try:
        return parse_bytes(v)
    except ValueError:
        return None


@on_msg("offload")
@on_msg("offload to ", prefix=True)
def offload(e: Entry, line: str, msg: str) -> Offload:
    d = kv(line)
    lib = d.get("library") or (msg[len("offload to "):] if msg.startswith("offload to ") else None)
    try:
        avail = parse_bytes_list(d.get("memory.available", ""))
    except ValueError:
        avail = []
    return Offload(
        **base(e),
        library=lib,
        layers_requested=to_int(d.get("layers.requested")),
        layers_model=to_int(d.get("layers.model")),
        layers_offload=to_int(d.get("layers.offload")),
        memory_available_bytes=avail,
        required_full_bytes=_bytes(d.get("memory.required.full")),
        required_partial_bytes=_bytes(d.get("memory.required.partial")),
        required_kv_bytes=_bytes(d.get("memory.required.kv")),
        weights_total_bytes=_bytes(d.get("memory.weights.total")),
        graph_full_bytes=_bytes(d.get("memory.graph.full")),
        graph_partial_bytes=_bytes(d.get("memory.graph.partial")),
        projector_weights_bytes=_bytes(d.get("projector.weights")),
    )


_PARTS = {"model weights": "weights", "kv cache": "kv_cache", "compute graph": "graph",
          "total memory": "total"}


@on_msg(*_PARTS)
def memory_part(e: Entry, line: str, msg: str) -> MemoryPart | None:
    d = kv(line)
    size = _bytes(d.get("size"))
    if size is None:
        return None
    # device= from v0.11.5 on; the v0.6–v0.11.4 runner says buffer=
    return MemoryPart(**base(e), part=_PARTS[msg], device=d.get("device") or d.get("buffer"),
                      size_bytes=size)


@on_msg("system memory")
def system_memory(e: Entry, line: str, msg: str) -> SystemMemory:
    d = kv(line)
    return SystemMemory(**base(e), total_bytes=_bytes(d.get("total")), free_bytes=_bytes(d.get("free")),
                        free_swap_bytes=_bytes(d.get("free_swap")))


@on_msg("updated VRAM based on existing loaded models", "gpu memory")
def vram_update(e: Entry, line: str, msg: str) -> VramUpdate:
    d = kv(line)
    avail = d.get("available", d.get("free"))
    return VramUpdate(**base(e), source_msg=msg, gpu=d.get("gpu") or d.get("id") or "",
                      library=d.get("library"), total_bytes=_bytes(d.get("total")),
                      available_bytes=_bytes(avail))


@on_msg("inference compute")
def inference_compute(e: Entry, line: str, msg: str) -> InferenceCompute:
    d = kv(line)
    return InferenceCompute(
        **base(e), gpu=d.get("id", ""), library=d.get("library"), variant=d.get("variant"),
        compute=d.get("compute"), driver=d.get("driver"), name=d.get("name"),
        description=d.get("description"), total_bytes=_bytes(d.get("total")),
        available_bytes=_bytes(d.get("available")),
    )
