"""Held unload markers (design §4): an end inferred or guessed is written once nothing can undo it. Every event
asks whether one is due; the earliest due time is cached on the host (a DERIVED field), and these tests hold
it to the answer a walk over every closed session gives."""

from ollama_ingest.correlate import codec
from ollama_ingest.correlate.records import UnloadMarked
from ollama_ingest.correlate.sessions import close, write_due_unloads
from ollama_ingest.correlate.state import HostState, Session
from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.correlate.timing import EVICTION_WINDOW_NS, UNLOAD_EVENT_DELAY_NS, S

T0 = 1_754_290_800 * S


def _loaded(st: HostState, blob: str, at: int) -> Session:
    s = Session(host="h", blob=blob, start_ns=at, loaded_ns=at + S)
    st.loaded.append(s)
    return s


def _markers(out: list) -> list[str]:
    return [r.model for r in out if isinstance(r, UnloadMarked)]


def test_a_marker_due_sooner_than_the_one_waiting_is_written_when_it_is_due():
    st = HostState()
    a, b = _loaded(st, "a" * 64, T0), _loaded(st, "b" * 64, T0)
    close(st, a, T0 + 10 * S, "keep_alive_expired", "keep_alive_inference", [], inferred=True)
    write_due_unloads(st, T0 + 20 * S, [])  # a's is due in an hour: nothing yet
    close(st, b, T0 + 30 * S, "evicted", "scheduler_order", [], guessed=True)  # due 15 s after its end
    out: list = []
    write_due_unloads(st, T0 + 30 * S + EVICTION_WINDOW_NS + 1, out)
    assert _markers(out) == ["sha256:bbbbbbbbbbbb"]
    out = []
    write_due_unloads(st, T0 + 10 * S + UNLOAD_EVENT_DELAY_NS + 1, out)
    assert _markers(out) == ["sha256:aaaaaaaaaaaa"]
    out = []
    write_due_unloads(st, T0 + 10 * S + 2 * UNLOAD_EVENT_DELAY_NS, out)
    assert out == []  # each marker once


def test_the_cache_is_not_saved_and_a_loaded_state_still_writes_the_marker_due():
    tl = Timeline()
    st = tl.host_state("h")
    a = _loaded(st, "a" * 64, T0)
    close(st, a, T0 + 10 * S, "keep_alive_expired", "keep_alive_inference", [], inferred=True)
    write_due_unloads(st, T0 + 20 * S, [])
    saved = codec.to_json(tl)
    assert "unloads_due_ns" not in saved["hosts"]["h"]
    back = codec.from_json(saved).hosts["h"]
    out: list = []
    write_due_unloads(back, T0 + 10 * S + UNLOAD_EVENT_DELAY_NS + 1, out)
    assert _markers(out) == ["sha256:aaaaaaaaaaaa"]
