"""The oldest eras through the correlator (docs/design.md §1, §4): the Go-log era (v0.0.19–v0.1.20), whose runner
start lines name no model, and the in-process server of v0.1.18–v0.1.31. One runner at a time in both."""

from .scenario import BLOBS, gin, golog, path, requests, run, sessions, slog


def loader(t, model, colon=True):
    """llama.cpp's line naming the file (blobs were sha256:<hex> files in 2023)."""
    p = path(model).replace("sha256-", "sha256:") if colon else path(model)
    return t, f"llama_model_loader: loaded meta data with 19 key-value pairs and 291 tensors from {p} (version GGUF V2)"


def test_go_log_era_load_change_and_stop():
    # Story (v0.1.1x): gemma3:12b loads for a chat; 2 min later a generate asks for qwen2.5-coder: the server
    # closes gemma ("changing loaded model") and loads qwen, which stops 5m after its last request (keep-alive).
    pts, _ = run([
        golog(0, "routes.go:895", "Listening on 127.0.0.1:11434 (version 0.1.17)"),
        golog(10, "llama.go:436", "starting llama runner"), loader(10.2, "gemma3:12b"),
        golog(14, "llama.go:508", "llama runner started in 4.000000 seconds"), gin(20, "10.5s"),
        golog(140, "routes.go:105", "changing loaded model"),
        golog(140.3, "llama.go:525", "llama runner stopped successfully"),
        golog(140.4, "llama.go:436", "starting llama runner"), loader(140.5, "qwen2.5-coder:7b"),
        golog(143, "llama.go:508", "llama runner started in 2.600000 seconds"), gin(150, "10s", "/api/generate"),
        golog(450, "llama.go:525", "llama runner stopped successfully"),
    ])
    assert [r[2:] for r in requests(pts)] == [("gemma3:12b", "triggered_load"), ("qwen2.5-coder:7b", "triggered_load")]
    assert sessions(pts) == [
        ("gemma3:12b", 10, 140, "evicted", "eviction_log", 1, False),
        ("qwen2.5-coder:7b", 140.4, 450, "keep_alive_expired", "stop_log", 1, False)]
    loads = {p.tags["model"]: p.fields for p in pts if p.measurement == "ollama_load"}
    assert {m: (f["load_s"], f["blob"]) for m, f in loads.items()} == {
        "gemma3:12b": (4.0, BLOBS["gemma3:12b"]), "qwen2.5-coder:7b": (2.6, BLOBS["qwen2.5-coder:7b"])}


def test_go_log_era_runner_dies_while_loading_and_the_retry_serves():
    # Story (issue 630's sequence): the GPU runner dies with SIGILL while loading; Ollama reports it and starts
    # the next runner, which loads and serves the request that waited all along.
    pts, _ = run([
        golog(10, "llama.go:313", "starting llama runner"), loader(10.1, "gemma3:12b"),
        golog(12, "llama.go:323", "llama runner exited with error: signal: illegal instruction"),
        golog(130, "llama.go:330", "error starting llama runner: llama runner did not start within alloted time, "
                                   "retrying"),
        golog(130, "llama.go:313", "starting llama runner"), loader(130.1, "gemma3:12b"),
        golog(140, "llama.go:362", "llama runner started in 10.000000 seconds"), gin(145, "136s", "/api/generate"),
    ])
    assert sessions(pts)[0] == ("gemma3:12b", 10, 12, "load_failed", "load_error", 0, False)
    assert sessions(pts)[1][:2] == ("gemma3:12b", 130) and sessions(pts)[1][6] is True
    assert requests(pts)[0][2:] == ("gemma3:12b", "triggered_load")
    events = [p.tags["kind"] for p in pts if p.measurement == "ollama_event" and p.tags["kind"] != "unload"]
    assert events == ["load_failed"]


def test_v010_the_replaced_runner_exits_killed_after_the_next_one_starts():
    # Story (v0.1.0–v0.1.9): Close() kills the old runner; its "exited with error: signal: killed" can come after
    # the next runner's start line. The new load is not failed by it.
    pts, _ = run([
        golog(10, "llama.go:310", "starting llama runner"), loader(10.1, "gemma3:12b"),
        golog(14, "llama.go:362", "llama runner started in 4.000000 seconds"), gin(20, "10.5s"),
        golog(60, "routes.go:86", "changing loaded model"),
        golog(60.1, "llama.go:310", "starting llama runner"),
        golog(60.2, "llama.go:320", "llama runner exited with error: signal: killed"), loader(60.3, "qwen2.5-coder:7b"),
        golog(63, "llama.go:362", "llama runner started in 2.900000 seconds"),
    ])
    assert [s[0:5] for s in sessions(pts)] == [("gemma3:12b", 10, 60, "evicted", "eviction_log"),
                                               ("qwen2.5-coder:7b", 60.1, 63, "", "")]
    assert sessions(pts)[1][6] is True


def test_in_process_server_era_b():
    # Story (v0.1.25, slog): the load runs in-process, from "Loading Dynamic llm server" to "Starting llama main
    # loop" (no duration logged: the lines' gap is the load time).
    pts, _ = run([
        slog(10, "Loading Dynamic llm server: /tmp/ollama1/cuda_v11/libext_server.so"),
        slog(10.2, "Initializing llama server"), loader(10.3, "gemma3:12b", colon=False),
        slog(13.5, "Starting llama main loop"), gin(15, "5.5s"),
    ])
    (load,) = [p for p in pts if p.measurement == "ollama_load"]
    assert (load.tags["model"], load.fields["load_s"], load.fields["blob"]) == ("gemma3:12b", 3.5, BLOBS["gemma3:12b"])
    assert requests(pts)[0][2:] == ("gemma3:12b", "triggered_load")
