"""Several evictions for one load (docs/design.md §5): one victim per eviction line, in the scheduler's own order
(server/sched.go findRunnerToUnload: idle first, then ByDurationAndName), unless DEBUG lines name them.

The expected victims are computed from the story with that rule written out here, not with our code."""

from .scenario import BLOBS, debug, gin, path, run, slog, start_e, start_f, start_g, started

S_5M = 300 * 10**9
FOREVER = 2**63 - 1  # keep_alive -1: Go prints the largest Duration


def scheduler_order(models, keep_alive=None, busy=()):
    """findRunnerToUnload's order for the story's runners: idle first, then keep-alive (as uint64), then path."""
    keep_alive = keep_alive or {}
    return sorted(models, key=lambda m: (m in busy, keep_alive.get(m, S_5M) % 2**64, path(m)))


def ends(pts):
    """model → (end s since T0, reason, evidence, open), from the last write of each session."""
    from .scenario import sessions
    return {m: (end, reason, evidence, open_) for m, _s, end, reason, evidence, _n, open_ in sessions(pts)}


def load_g(t, model, seconds=2.0):
    return [start_g(t, model), slog(t + seconds, f"llama-server started in {seconds:.2f} seconds"),
            slog(t + seconds + 0.01, "template selection", model=f"registry.ollama.ai/library/{model}")]


def exceed(t):
    return slog(t, "llama-server model predicted to exceed available memory, evicting", predicted='"9.1 GiB"',
                predicted_num_ctx=8192, num_batch=512, available='"6.0 GiB"', gpu_free='"6.0 GiB"',
                system_free='"40.0 GiB"', system_limited="false")


THREE = ["gemma3:12b", "qwen2.5-coder:7b", "nomic-embed-text:latest"]


def test_two_eviction_lines_close_two_victims_in_the_scheduler_order():
    # Story (v0.30+): three models loaded (server keep-alive 5m); phi4 needs the room of two: two eviction
    # lines, each unloading one runner (idle, shortest keep-alive, then model path), then one start line.
    lines = [*load_g(10, THREE[0]), *load_g(20, THREE[1]), *load_g(30, THREE[2]),
             exceed(100), exceed(103), *load_g(106, "phi4:latest")]
    got = ends(run(lines)[0])
    first, second, kept = scheduler_order(THREE)
    assert got[first] == (100, "evicted", "eviction_log", False)
    assert got[second] == (103, "evicted", "eviction_log", False)
    assert got[kept][3] is True and got["phi4:latest"][3] is True


def test_debug_lines_name_the_victims_and_no_extra_one_is_closed():
    # Story: the same, with OLLAMA_DEBUG: the scheduler names gemma3:12b, then nomic-embed-text, which is not
    # the path order; each unloads at once. qwen stays loaded.
    lines = [*load_g(10, THREE[0]), *load_g(20, THREE[1], 2.0), *load_g(30, THREE[2], 2.0)]
    for t, victim, pid in [(100, "gemma3:12b", 4066), (103, "nomic-embed-text:latest", 4099)]:
        lines += [exceed(t), debug(t + 0.001, "found an idle runner to unload", victim, pid),
                  debug(t + 0.002, "resetting model to expire immediately to make room", victim, pid, refCount=0),
                  debug(t + 0.2, "sending an unloaded event", victim, pid)]
    lines += load_g(106, "phi4:latest")
    got = ends(run(lines)[0])
    assert got["gemma3:12b"] == (100.001, "evicted", "debug_log", False)
    assert got["nomic-embed-text:latest"] == (103.001, "evicted", "debug_log", False)
    assert got["qwen2.5-coder:7b"][3] is True


def test_era_f_eviction_lines_come_after_the_start_line():
    # Story (v0.13): gemma3:12b and qwen2.5-coder are loaded; phi4's runner starts, then fits only after two
    # evictions ("model requires more memory …", one runner each), then finishes loading.
    lines = [start_e(10, "gemma3:12b"), started(14, 4.0), start_e(20, "qwen2.5-coder:7b"), started(23, 3.0),
             start_f(100, "phi4:latest")]
    for t in (100.5, 106.0):
        lines.append(slog(t, "model requires more memory than is currently available, evicting a model to make space",
                          **{'"loaded layers"': 0}))
    lines.append(started(112, 12.0))
    got = ends(run(lines)[0])
    first, second = scheduler_order(["gemma3:12b", "qwen2.5-coder:7b"])
    assert got[first] == (100.5, "evicted", "eviction_log", False)
    assert got[second] == (106.0, "evicted", "eviction_log", False)


