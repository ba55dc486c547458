"""Truth from incomplete windows (docs/design.md §3, §6): each story says what really ran, the test checks that
the correlator writes it from what the window shows, and never a successful request served by nothing."""

import json

from ollama_ingest.correlate import codec
from ollama_ingest.correlate.contract import OpenSession

from .scenario import BLOBS, debug, feed, gin, path, ps, requests, run, slog, start_e, start_g, started, us


def _session(pts, model):
    """The stored session of ``model`` (last write wins), as a dict of its fields plus time and tags."""
    last = {}
    for p in pts:
        if p.measurement == "ollama_session" and p.tags["model"] == model:
            last[p.identity] = p
    (p,) = last.values()
    return {"start": p.time_ns, "series": p.tags["series"], **p.fields}


def test_a_paste_from_the_middle_of_a_session_never_serves_from_nothing():
    # Story: gemma3:12b was loaded before the paste begins; nothing in it names the model. Its two chats succeed;
    # a third fails after 2 s (the runner crashed): no model served that one.
    pts, _ = run([gin(10, "3.2s"), gin(20, "1.1s"), gin(30, "2.0s", status=500)])
    assert [r[2:] for r in requests(pts)] == [("", "unknown"), ("", "unknown"), ("", "none_loaded")]
    assert not [p for p in pts if p.measurement == "ollama_session"]  # no session invented


def test_runner_started_without_its_start_line_is_adopted():
    # Story: the paste begins during a load of gemma3:12b that started at t=4 (4.00 s before it finished);
    # llama.cpp's loader line names the blob; a chat that waited for the load ends at t=9.
    loader = (5, "llama_model_loader: loaded meta data with 36 key-value pairs and 1065 tensors from "
                 f"{path('gemma3:12b')} (version GGUF V3 (latest))")
    pts, _ = run([loader, started(8, 4.0), gin(9, "6s")])
    (load,) = [p for p in pts if p.measurement == "ollama_load"]
    assert (load.tags["model"], load.time_ns, load.fields["load_s"], load.fields["blob"]) == (
        "gemma3:12b", us(4) * 1000, 4.0, BLOBS["gemma3:12b"])
    assert requests(pts)[0][2:] == ("gemma3:12b", "triggered_load")  # its window (3..9) holds the start (4)
    s = _session(pts, "gemma3:12b")
    assert (s["start"], s["adopted"], s["open"]) == (us(4) * 1000, True, True)


