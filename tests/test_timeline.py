"""The correlator's truth rules (docs/design.md), one scenario each."""

from .scenario import BLOBS, gin, requests, run, runner_kv, sessions, slog, start_e, started, systemd, us


def test_load_then_requests_then_keep_alive_expiry():
    pts, _ = run([
        slog(0, "server config", env='"map[OLLAMA_KEEP_ALIVE:5m0s OLLAMA_MAX_LOADED_MODELS:0]"'),
        start_e(10, "gemma3:12b"), started(14, 4.0),
        gin(20, "9.5s"),  # started at 10.5 < load start 10? no: 10.5 > 10, so it did not trigger the load
        gin(30, "2.25s"),
        slog(1000, "system memory", total='"30.9 GiB"', free='"25.4 GiB"', free_swap='"2.0 GiB"'),
    ])
    reqs = requests(pts)
    assert [r[2] for r in reqs] == ["gemma3:12b", "gemma3:12b"]
    assert [r[3] for r in reqs] == ["only_loaded", "only_loaded"]
    assert reqs[0][0] == us(20) * 1000 - 9_500_000_000  # the bar starts at end − latency
    assert sessions(pts) == [("gemma3:12b", 10, 330, "keep_alive_expired", "keep_alive_inference", 2, False)]
    unload = [p for p in pts if p.measurement == "ollama_event" and p.tags["kind"] == "unload"]
    assert len(unload) == 1 and unload[0].time_ns == us(330) * 1000


def test_request_that_waited_for_the_load_triggered_it():
    pts, _ = run([start_e(10, "gemma3:12b"), started(14, 4.0), gin(20, "10.5s")])
    assert requests(pts)[0][2:] == ("gemma3:12b", "triggered_load")


def test_series_label_is_name_and_per_request_context():
    pts, _ = run([start_e(10, "gemma3:12b", ctx=8192, parallel=2), started(14, 4.0), gin(20, "1s")])
    (p,) = [p for p in pts if p.measurement == "ollama_request"]
    assert p.tags["series"] == "gemma3:12b (ctx: 4096)"
    (load,) = [p for p in pts if p.measurement == "ollama_load"]
    assert load.fields["load_s"] == 4.0 and load.fields["ctx"] == 4096 and load.time_ns == us(10) * 1000


def test_unknown_blob_is_labelled_by_its_prefix():
    pts, _ = run([start_e(10, "gemma3:12b"), started(14, 4.0)], names=False)
    assert sessions(pts)[0][0] == "sha256:" + BLOBS["gemma3:12b"][:12]


def test_two_models_capability_and_ambiguity():
    pts, _ = run([
        start_e(10, "gemma3:12b"), started(14, 4.0),
        start_e(20, "nomic-embed-text:latest", embedding=True), started(21, 1.0),
        gin(30, "1s", "/api/embed"), gin(31, "1s", "/api/chat"),
        start_e(40, "qwen2.5-coder:7b"), started(44, 4.0),
        gin(50, "1s", "/api/chat"), gin(51, "1s", "/api/embeddings"),
    ])
    assert [r[2:] for r in requests(pts)] == [
        ("nomic-embed-text:latest", "capability"), ("gemma3:12b", "capability"),
        ("", "ambiguous"), ("nomic-embed-text:latest", "capability")]


def test_non_model_endpoints_are_not_attributed():
    pts, _ = run([start_e(10, "gemma3:12b"), started(14, 4.0), gin(20, "16.724µs", "/", "HEAD"),
                  gin(21, "1ms", "/api/tags", "GET")])
    assert [r[2:] for r in requests(pts)] == [("", None), ("", None)]


def test_debug_lines_attribute_and_unload_with_reason():
    pts, _ = run([
        slog(0, "server config", env='"map[OLLAMA_DEBUG:DEBUG OLLAMA_KEEP_ALIVE:5m0s]"'),
        start_e(10, "gemma3:12b"), started(14, 4.0),
        start_e(20, "qwen2.5-coder:7b"), started(24, 4.0),
        gin(30, "1s"), slog(30.001, "after processing request finished event", level="DEBUG", **runner_kv("gemma3:12b"), refCount=0),
        gin(40, "1s"), slog(40.001, "after processing request finished event", level="DEBUG", **runner_kv("qwen2.5-coder:7b", 4077), refCount=0),
        slog(340, "timer expired, expiring to unload", level="DEBUG", **runner_kv("gemma3:12b")),
        slog(340.001, "runner expired event received", level="DEBUG", **runner_kv("gemma3:12b")),
        slog(340.2, "stopping llama server", level="DEBUG", pid=4066),
        slog(341, "sending an unloaded event", level="DEBUG", **runner_kv("gemma3:12b")),
    ], finish=False)
    assert [r[2:] for r in requests(pts)] == [("gemma3:12b", "debug_log"), ("qwen2.5-coder:7b", "debug_log")]
    # the unload begins at the first DEBUG line of the sequence ("timer expired")
    assert sessions(pts)[0] == ("gemma3:12b", 10, 340, "keep_alive_expired", "debug_log", 1, False)
    assert sessions(pts)[1][6] is True  # qwen still loaded