def test_the_runners_own_keep_alive_orders_the_victims():
    # Story (v0.4, DEBUG): each runner's keep-alive is in its "gone idle, adding timer" line: gemma3:12b 1m,
    # qwen2.5-coder forever (keep_alive -1), nomic-embed-text the server's 5m. One eviction (v0.30 wording).
    lines = [*load_g(10, THREE[0]), *load_g(20, THREE[1]), *load_g(30, THREE[2])]
    keep = {"gemma3:12b": "1m0s", "qwen2.5-coder:7b": "2562047h47m16.854775807s", "nomic-embed-text:latest": "5m0s"}
    for i, (m, d) in enumerate(keep.items()):
        lines.append(debug(40 + i, "runner with non-zero duration has gone idle, adding timer", m, 4066 + i, duration=d))
    lines += [exceed(50), *load_g(53, "phi4:latest")]
    got = ends(run(lines, finish=False)[0])
    ns = {"gemma3:12b": 60 * 10**9, "qwen2.5-coder:7b": FOREVER, "nomic-embed-text:latest": S_5M}
    victim = scheduler_order(THREE, keep_alive=ns)[0]
    assert victim == "gemma3:12b"  # its path sorts last of the three: the keep-alive decides
    assert got[victim] == (50, "evicted", "eviction_log", False)
    assert [m for m in THREE if got[m][3]] == [m for m in THREE if m != victim]


def test_a_runner_with_a_request_in_flight_is_not_the_victim():
    # Story (DEBUG): a generate on qwen2.5-coder (first in path order) is running when the eviction comes
    # ("evaluating already loaded" at its start, no "after processing …" yet): the scheduler takes an idle one.
    lines = [*load_g(10, THREE[0]), *load_g(20, THREE[1]), *load_g(30, THREE[2]),
             slog(98, "evaluating already loaded", level="DEBUG", model=path("qwen2.5-coder:7b")),
             exceed(100), *load_g(103, "phi4:latest"),
             gin(110, "12s", "/api/generate"),
             debug(110.001, "after processing request finished event", "qwen2.5-coder:7b", refCount=0)]
    got = ends(run(lines)[0])
    victim = scheduler_order(THREE, busy={"qwen2.5-coder:7b"})[0]
    assert victim != "qwen2.5-coder:7b" and got[victim] == (100, "evicted", "eviction_log", False)
    assert got["qwen2.5-coder:7b"][3] is True


def test_a_vram_timeout_naming_another_runner_moves_the_eviction_to_it():
    # Story (v0.12.3): the eviction line's victim by order would be qwen2.5-coder, but the VRAM-recovery WARN
    # 5.2 s later names gemma3:12b: its unload began at the eviction; qwen stays loaded.
    warn = slog(105.7, "gpu VRAM usage didn't recover within timeout", level="WARN", seconds=5.2,
                runner__name="registry.ollama.ai/library/gemma3:12b", runner__model=path("gemma3:12b"))
    lines = [start_e(10, "gemma3:12b"), started(14, 4.0), start_e(20, "qwen2.5-coder:7b"), started(23, 3.0),
             start_f(100, "phi4:latest"),
             slog(100.5, "model requires more memory than is currently available, evicting a model to make space"),
             warn, started(112, 12.0)]
    assert scheduler_order(["gemma3:12b", "qwen2.5-coder:7b"])[0] == "qwen2.5-coder:7b"
    got = ends(run(lines)[0])
    assert got["gemma3:12b"] == (100.5, "evicted", "vram_timeout", False)
    assert got["qwen2.5-coder:7b"][3] is True
    unloads = [p for p in run(lines)[0] if p.measurement == "ollama_event" and p.tags["kind"] == "unload"]
    assert [p.tags["model"] for p in unloads] == ["gemma3:12b"]  # the wrong guess left no marker


def test_blobs_are_the_paths_order():
    assert sorted(THREE, key=path) == sorted(THREE, key=lambda m: BLOBS[m])
