"""Every message kind, with lines as real Ollama prints them ([real] lines from the formats file)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ollama_ingest import events as ev
from ollama_ingest.entry import make_entry
from ollama_ingest.parse import ParseStats, parse_entry
from ollama_ingest.parse.gin import parse_gin

from .helpers import entry, parse_one

BLOB_E = "e8ad13eff07a78d89926e9e8b882317d082ef5bf9768ad7b50fcdbbcd63748de"
BLOB_G = "4c27e0f5b5adf02ac956c7322bd2ee7636fe3f45a8512c9aba5385242cb6e09a"


# -- [GIN] ------------------------------------------------------------------------------------
@pytest.mark.parametrize("line,status,latency_ns,client,method,path", [
    # [real] v0.3.x minutes form, issue 8387
    ('[GIN] 2024/12/11 - 09:58:58 | 500 |        29m59s |      10.0.0.123 | POST     "/api/chat"',
     500, 1_799_000_000_000, "10.0.0.123", "POST", "/api/chat"),
    ('[GIN] 2024/12/12 - 00:40:39 | 500 |  4.709180529s |      10.0.0.123 | POST     "/api/chat"',
     500, 4_709_180_529, "10.0.0.123", "POST", "/api/chat"),
    # [real] issue 7130: µs (U+00B5), IPv6 client, GET with 6 spaces
    ('[GIN] 2024/10/08 - 20:16:09 | 200 |      16.724µs |             ::1 | GET      "/"',
     200, 16_724, "::1", "GET", "/"),
    # [real] issue 12027, v0.11.5
    ('[GIN] 2025/08/24 - 08:26:19 | 200 |   40.5837591s |    192.168.1.17 | POST     "/api/generate"',
     200, 40_583_759_100, "192.168.1.17", "POST", "/api/generate"),
    # the formats file's example
    ('[GIN] 2025/07/23 - 21:47:10 | 200 | 16.608743461s |      172.17.0.3 | POST     "/api/chat"',
     200, 16_608_743_461, "172.17.0.3", "POST", "/api/chat"),
    # OPTIONS leaves 2 spaces (real, issue 5938); ns; query string kept
    ('[GIN] 2024/05/07 - 06:59:38 | 204 |         789ns |       127.0.0.1 | OPTIONS  "/api/chat"',
     204, 789, "127.0.0.1", "OPTIONS", "/api/chat"),
    ('[GIN] 2024/05/07 - 06:59:38 | 404 |     704.668383ms | 2001:db8:85a3::8a2e:370:7334 | GET      "/x?a=\\"b\\"&c=d"',
     404, 704_668_383, "2001:db8:85a3::8a2e:370:7334", "GET", '/x?a="b"&c=d'),
    ('[GIN] 2024/05/07 - 06:59:38 | 200 |            0s |       127.0.0.1 | HEAD     "/"',
     200, 0, "127.0.0.1", "HEAD", "/"),
    ('[GIN] 2024/05/07 - 06:59:38 | 200 |        1h2m3s |       127.0.0.1 | DELETE   "/api/delete"',
     200, 3_723_000_000_000, "127.0.0.1", "DELETE", "/api/delete"),
])
def test_gin(line, status, latency_ns, client, method, path):
    e = parse_one(line, ts_us=1_734_000_000_123_456)
    assert isinstance(e, ev.GinRequest)
    assert (e.status, e.latency_ns, e.client, e.method, e.path) == (status, latency_ns, client, method, path)
    assert e.end_ns == 1_734_000_000_123_456_000
    assert e.start_ns == 1_734_000_000_123_456_000 - latency_ns


def test_gin_with_colours_as_a_terminal_prints_them():
    line = ('[GIN] 2024/10/08 - 20:16:09 |\x1b[97;42m 200 \x1b[0m|      16.724µs |             ::1 |'
            '\x1b[97;44m GET     \x1b[0m "/api/tags"')
    e = parse_one(line)
    assert (e.status, e.method, e.path, e.latency_ns) == (200, "GET", "/api/tags", 16_724)


def test_gin_debug_lines_are_noise_not_requests():
    st = ParseStats()
    assert parse_entry(entry("[GIN-debug] POST   /api/chat --> github.com/ollama/ollama/server.(*Server).ChatHandler-fm (5 handlers)"), st) == ()
    assert st.noise == 1 and not st.skipped


def test_broken_gin_line_is_a_counted_skip():
    st = ParseStats()
    assert parse_entry(entry('[GIN] 2024/10/08 - 20:16:09 | 200 |   16.7xx |  ::1 | GET "/"'), st) == ()
    assert sum(st.skipped.values()) == 1


# -- runner start, three variants ---------------------------------------------------------------
def test_runner_start_era_e_real():
    # [real] v0.11.4, issue 11819
    e = parse_one('time=2025-08-08T23:02:37.187+01:00 level=INFO source=server.go:438 msg="starting llama server" '
                  'cmd="/usr/local/bin/ollama runner --ollama-engine --model /usr/share/ollama/.ollama/models/'
                  f'blobs/sha256-{BLOB_E} --ctx-size 2048 --batch-size 512 --n-gpu-layers 49 --threads 6 '
                  '--parallel 1 --port 39041"')
    assert isinstance(e, ev.RunnerStart)
    assert (e.variant, e.blob, e.ctx_size, e.batch_size, e.gpu_layers, e.threads, e.parallel, e.port) == (
        "llama server", BLOB_E, 2048, 512, 49, 6, 1, 39041)
    assert e.program == "/usr/local/bin/ollama" and e.ollama_engine


def test_runner_start_era_c_extracted_payload():
    e = parse_one('time=2024-09-26T18:08:31.326+02:00 level=INFO source=server.go:388 msg="starting llama server" '
                  'cmd="/tmp/ollama1234/runners/cuda_v11/ollama_llama_server --model /usr/share/ollama/.ollama/'
                  f'models/blobs/sha256-{BLOB_E} --ctx-size 8192 --batch-size 512 --embedding --log-disable '
                  '--n-gpu-layers 33 --parallel 4 --port 46259"')
    assert e.program.endswith("ollama_llama_server")
    assert (e.ctx_size, e.parallel, e.embedding) == (8192, 4, True)


def test_runner_start_era_f_has_only_model_and_port():
    e = parse_one('time=2025-10-01T10:00:00.000+02:00 level=INFO source=server.go:400 msg="starting runner" '
                  f'cmd="/usr/local/bin/ollama runner --ollama-engine --model /usr/share/ollama/.ollama/models/blobs/sha256-{BLOB_E} --port 41234"')
    assert (e.variant, e.blob, e.port, e.ctx_size, e.parallel) == ("runner", BLOB_E, 41234, None, None)


def test_runner_start_era_g_real():
    # [real] v0.32.9, issue 18123
    e = parse_one('time=2026-08-29T08:45:23.466Z level=INFO source=llama_server.go:431 msg="starting llama-server" '
                  f'cmd="/usr/lib/ollama/llama-server --model /home/ollama/.ollama/models/blobs/sha256-{BLOB_G} '
                  '--port 36183 --host 127.0.0.1 --no-webui --offline -c 131072 -np 1 --log-verbosity 4 '
                  '--no-log-prefix --no-log-timestamps --no-jinja --chat-template chatml --mmproj '
                  f'/home/ollama/.ollama/models/blobs/sha256-{BLOB_G} --flash-attn auto -b 512 -ub 512 --context-shift --keep 4"')
    assert (e.variant, e.blob, e.ctx_size, e.parallel, e.batch_size, e.port) == (
        "llama-server", BLOB_G, 131072, 1, 512, 36183)


def test_runner_load_request_era_f():
    e = parse_one('time=2025-10-01T10:00:01.000+02:00 level=INFO source=runner.go:1222 msg=load request="{Operation:commit '
                  'LoraPath:[] Parallel:1 BatchSize:512 FlashAttention:Auto KvSize:8192 KvCacheType: NumThreads:8 '
                  'GPULayers:29[ID:GPU-452cac9f Layers:29(0..28)] MultiUserCache:false ProjectorPath: MainGPU:0 UseMmap:false}"')
    assert (e.operation, e.parallel, e.kv_size, e.threads, e.gpu_layers) == ("commit", 1, 8192, 8, 29)


@pytest.mark.parametrize("line,seconds", [
    ('time=2025-08-24T08:26:08.833Z level=INFO source=server.go:1272 msg="llama runner started in 9.16 seconds"', 9.16),
    ('time=2026-08-01T07:01:18.675Z level=INFO source=llama_server.go:1274 msg="llama-server started in 5.42 seconds"', 5.42),
    ("2023/12/03 14:58:42 llama.go:492: llama runner started in 9.200880 seconds", 9.20088),
])
def test_load_finished_both_wordings_and_era_a(line, seconds):
    e = parse_one(line)
    assert isinstance(e, ev.LoadFinished) and e.seconds == seconds


# -- memory ------------------------------------------------------------------------------------
def test_offload_real():
    e = parse_one('time=2025-08-08T23:02:37.187+01:00 level=INFO source=server.go:175 msg=offload library=cuda '
                  'layers.requested=49 layers.model=49 layers.offload=48 layers.split="" memory.available="[10.9 GiB]" '
                  'memory.gpu_overhead="0 B" memory.required.full="11.0 GiB" memory.required.partial="8.5 GiB" '
                  'memory.required.kv="608.0 MiB" memory.required.allocations="[8.5 GiB]" memory.weights.total="6.8 GiB" '
                  'memory.weights.repeating="6.0 GiB" memory.weights.nonrepeating="787.5 MiB" memory.graph.full="519.5 MiB" '
                  'memory.graph.partial="1.3 GiB" projector.weights="795.9 MiB" projector.graph="1.0 GiB"')
    assert isinstance(e, ev.Offload)
    assert e.library == "cuda" and (e.layers_requested, e.layers_model, e.layers_offload) == (49, 49, 48)
    assert e.required_full_bytes == 11 * 2**30 and e.required_kv_bytes == 608 * 2**20
    assert e.memory_available_bytes == [int(10.9 * 2**30)]


def test_offload_to_library_old_form():
    e = parse_one('time=2024-07-01T10:00:00.000Z level=INFO source=memory.go:309 msg="offload to cuda" '
                  'layers.requested=-1 layers.model=33 layers.offload=33 layers.split="" memory.available="[7.7 GiB]" '
                  'memory.required.full="5.4 GiB" memory.required.partial="5.4 GiB" memory.required.kv="256.0 MiB"')
    assert e.library == "cuda" and e.layers_offload == 33


@pytest.mark.parametrize("line,part,device,size", [
    ('time=2025-08-24T08:26:00.300Z level=INFO source=backend.go:342 msg="total memory" size="5.4 GiB"',
     "total", None, int(5.4 * 2**30)),
    ('time=2025-08-24T08:26:00.300Z level=INFO source=device.go:245 msg="model weights" device=CUDA0 size="4.1 GiB"',
     "weights", "CUDA0", int(4.1 * 2**30)),
    ('time=2025-08-24T08:26:00.300Z level=INFO source=ggml.go:486 msg="model weights" buffer=CUDA0 size="11.5 GiB"',
     "weights", "CUDA0", int(11.5 * 2**30)),
    ('time=2025-08-24T08:26:00.300Z level=INFO source=device.go:256 msg="kv cache" device=CUDA0 size="608.0 MiB"',
     "kv_cache", "CUDA0", 608 * 2**20),
    ('time=2025-08-24T08:26:00.300Z level=INFO source=device.go:267 msg="compute graph" device=CPU size="0 B"',
     "graph", "CPU", 0),
])
def test_memory_parts(line, part, device, size):
    e = parse_one(line)
    assert (e.part, e.device, e.size_bytes) == (part, device, size)


def test_system_memory_real():
    e = parse_one('time=2025-08-08T23:02:37.145+01:00 level=INFO source=server.go:135 msg="system memory" '
                  'total="30.9 GiB" free="25.4 GiB" free_swap="2.0 GiB"')
    assert e.total_bytes == int(30.9 * 2**30) and e.free_swap_bytes == 2 * 2**30


def test_updated_vram():
    e = parse_one('time=2025-07-22T23:27:19.500+03:00 level=INFO source=sched.go:788 msg="updated VRAM based on '
                  'existing loaded models" gpu=GPU-452cac9f-6960-839c-4fb3-0cec83699196 library=cuda '
                  'total="11.8 GiB" available="3.1 GiB"')
    assert (e.gpu, e.library, e.total_bytes, e.available_bytes) == (
        "GPU-452cac9f-6960-839c-4fb3-0cec83699196", "cuda", int(11.8 * 2**30), int(3.1 * 2**30))


@pytest.mark.parametrize("line,gpu,library,total", [
    # [real] Ollama's own test fixture, v0.3.7–v0.12.3 (variant)
    ('time=2025-01-01T00:00:00.000Z level=INFO source=types.go:130 msg="inference compute" '
     'id=GPU-452cac9f-6960-839c-4fb3-0cec83699196 library=cuda variant=v12 compute=6.1 driver=12.7 '
     'name="NVIDIA GeForce GT 1030" total="3.9 GiB" available="3.9 GiB"',
     "GPU-452cac9f-6960-839c-4fb3-0cec83699196", "cuda", int(3.9 * 2**30)),
    # [real] CPU-only, v0.12.4+, issue 16970
    ('time=2026-01-01T00:00:00.000Z level=INFO source=types.go:60 msg="inference compute" id=cpu library=cpu '
     'compute="" name=cpu description=cpu libdirs=ollama driver="" pci_id="" type="" total="15.8 GiB" available="6.1 GiB"',
     "cpu", "cpu", int(15.8 * 2**30)),
])
def test_inference_compute(line, gpu, library, total):
    e = parse_one(line)
    assert (e.gpu, e.library, e.total_bytes) == (gpu, library, total)


# -- warnings and errors ---------------------------------------------------------------------------
def test_vram_timeout_model_key_real():
    # [real] eleiton/ollama-intel-arc#17 (blob shortened in the issue; a full one here)
    e = parse_one("time=2025-03-01T10:00:00.000Z level=WARN source=sched.go:647 msg=\"gpu VRAM usage didn't recover "
                  f"within timeout\" seconds=5.26432203 model=/root/.ollama/models/blobs/sha256-{BLOB_E}")
    assert isinstance(e, ev.VramTimeout) and e.seconds == 5.26432203 and e.blob == BLOB_E


def test_vram_timeout_runner_keys():
    e = parse_one("time=2025-07-23T00:10:05.123+03:00 level=WARN source=sched.go:687 msg=\"gpu VRAM usage didn't "
                  "recover within timeout\" seconds=5.034 runner.name=registry.ollama.ai/library/gemma3:12b "
                  'runner.inference=cuda runner.devices=1 runner.size="11.0 GiB" runner.vram="8.5 GiB" '
                  f"runner.parallel=1 runner.pid=4066 runner.model=/usr/share/ollama/.ollama/models/blobs/sha256-{BLOB_E} "
                  "runner.num_ctx=8192")
    assert e.blob == BLOB_E and e.runner_name == "registry.ollama.ai/library/gemma3:12b"


def test_vram_timeout_seconds_only_era():
    e = parse_one("time=2024-05-01T10:00:00.000Z level=WARN source=sched.go:512 msg=\"gpu VRAM usage didn't recover "
                  "within timeout\" seconds=5.0031")
    assert e.seconds == 5.0031 and e.blob is None


@pytest.mark.parametrize("line,keep,new", [
    ('time=2025-07-22T23:30:00.000+03:00 level=WARN source=runner.go:131 msg="truncating input prompt" limit=8192 prompt=9001 keep=4 new=8192', 4, 8192),
    ('time=2024-11-01T10:00:00.000Z level=WARN source=runner.go:122 msg="truncating input prompt" limit=2048 prompt=2500 numKeep=5', 5, None),
])
def test_prompt_truncation_both_key_forms(line, keep, new):
    e = parse_one(line)
    assert isinstance(e, ev.PromptTruncated) and e.keep == keep and e.new == new and e.limit in (8192, 2048)


@pytest.mark.parametrize("msg,what", [
    ("client connection closed before server finished loading, aborting load", "client_aborted"),
    ("client connection closed before llama-server finished loading, aborting load", "client_aborted"),
    ("model request too large for system", "model_too_large"),
    ("llama runner terminated", "runner_terminated"),
    ("llama-server terminated", "runner_terminated"),
    ("error loading llama server", "load_failed"),
    ("runtime OOM detected; expiring loaded models to clear memory before next request", "runtime_oom"),
])
def test_warnings(msg, what):
    e = parse_one(f'time=2025-01-01T00:00:00.000Z level=ERROR source=server.go:1 msg="{msg}" error="signal: killed"')
    assert isinstance(e, ev.Warning_) and e.what == what and e.error == "signal: killed"


@pytest.mark.parametrize("msg,what,count", [
    ("llama-server model predicted to exceed available memory, evicting", "predicted_exceed", None),
    ("evicting all other loaded models for OOM retry", "evict_all_oom_retry", 2),
    ("llama-server load failed; evicting all other models and retrying once", "load_failed_retry", None),
    ("model requires more system memory than is currently available, evicting a model to make space", "make_space", None),
])
def test_evictions(msg, what, count):
    extra = " count=2" if count else ""
    e = parse_one(f'time=2026-08-01T07:01:10.000Z level=INFO source=sched.go:1 msg="{msg}"{extra}')
    assert isinstance(e, ev.Eviction) and e.what == what and e.count == count


def test_template_selection_names_the_model():
    e = parse_one('time=2026-08-01T07:01:18.718Z level=INFO source=images.go:373 msg="template selection" '
                  'model=registry.ollama.ai/library/gemma3:12b selected=renderer renderer=gemma3 parser=gemma3 '
                  'go_template=false chat_template=false harmony=false renderer_parser=true')
    assert e.model_name == "gemma3:12b"


# -- DEBUG unload lines ----------------------------------------------------------------------------
def test_debug_timer_expired_modelpath_real():
    # [real] issue 7130
    e = parse_one('time=2024-10-08T21:19:05.555Z level=DEBUG source=sched.go:341 msg="timer expired, expiring to unload" '
                  'modelPath=/root/.ollama/models/blobs/sha256-819c2adf5ce6df2b6bd2ae4ca90d2a69f060afeb438d0c171db57daa02e39c3d')
    assert e.step == "expired" and e.blob == "819c2adf5ce6df2b6bd2ae4ca90d2a69f060afeb438d0c171db57daa02e39c3d"


def test_debug_runner_expired_real_runner_keys():
    # [real] issue 17902
    e = parse_one('time=2026-08-21T01:52:04.741+03:00 level=DEBUG source=sched.go:415 msg="runner expired event received" '
                  'runner.name=registry.ollama.ai/library/qwen3.8:27b-mlx runner.size="16.9 GiB" runner.vram="16.9 GiB" '
                  'runner.parallel=1 runner.pid=46638 runner.model=digest:5642e97495e1a088883805981563dcdc4a040c2f53388b7a41d1f24d3622cf7e '
                  'runner.num_ctx=250000')
    assert (e.step, e.runner_name, e.runner_pid, e.blob) == ("expired", "qwen3.8:27b-mlx", 46638, None)


def test_debug_unloaded_event():
    e = parse_one('time=2025-07-23T00:10:00.100+03:00 level=DEBUG source=sched.go:380 msg="sending an unloaded event" '
                  'runner.name=registry.ollama.ai/library/gemma3:12b runner.inference=cuda runner.devices=1 '
                  f'runner.size="11.0 GiB" runner.vram="8.5 GiB" runner.parallel=1 runner.pid=4066 runner.model=/usr/share/ollama/.ollama/models/blobs/sha256-{BLOB_E} runner.num_ctx=8192')
    assert (e.step, e.blob, e.runner_name) == ("unloaded", BLOB_E, "gemma3:12b")


# -- server start and config ------------------------------------------------------------------------
def test_server_config_golog_real():
    # [real] issue 6408 (map shortened)
    e = parse_one('2024/08/19 14:09:56 routes.go:1123: INFO server config env="map[CUDA_VISIBLE_DEVICES: '
                  'OLLAMA_DEBUG:false OLLAMA_FLASH_ATTENTION:false OLLAMA_HOST:http://0.0.0.0:11434 '
                  'OLLAMA_KEEP_ALIVE:5m0s OLLAMA_MAX_LOADED_MODELS:0 OLLAMA_MAX_QUEUE:512 '
                  'OLLAMA_MODELS:/usr/share/ollama/.ollama/models OLLAMA_NUM_PARALLEL:0 '
                  'OLLAMA_ORIGINS:[http://localhost https://localhost http://127.0.0.1] OLLAMA_TMPDIR:]"')
    assert isinstance(e, ev.ServerConfig)
    assert e.keep_alive_ns == 300_000_000_000 and e.max_loaded_models == 0 and e.num_parallel == 0
    assert e.models_dir == "/usr/share/ollama/.ollama/models"
    assert e.env["OLLAMA_ORIGINS"] == "[http://localhost https://localhost http://127.0.0.1]"
    assert e.env["OLLAMA_TMPDIR"] == "" and e.debug == "false"


def test_server_config_slog_real():
    # [real] v0.32.9, issue 18123 (map shortened)
    e = parse_one('time=2026-08-29T08:43:10.276Z level=INFO source=routes.go:1933 msg="server config" '
                  'env="map[CUDA_VISIBLE_DEVICES: GGML_VK_VISIBLE_DEVICES: OLLAMA_DEBUG:DEBUG OLLAMA_KEEP_ALIVE:5m0s '
                  'OLLAMA_LOAD_TIMEOUT:5m0s OLLAMA_MAX_LOADED_MODELS:0 OLLAMA_MODELS:/home/ollama/.ollama/models '
                  'OLLAMA_NUM_PARALLEL:1]"')
    assert (e.debug, e.num_parallel, e.models_dir) == ("DEBUG", 1, "/home/ollama/.ollama/models")


def test_server_config_negative_keep_alive():
    e = parse_one('time=2026-08-29T08:43:10.276Z level=INFO source=routes.go:1 msg="server config" '
                  'env="map[OLLAMA_KEEP_ALIVE:2562047h47m16.854775807s]"')
    assert e.keep_alive_ns == 9_223_372_036_854_775_807


def test_listening():
    e = parse_one('time=2024-08-19T14:09:56.123Z level=INFO source=routes.go:1170 msg="Listening on 127.0.0.1:11434 (version 0.3.5)"')
    assert (e.address, e.version) == ("127.0.0.1:11434", "0.3.5")
    e = parse_one('time=2024-08-19T14:09:56.123Z level=INFO source=routes.go:1170 msg="Listening on [::]:11434 (version 0.32.9)"')
    assert (e.address, e.version) == ("[::]:11434", "0.32.9")


@pytest.mark.parametrize("msg,action", [
    ("Started ollama.service - Ollama Service.", "started"),
    ("Started Ollama Service.", "started"),
    ("Stopping ollama.service - Ollama Service...", "stopping"),
    ("Stopped ollama.service - Ollama Service.", "stopped"),
    ("ollama.service: Main process exited, code=killed, status=9/KILL", "exited"),
    ("ollama.service: Scheduled restart job, restart counter is at 1.", "restart_scheduled"),
    ("ollama.service: Deactivated successfully.", "deactivated"),
    ("ollama.service: Failed with result 'exit-code'.", "failed"),
])
def test_systemd_lines(msg, action):
    e = parse_one(msg, pid=1, ident="systemd")
    assert isinstance(e, ev.SystemdUnit) and e.action == action


def test_noise_is_cheap_and_counted():
    st = ParseStats()
    for line in ["llama_model_loader: - kv   0: general.architecture str = gemma3", "....................",
                 "goroutine 1 [running]:", "  Device 0: NVIDIA GeForce RTX 3060, compute capability 8.6",
                 'INFO [main] HTTP server listening | hostname="127.0.0.1" n_threads_http="6" port="46259"',
                 "srv  update_slots: all slots are idle", ""]:
        assert parse_entry(entry(line), st) == ()
    assert st.noise == 7 and st.events == 0


def test_known_but_uninteresting_slog_lines_are_ignored_not_skipped():
    st = ParseStats()
    # [real] v0.11.5, issue 12027
    parse_entry(entry('time=2025-08-24T08:26:00.310Z level=INFO source=server.go:1234 '
                      'msg="waiting for llama runner to start responding"'), st)
    assert st.ignored == 1 and not st.skipped


def test_invalid_utf8_message_does_not_raise():
    st = ParseStats()
    parse_entry(entry(b"time=2025 level=INFO msg=\"\xff\xfe\" x=1"), st)
    assert st.entries == 1


@given(st.text(st.sampled_from('/ab?=é"\\\n\t') | st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_gin_path_is_any_go_quoted_text(path):
    """Gin quotes the path as Go's %q does: whatever it holds, the parser gives it back as it was."""
    quoted = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") \
        .replace("\t", "\\t")
    line = f'[GIN] 2025/08/04 - 08:00:07 | 200 |     103.784µs |       127.0.0.1 | GET      "{quoted}"'
    assert parse_gin(make_entry(1, line), line).path == path
