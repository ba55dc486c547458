"""Messages seen in real logs that the first parsers missed (issue 10 point 4): the 2023 Go-log era, later
eviction and load-decision wordings, DEBUG scheduler lines, old systemd, caret-notation colours, cut lines,
bytes that are not UTF-8. Lines marked [real] are verbatim from the thread named; [constructed] ones are
built from the format string in Ollama's source (tag named)."""

import pytest

from ollama_ingest import events as ev
from ollama_ingest.parse import ParseStats, interesting, parse_entry
from ollama_ingest.schema.point import Point
from ollama_ingest.sinks.lineprotocol import to_line

from .helpers import entry, parse_one

BLOB_1703 = "2af3b81862c6be03c769683af18efdadb2c33f60ff32ab6f83e42c043d6c7816"


# -- the 2023 Go-log era (v0.0.19–v0.1.20) -------------------------------------------------------------
def test_golog_listening_without_version_real():
    # [real] issue 630 (Oct 2023, ≤ v0.1.3)
    e = parse_one("2023/10/06 13:38:58 routes.go:572: Listening on 127.0.0.1:11434")
    assert isinstance(e, ev.ServerListening) and (e.address, e.version) == ("127.0.0.1:11434", None)


def test_golog_listening_with_version():
    # [constructed] v0.1.17 routes.go: log.Printf("Listening on %s (version %s)", …)
    e = parse_one("2023/12/15 15:33:10 routes.go:895: Listening on 127.0.0.1:11434 (version 0.1.17)")
    assert (e.address, e.version) == ("127.0.0.1:11434", "0.1.17")


def test_golog_load_start_failure_and_retry_real():
    # [real] issue 630: the GPU runner dies while loading, Ollama retries the next runner
    st = ParseStats()
    lines = ["2023/10/06 15:01:18 llama.go:239: 4096 MiB VRAM available, loading up to 32 GPU layers",
             "2023/10/06 15:01:18 llama.go:313: starting llama runner",
             "2023/10/06 15:01:18 llama.go:349: waiting for llama runner to start responding",
             "2023/10/06 15:01:20 llama.go:323: llama runner exited with error: signal: illegal instruction",
             "2023/10/06 15:03:18 llama.go:330: error starting llama runner: llama runner did not start "
             "within alloted time, retrying"]
    out = [parse_entry(entry(line), st) for line in lines]
    assert [len(o) for o in out] == [0, 1, 0, 1, 1] and not st.skipped and st.ignored == 2
    start, stopped, failed = out[1][0], out[3][0], out[4][0]
    assert isinstance(start, ev.RunnerStart) and (start.variant, start.blob) == ("llama runner", None)
    assert isinstance(stopped, ev.RunnerStopped) and stopped.error == "signal: illegal instruction"
    assert isinstance(failed, ev.Warning_) and (failed.what, failed.message) == ("load_failed", "error starting llama runner")
    assert failed.error == "llama runner did not start within alloted time, retrying"


def test_golog_runner_stopped_real():
    # [real] issue 1703 (Dec 2023, v0.1.1x)
    st = ParseStats()
    a = parse_entry(entry("2023/12/24 23:48:35 llama.go:459: error starting llama runner: llama runner process "
                          "has terminated"), st)
    b = parse_entry(entry("2023/12/24 23:48:35 llama.go:525: llama runner stopped successfully"), st)
    assert a[0].what == "load_failed" and a[0].error == "llama runner process has terminated"
    assert isinstance(b[0], ev.RunnerStopped) and (b[0].message, b[0].error) == ("llama runner stopped", None)


def test_golog_llama_cpp_server_wording_real():
    # [real] issue 458 (Sep 2023, v0.0.x: the subprocess was "llama.cpp server")
    e = parse_one("2023/09/04 18:31:32 ggml_llama.go:295: error starting llama.cpp server: error starting the "
                  "external llama.cpp server: fork/exec /tmp/llama-2755348604/server: no such file or directory")
    assert e.what == "load_failed" and e.error.startswith("error starting the external llama.cpp server")