def test_debug_line_naming_the_runner_adopts_it_and_claims_its_request():
    # Story: qwen2.5-coder was loaded before the window; a generate from t=12.5 to t=15 is its request, which
    # DEBUG names 1 ms after the [GIN] line. Its keep-alive timer then fires at 315 (DEBUG says so too).
    pts, _ = run([
        gin(15, "2.5s", "/api/generate"),
        debug(15.001, "after processing request finished event", "qwen2.5-coder:7b", refCount=0),
        debug(315.001, "timer expired, expiring to unload", "qwen2.5-coder:7b"),
        debug(315.2, "sending an unloaded event", "qwen2.5-coder:7b"),
    ])
    assert requests(pts)[0][2:] == ("qwen2.5-coder:7b", "debug_log")
    s = _session(pts, "qwen2.5-coder:7b")
    # the bar begins with the request it served, and ends when the timer fired
    assert (s["start"], s["end"], s["unload_reason"], s["evidence"], s["requests"], s["adopted"]) == (
        us(12.5) * 1000, us(315.001) // 1000, "keep_alive_expired", "debug_log", 1, True)


def test_evaluating_already_loaded_adopts_before_the_request_ends():
    # Story: v0.4 DEBUG: the request for an already loaded gemma3:12b starts at t=10 ("evaluating already
    # loaded model=<blob>") and ends at t=14: the only loaded runner served it.
    pts, _ = run([slog(10, "evaluating already loaded", level="DEBUG", model=path("gemma3:12b")),
                  gin(14, "4s")])
    assert requests(pts)[0][2:] == ("gemma3:12b", "only_loaded")


def test_loaded_runners_count_reveals_a_runner_the_window_does_not_name():
    # Story: gemma3:12b was loaded before the window (nothing names it); qwen2.5-coder loads at t=10 next to it
    # ("loaded runners count=2"). The chats at t=20 and t=30 could be either model's: ambiguous, not qwen's by
    # "only loaded". Both runners then expire; after gemma's keep-alive nothing can have kept it: the chat at
    # t=1000 loads qwen again and is its request alone.
    pts, tl = run([
        start_e(10, "qwen2.5-coder:7b"), slog(10.001, "loaded runners", count=2), started(13, 3.0),
        gin(20, "1s"), gin(30, "1s"),
        start_e(995, "qwen2.5-coder:7b"), slog(995.001, "loaded runners", count=1), started(998, 3.0),
        gin(1000, "6s"),
    ])
    assert [r[2:] for r in requests(pts)] == [("", "ambiguous"), ("", "ambiguous"),
                                             ("qwen2.5-coder:7b", "triggered_load")]


def test_loaded_runners_count_revives_a_runner_believed_expired():
    # Story (the era-c fixture's): llama runs with a 30m keep-alive the log does not show; the server's is 5m.
    # Ten minutes after its last chat nomic-embed-text loads next to it ("loaded runners count=2"): llama is still
    # there, so the embeddings that follow are told apart by capability, and llama's session stays open.
    pts, _ = run([
        start_e(10, "gemma3:12b"), started(14, 4.0), gin(20, "1s"),
        start_e(620, "nomic-embed-text:latest"), slog(620.001, "loaded runners", count=2), started(621, 1.0),
        gin(625, "0.2s", "/api/embed"),
    ])
    assert requests(pts)[-1][2:] == ("nomic-embed-text:latest", "capability")
    assert _session(pts, "gemma3:12b")["open"] is True


def test_api_ps_adopts_a_loaded_model():
    # Story: the service starts on a fresh state while gemma3:12b is loaded; its first /api/ps poll shows it. A
    # chat ends at t=20; the next poll (t=25) shows its expires_at moved (it served the chat); the poll after its
    # expires_at no longer lists it: it expired then, 5 min after the chat.
    pts, _ = run([ps(1, gemma3__12b=300), gin(20, "2s"), ps(25, gemma3__12b=320), ps(318, gemma3__12b=320),
                  ps(321)])
    assert requests(pts)[0][2:] == ("gemma3:12b", "api_ps")
    s = _session(pts, "gemma3:12b")
    assert (s["start"], s["end"], s["unload_reason"], s["evidence"], s["adopted"]) == (
        us(1) * 1000, us(320) // 1000, "keep_alive_expired", "api_ps", True)


def test_a_load_decision_alone_is_an_open_load_with_its_blob():
    # Story (corpus 024): the excerpt is one line, the scheduler deciding to load this blob.
    pts, _ = run([slog(5, "new model will fit in available VRAM in single GPU, loading", model=path("gemma3:12b"),
                       gpu=0, parallel=2, available=6064544153, required='"967.0 MiB"')])
    assert not [p for p in pts if p.measurement == "ollama_load"]  # it has not finished
    s = _session(pts, "gemma3:12b")
    assert (s["start"], s["open"], s["loading"], s["blob"]) == (us(5) * 1000, True, True, BLOBS["gemma3:12b"])


def test_decision_then_start_line_starts_the_load_at_the_start_line():
    pts, _ = run([slog(5, "using llama-server for model", model=path("gemma3:12b")),
                  start_g(5.01, "gemma3:12b"), slog(9, "llama-server started in 3.99 seconds")])
    (load,) = [p for p in pts if p.measurement == "ollama_load"]
    assert (load.time_ns, load.fields["load_s"], load.tags["series"]) == (us(5.01) * 1000, 3.99, "gemma3:12b (ctx: 8192)")


def _stored(pts):
    last = {}
    for p in pts:
        last[p.identity] = p
    return {k: (p.fields, p.time_ns) for k, p in last.items()}


def test_an_open_load_completes_after_a_resume_exactly_as_uninterrupted():
    # Story: the service stops (checkpoint) while gemma3:12b loads; after the restart of the service (not of
    # Ollama) the load finishes and a chat follows.
    first = [start_e(10, "gemma3:12b"), slog(10.001, "loaded runners", count=1)]
    rest = [started(14, 4.0), gin(16, "6.5s"), gin(30, "1s")]
    whole, _ = run(first + rest, finish=False)
    part, tl = run(first, finish=False)
    tl = codec.from_json(json.loads(json.dumps(codec.to_json(tl))))  # the checkpoint
    part += feed(tl, rest, seq0=len(first))
    assert _stored(part) == _stored(whole)
    assert [r[2:] for r in requests(part)] == [("gemma3:12b", "triggered_load"), ("gemma3:12b", "only_loaded")]


def test_the_open_load_at_the_end_is_overwritten_when_it_finishes():
    # The same Timeline writes the open session (end of one input) and later the finished load: one session.
    pts, tl = run([start_e(10, "gemma3:12b")])
    pts += feed(tl, [started(14, 4.0)], seq0=1) + tl.finish()
    (load,) = [p for p in pts if p.measurement == "ollama_load"]
    s = _session(pts, "gemma3:12b")
    assert load.fields["load_s"] == 4.0 and s["load_s"] == 4.0 and "loading" not in s and s["open"] is True


def test_a_runner_named_only_as_it_unloads_is_written_with_its_blob():
    # Story (corpus 047, v0.6): the excerpt begins as the runner of gemma3:12b is being stopped; DEBUG
    # "runner released" names it: it was loaded until then.
    pts, _ = run([slog(3.7, "waiting for llama server to exit", level="DEBUG"),
                  slog(4, "runner released", level="DEBUG", modelPath=path("gemma3:12b"))])
    s = _session(pts, "gemma3:12b")
    assert (s["start"], s["end"], s["open"], s["blob"], s["evidence"], s["adopted"]) == (
        us(4) * 1000, us(4) // 1000, False, BLOBS["gemma3:12b"], "debug_log", True)


def test_the_debug_line_after_a_load_names_the_load_whose_start_was_missed():
    # Story (corpus 059, v0.7+): the excerpt begins during a load; "finished setting up" right after "started
    # in" names its runner: one session, the load's, with the name and blob.
    pts, _ = run([started(30.379, 4.01), debug(30.3795, "finished setting up", "qwen2.5-coder:7b"), gin(30.4, "0s", "/", "HEAD")])
    (load,) = [p for p in pts if p.measurement == "ollama_load"]
    assert (load.tags["model"], load.fields["blob"], load.fields["load_s"]) == (
        "qwen2.5-coder:7b", BLOBS["qwen2.5-coder:7b"], 4.01)
    assert len({p.identity for p in pts if p.measurement == "ollama_session"}) == 1


def test_a_lost_state_takes_up_the_sessions_it_had_written_open():
    # Story (issue 11 point 9): the service wrote gemma3:12b's session open (loaded at t=10), then lost its state.
    # It reads the open session back and starts afresh; /api/ps still lists the model at t=100 and t=385 (past
    # the keep-alive inferred from its last write: the poll says better), then no longer at t=400: it expired at
    # its expires_at (t=390). The same session point is closed, not a second one opened.
    from ollama_ingest.correlate.adoption import resume_open

    _, tl = run([], finish=False)
    resume_open(tl, "h", [OpenSession.from_dict({
        "start_ns": us(10) * 1000, "model": "gemma3:12b", "series": "gemma3:12b (ctx: 4096)", "host": "h",
        "blob": BLOBS["gemma3:12b"], "end": us(60) // 1000, "ctx": 4096, "parallel": 2, "requests": 3})])
    pts = feed(tl, [ps(100, gemma3__12b=390), ps(385, gemma3__12b=390), ps(400)]) + tl.finish()
    (sess,) = {p.identity: p for p in pts if p.measurement == "ollama_session"}.values()
    assert (sess.time_ns, sess.tags["series"], sess.fields["open"], sess.fields["end"], sess.fields["evidence"],
            sess.fields["requests"]) == (us(10) * 1000, "gemma3:12b (ctx: 4096)", False, us(390) // 1000, "api_ps", 3)