def test_vram_timeout_names_the_evicted_model():
    pts, _ = run([
        start_e(10, "gemma3:12b"), started(14, 4.0), gin(20, "1s"),
        slog(60, "updated VRAM based on existing loaded models", gpu="GPU-1", library="cuda",
             total='"11.8 GiB"', available='"3.1 GiB"'),
        slog(65.2, "gpu VRAM usage didn't recover within timeout", level="WARN", seconds=5.2,
             model=f"/usr/share/ollama/.ollama/models/blobs/sha256-{BLOBS['gemma3:12b']}"),
        start_e(65.3, "qwen2.5-coder:7b"), started(69, 3.7), gin(70, "5s"),
    ])
    s = sessions(pts)
    assert s[0] == ("gemma3:12b", 10, 60, "evicted", "vram_timeout", 1, False)
    assert requests(pts)[-1][2:] == ("qwen2.5-coder:7b", "triggered_load")


def test_vram_arithmetic_finds_an_unnamed_eviction():
    pts, _ = run([
        start_e(10, "gemma3:12b"), started(14, 4.0), gin(20, "1s"),
        start_e(30, "nomic-embed-text:latest", embedding=True), started(31, 1.0), gin(32, "0.5s", "/api/embed"),
        slog(99, "updated VRAM based on existing loaded models", gpu="GPU-1", library="cuda",
             total='"11.8 GiB"', available='"1.0 GiB"'),
        start_e(100, "qwen2.5-coder:7b"),
        slog(100.1, "offload", library="cuda", layers__requested=-1, layers__model=29, layers__offload=29,
             memory__available='"[9.9 GiB]"', memory__required__full='"6.0 GiB"', memory__required__partial='"6.0 GiB"'),
        started(104, 4.0),
    ])
    s = {x[0]: x for x in sessions(pts)}
    # Ollama unloads the idle runner with the shortest keep-alive, then the smallest model path
    victim = min(["gemma3:12b", "nomic-embed-text:latest"], key=lambda n: BLOBS[n])
    other = ({"gemma3:12b", "nomic-embed-text:latest"} - {victim}).pop()
    assert s[victim][2:5] == (100, "evicted", "vram_estimate")
    assert s[other][6] is True


def test_service_restart_ends_every_runner_at_the_stop():
    pts, _ = run([
        start_e(10, "gemma3:12b"), started(14, 4.0), gin(20, "1s"),
        systemd(50, "Stopping ollama.service - Ollama Service..."),
        systemd(50.5, "ollama.service: Deactivated successfully."),
        systemd(50.6, "Stopped ollama.service - Ollama Service."),
        systemd(51, "Started ollama.service - Ollama Service."),
        slog(51.5, "Listening on 127.0.0.1:11434 (version 0.9.6)"),
        start_e(60, "gemma3:12b"), started(63, 3.0), gin(64, "4s"),
    ])
    s = sessions(pts)
    assert s[0] == ("gemma3:12b", 10, 50, "server_restart", "systemd", 1, False)  # it started again
    assert s[1][1] == 60 and s[1][5] == 1


def test_crash_without_systemd_stop_lines_ends_at_the_new_server():
    pts, _ = run([start_e(10, "gemma3:12b"), started(14, 4.0),
                  slog(80, "Listening on 127.0.0.1:11434 (version 0.9.6)")])
    assert sessions(pts)[0][2:5] == (80, "server_restart", "server_start")


def test_a_new_runner_for_the_same_blob_ends_the_old_one():
    pts, _ = run([start_e(10, "gemma3:12b", ctx=2048, parallel=1), started(14, 4.0),
                  start_e(20, "gemma3:12b", ctx=16384, parallel=1), started(24, 4.0)])
    s = sessions(pts)
    assert s[0][2:5] == (20, "reloaded", "new_runner") and s[1][6] is True