@pytest.mark.parametrize("line,seconds", [
    ("2023/12/03 14:58:42 llama.go:492: llama runner started in 9.200880 seconds", 9.20088),  # formats file
    ("2023/09/01 10:00:00 llama.go:322: llama.cpp server started in 2.500000 seconds", 2.5),  # [constructed] v0.0.19
])
def test_golog_load_finished(line, seconds):
    e = parse_one(line)
    assert isinstance(e, ev.LoadFinished) and e.seconds == seconds


def test_golog_model_change_and_ext_server():
    # [constructed] v0.1.17 routes.go log.Println("changing loaded model"); v0.1.18 shim_ext_server.go and
    # ext_server_common.go: the in-process server of v0.1.18–v0.1.20
    assert isinstance(parse_one("2023/12/20 10:00:00 routes.go:105: changing loaded model"), ev.ModelChange)
    start = parse_one("2024/01/05 10:00:00 shim_ext_server.go:92: Loading Dynamic Shim llm server: "
                      "/tmp/ollama123/cuda/libext_server.so")
    assert (start.variant, start.blob, start.program) == ("ext server", None, "/tmp/ollama123/cuda/libext_server.so")
    ready = parse_one("2024/01/05 10:00:03 ext_server_common.go:151: Starting internal llama main loop")
    assert isinstance(ready, ev.LoadFinished) and ready.seconds is None


def test_slog_ext_server_era_b():
    # [constructed] v0.1.25 dyn_ext_server.go: slog.Info(fmt.Sprintf("Loading Dynamic llm server: %s", …)),
    # slog.Info("Starting llama main loop"); routes.go slog.Info("changing loaded model")
    start = parse_one('time=2024-02-20T10:00:00.000+01:00 level=INFO source=dyn_ext_server.go:90 '
                      'msg="Loading Dynamic llm server: /tmp/ollama1/cuda_v11/libext_server.so"')
    assert start.variant == "ext server"
    ready = parse_one('time=2024-02-20T10:00:04.000+01:00 level=INFO source=dyn_ext_server.go:156 '
                      'msg="Starting llama main loop"')
    assert ready.seconds is None
    assert isinstance(parse_one('time=2024-02-20T10:05:00.000+01:00 level=INFO source=routes.go:78 '
                                'msg="changing loaded model"'), ev.ModelChange)


def test_model_loader_line_names_the_blob():
    # [constructed] llama.cpp llama_model_loader (real prefix in issue 6985, whose path the paste cut)
    line = ("llama_model_loader: loaded meta data with 19 key-value pairs and 291 tensors from "
            f"/usr/share/ollama/.ollama/models/blobs/sha256:{BLOB_1703} (version GGUF V3 (latest))")
    assert interesting(line.encode())
    e = parse_one(line)
    assert isinstance(e, ev.ModelFile) and e.blob == BLOB_1703
    st = ParseStats()  # [real] issue 6985: cut before the blob: noise, not a skip
    assert parse_entry(entry("llama_model_loader: loaded meta data with 39 key-value pairs and 272 tensors "
                             "from /usr/share/ollama…"), st) == () and st.noise == 1


# -- load decisions, runner counts, evictions -----------------------------------------------------------
def test_load_decision_names_the_blob_real():
    # [real] eleiton/ollama-intel-arc issue 24 (ipex-llm build of v0.9.3)
    e = parse_one('time=2025-07-25T06:04:30.850+08:00 level=INFO source=sched.go:788 msg="new model will fit in '
                  'available VRAM in single GPU, loading" model=/root/.ollama/models/blobs/sha256-2af3b81862c6be03c'
                  '769683af18efdadb2c33f60ff32ab6f83e42c043d6c7816 gpu=0 parallel=2 available=6064544153 '
                  'required="967.0 MiB"')
    assert isinstance(e, ev.LoadDecision) and e.blob == BLOB_1703 and not e.after_start


def test_debug_first_model_windows_path_real():
    # [real] issue 6148 (v0.3.x, Windows, DEBUG): an unquoted Windows path
    e = parse_one(r"time=2024-08-04T06:18:50.451 level=DEBUG source=sched.go:219 msg=" + '"loading first model" '
                  r"model=C:\Users\<username>\.ollama\models\blobs\sha256-ff1d1fc78170d787ee1201778e2dd65ea211654ca5fb"
                  r"7d69b5a2e7b123a50373")
    assert e.blob == "ff1d1fc78170d787ee1201778e2dd65ea211654ca5fb7d69b5a2e7b123a50373"


