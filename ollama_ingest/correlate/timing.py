"""How long the correlator waits for evidence before it decides (docs/design.md §2, §4, §5)."""

from __future__ import annotations

S = 1_000_000_000  # ns
DEFAULT_KEEP_ALIVE_NS = 300 * S  # Ollama's default OLLAMA_KEEP_ALIVE (5m0s)
INFERENCE_GRACE_NS = 15 * S  # stronger evidence (VRAM timeout ~5 s after) gets this long to arrive
UNLOAD_EVENT_DELAY_NS = 3600 * S  # an inferred unload may still be undone by a long request in flight
HOLD_NS = 3 * S  # DEBUG request lines follow [GIN] within ms; /api/ps within a poll interval
PS_HOLD_NS = 6 * S
WARNING_HOLD_NS = 600 * S  # a truncation warning waits this long for the request it happened in
EVICT_SETTLE_NS = S  # DEBUG lines naming an eviction's victim follow its INFO line within milliseconds
EVICTION_WINDOW_NS = 15 * S  # a VRAM-recovery timeout (≈ 5 s after the unload began) is this close