def test_eviction_line_without_a_victim_takes_the_one_ollamas_scheduler_would():
    pts, _ = run([
        start_e(10, "gemma3:12b"), started(14, 4.0), gin(15, "1s"),
        start_e(20, "qwen2.5-coder:7b"), started(24, 4.0), gin(25, "1s"),
        slog(30, "llama-server model predicted to exceed available memory, evicting"),
        start_e(31, "nomic-embed-text:latest", embedding=True), started(32, 1.0),
    ])
    s = {x[0]: x for x in sessions(pts)}
    victim = min(["gemma3:12b", "qwen2.5-coder:7b"], key=lambda n: BLOBS[n])
    other = ({"gemma3:12b", "qwen2.5-coder:7b"} - {victim}).pop()
    assert s[victim][2:5] == (30, "evicted", "eviction_log")
    assert s[other][6] is True


def test_max_loaded_models_reached_means_an_eviction():
    pts, _ = run([
        slog(0, "server config", env='"map[OLLAMA_MAX_LOADED_MODELS:1]"'),
        start_e(10, "gemma3:12b"), started(14, 4.0),
        start_e(20, "qwen2.5-coder:7b"), started(24, 4.0),
    ])
    assert sessions(pts)[0][2:5] == (20, "evicted", "max_loaded_models")


def test_a_long_request_keeps_its_model_loaded_past_the_keep_alive():
    pts, _ = run([
        start_e(10, "gemma3:12b"), started(14, 4.0), gin(20, "1s"),
        slog(400, "system memory", total='"30.9 GiB"', free='"25.4 GiB"', free_swap='"2.0 GiB"'),
        gin(1000, "15m0s"),  # started at 100: the model never went idle
    ])
    (s,) = sessions(pts)
    assert s == ("gemma3:12b", 10, 1000, "", "", 2, True)  # still loaded when the input ends
    assert not [p for p in pts if p.measurement == "ollama_event" and p.tags["kind"] == "unload"]
    pts2, _ = run([start_e(10, "gemma3:12b"), started(14, 4.0), gin(20, "1s"), gin(1000, "15m0s"),
                   slog(5000, "system memory", total='"30.9 GiB"', free='"25.4 GiB"', free_swap='"2.0 GiB"')])
    assert sessions(pts2)[0][2:6] == (1300, "keep_alive_expired", "keep_alive_inference", 2)
    unloads = [p.time_ns for p in pts2 if p.measurement == "ollama_event" and p.tags["kind"] == "unload"]
    assert unloads == [us(1300) * 1000]


def test_prompt_truncation_waits_for_its_request_when_two_models_are_loaded():
    pts, _ = run([
        start_e(10, "gemma3:12b"), started(14, 4.0), start_e(20, "nomic-embed-text:latest", embedding=True),
        started(21, 1.0),
        slog(30, "truncating input prompt", level="WARN", limit=4096, prompt=5000, keep=4, new=4096),
        gin(31, "2s", "/api/chat"),
    ])
    (w,) = [p for p in pts if p.measurement == "ollama_event" and p.tags["kind"] == "prompt_truncated"]
    assert w.tags["model"] == "gemma3:12b" and w.fields["limit"] == 4096


def test_template_selection_names_the_session():
    pts, _ = run([start_e(10, "gemma3:12b"), started(14, 4.0),
                  slog(14.05, "template selection", model="registry.ollama.ai/library/my-gemma:latest"),
                  gin(20, "1s")])
    assert requests(pts)[0][2] == "my-gemma:latest"


def test_a_name_learned_after_the_load_does_not_fork_the_series():
    def g_start(t):
        return slog(t, "starting llama-server", cmd='"/usr/lib/ollama/llama-server --model /m/blobs/sha256-'
                    + "ab" * 32 + ' --port 1 --host 127.0.0.1 -c 8192 -np 2"')

    pts, _ = run([g_start(10), slog(14, "llama-server started in 4.00 seconds"),
                  slog(14.04, "template selection", model="registry.ollama.ai/library/new-model:7b"),
                  gin(20, "1s"),
                  slog(30, "sending an unloaded event", level="DEBUG", runner__name="registry.ollama.ai/x/other:1",
                       runner__model="/m/blobs/sha256-" + "ab" * 32)], names=False)
    labels = {(p.measurement, p.tags.get("model")) for p in pts if p.measurement in ("ollama_load", "ollama_session")}
    assert labels == {("ollama_load", "new-model:7b"), ("ollama_session", "new-model:7b")}
    assert {p.tags["series"] for p in pts if p.measurement == "ollama_session"} == {"new-model:7b (ctx: 4096)"}