def test_llama_server_decisions():
    # [constructed] v0.32.15 llm/server.go and llm/llama_server.go
    before = parse_one('time=2026-08-29T08:45:23.460Z level=INFO source=server.go:109 msg="using llama-server for '
                       f'model" model=/home/ollama/.ollama/models/blobs/sha256-{BLOB_1703}')
    after = parse_one('time=2026-08-29T08:45:23.470Z level=INFO source=llama_server.go:1048 msg="loading model via '
                      f'llama-server" model=/home/ollama/.ollama/models/blobs/sha256-{BLOB_1703}')
    assert (before.after_start, after.after_start) == (False, True)


def test_runner_start_windows_path_real():
    # [real] issue 12027 (v0.11.x, Windows): the quoted cmd doubles the backslashes
    e = parse_one(r'time=2025-08-24T08:31:04.381Z level=INFO source=server.go:383 msg="starting runner" '
                  r'cmd="C:\\Users\\ksh.IRONSOFTWARE\\AppData\\Local\\Programs\\Ollama\\ollama.exe runner '
                  r'--ollama-engine --model O:\\models\\blobs\\sha256-657cef1d1ae3ab8b8c58622a8b01b12e364ebfc6777d2'
                  r'3964edaa1b20ac979b8 --port 56277"')
    assert e.blob == "657cef1d1ae3ab8b8c58622a8b01b12e364ebfc6777d23964edaa1b20ac979b8"


def test_loaded_runners_count_real():
    # [real] issue 12027 (formats file)
    e = parse_one('time=2025-08-24T08:26:00.310Z level=INFO source=sched.go:473 msg="loaded runners" count=1')
    assert isinstance(e, ev.RunnersCount) and e.count == 1


@pytest.mark.parametrize("line", [
    # [real] issue 13227 (v0.13.0)
    'time=2025-11-24T13:55:06.999Z level=INFO source=server.go:974 msg="model requires more memory than is '
    'currently available, evicting a model to make space" "loaded layers"=0',
    # [constructed] v0.13.1–v0.24.0 llm/server.go verifyLayout
    'time=2026-01-10T10:00:00.000Z level=INFO source=server.go:1018 msg="model requires more gpu memory than is '
    'currently available, evicting a model to make space" "loaded layers"=12',
    'time=2026-01-10T10:00:00.000Z level=INFO source=server.go:1023 msg="model requires more system memory than is '
    'currently available, evicting a model to make space" required=9000000000 free=4000000000',
])
def test_eviction_wordings(line):
    e = parse_one(line)
    assert isinstance(e, ev.Eviction) and e.what == "make_space"


# -- DEBUG scheduler lines ---------------------------------------------------------------------------------
def test_debug_setup_idle_timer_real():
    # [real] issue 7766 (v0.4.x): after the load, the runner's keep-alive in "duration="
    st = ParseStats()
    path = "/usr/share/ollama/.ollama/models/blobs/sha256-dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff"
    ready, idle = (parse_entry(entry(line), st)[0] for line in [
        f'time=2024-11-21T06:14:48.644Z level=DEBUG source=sched.go:462 msg="finished setting up runner" model={path}',
        'time=2024-11-21T06:14:48.644Z level=DEBUG source=sched.go:339 msg="runner with non-zero duration has gone '
        f'idle, adding timer" modelPath={path} duration=5m0s'])
    assert (ready.step, ready.blob) == ("ready", path[-64:])
    assert (idle.step, idle.duration_ns) == ("idle", 300 * 10**9)


def test_debug_evaluating_already_loaded_and_forever_keep_alive_real():
    # [real] issue 7773 (v0.4.x, Windows): keep-alive -1 prints as the largest Go duration
    st = ParseStats()
    path = r"C:\Users\me\.ollama\models\blobs\sha256-d7e4b00a7d7a8d03d4eed9b0f3f61a427e9f0fc5dea6aeb414e41dee23dc8ecc"
    idle, start = (parse_entry(entry(line), st)[0] for line in [
        'time=2024-11-20T21:26:14.779-05:00 level=DEBUG source=sched.go:339 msg="runner with non-zero duration has '
        f'gone idle, adding timer" modelPath={path} duration=2562047h47m16.854775807s',
        f'time=2024-11-20T21:26:53.535-05:00 level=DEBUG source=sched.go:575 msg="evaluating already loaded" model={path}'])
    assert idle.duration_ns == 2**63 - 1 and (start.step, start.blob) == ("request_start", path[-64:])


def test_debug_named_victim_v030_real():
    # [real] issue 18123 (v0.32.9): the victim's runner.* keys (up to runner.pid; the paste cut runner.model)
    e = parse_one('time=2026-08-29T08:45:22.735Z level=DEBUG source=sched.go:1686 msg="found an idle runner to '
                  'unload" runner.name=registry.ollama.ai/library/embeddinggemma:latest runner.inference="[{ID:0 '
                  'Library:Vulkan}]" runner.size="641.8 MiB" runner.vram="641.8 MiB" runner.parallel=1 runner.pid=79')
    assert (e.step, e.runner_name, e.runner_pid, e.parallel) == ("evict", "embeddinggemma:latest", 79, 1)


# -- systemd, colours, cut lines, bytes ---------------------------------------------------------------------
def test_systemd_before_v248_succeeded_real():
    # [real] issue 10930 (journalctl of a systemd before v248)
    e = parse_one("ollama.service: Succeeded.", pid=1, ident="systemd")
    assert e.action == "deactivated"


def test_gin_colours_in_caret_notation():
    # as `less`/a terminal copy shows ESC: the two characters ^ and [ ([constructed] from gin's colour codes)
    e = parse_one('[GIN] 2024/10/08 - 20:16:09 |^[[97;42m 200 ^[[0m|      16.724µs |             ::1 |'
                  '^[[97;46m POST    ^[[0m "/api/chat"')
    assert (e.status, e.method, e.path, e.latency_ns) == (200, "POST", "/api/chat", 16_724)


def test_hard_wrapped_server_config_is_a_counted_skip_real():
    # [real] issue 11744 (v0.11.3): the terminal wrapped the env map; its second half is another line
    st = ParseStats()
    head = ('time=2025-09-24T08:27:48.098+03:00 level=INFO source=routes.go:1331 msg="server config" env="map['
            "CUDA_VISIBLE_DEVICES: OLLAMA_KEEP_ALIVE:1h0m0s OLLAMA_ORIGINS:[http://localhost app://* vscode")
    assert parse_entry(entry(head), st) == ()
    assert parse_entry(entry('-file://*] OLLAMA_SCHED_SPREAD:false ROCR_VISIBLE_DEVICES: no_proxy:]"'), st) == ()
    assert dict(st.skipped) == {"server_config: cut short (hard-wrapped or cut line)": 1} and st.noise == 1
    # [real] issue 9509 (Go-log form, v0.5.x), cut the same way
    st = ParseStats()
    assert parse_entry(entry('2025/03/05 06:19:02 routes.go:1215: INFO server config env="map[OLLAMA_KEEP_ALIVE:5m0s '
                             "OLLAMA_SCHED_SPREAD:false ROCR_VISIBLE_DEVICES: http_p"), st) == ()
    assert dict(st.skipped) == {"golog: cut short (hard-wrapped or cut line)": 1}


def test_non_utf8_bytes_are_kept_exactly_real():
    # [real] intel/ipex-llm issue 13161: Go quoted a byte that is not UTF-8 as \xc0; it is not "À" (U+00C0)
    e = parse_one('time=2025-05-18T14:37:09.271+10:00 level=INFO source=types.go:130 msg="inference compute" id=0 '
                  'library=oneapi variant="" compute="" driver=0.0 name="\\xc0" total="11.8 GiB" available="9.5 GiB"')
    assert e.name == "\\xc0"
    line = to_line(Point("ollama_vram", {"host": "h", "gpu": "0"}, {"name": e.name}, 1))
    assert line == 'ollama_vram,gpu=0,host=h name="\\\\xc0" 1'  # the four characters, escaped for line protocol
    # the same byte raw in a MESSAGE (a journal keeps it as bytes) reads the same way
    raw = parse_one(b'time=2025-05-18T14:37:09.271+10:00 level=INFO source=x.go:1 msg="inference compute" id=0 '
                    b'name=\xc0 total="11.8 GiB"')
    assert raw.name == "\\xc0"
