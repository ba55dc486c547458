"""What the server of each Ollama era prints when it starts, loads a model and unloads one: the part of
``bench/gen_journal.py``'s story that differs by era. The lines' formats are ``testbed.ollamalog`` (Ollama's
own lines) and ``testbed.llamacpp`` (the runner's output during a load)."""

from __future__ import annotations

import hashlib
from datetime import timedelta, timezone

from testbed import ollamalog as ol
from testbed.journalform import Proc
from testbed.llamacpp import Model
from testbed.llamacpp import cuda_init as cuda_lines
from testbed.llamacpp import kv_dump as kv_lines
from testbed.llamacpp import print_info as print_info_lines
from testbed.llamacpp import tensors_and_context as tensor_lines


def blob(name: str) -> str:
    """A model's stand-in blob digest."""
    return hashlib.sha256(name.encode()).hexdigest()


# what differs by era besides the lines: version, time zone, host, GPU, paths
ERAS = {
    "e": dict(version="0.11.4", start="2025-08-04T08:00:00", tz=timezone(timedelta(hours=1)),
              host="j-360", models_dir="/usr/share/ollama/.ollama/models", gpu="NVIDIA GeForce RTX 3060",
              vram_gib=11.6, routes_line=1331, runner_pid_stdout=True),
    "f": dict(version="0.12.3", start="2025-10-06T08:00:00", tz=timezone(timedelta(hours=2)),
              host="ai-lab", models_dir="/usr/share/ollama/.ollama/models", gpu="NVIDIA GeForce RTX 4070 Ti SUPER",
              vram_gib=15.6, routes_line=1475, runner_pid_stdout=True),
    "g": dict(version="0.32.9", start="2026-08-24T08:00:00", tz=timezone.utc,
              host="llm-node1", models_dir="/home/ollama/.ollama/models", gpu="NVIDIA GeForce RTX 4090",
              vram_gib=23.5, routes_line=1933, runner_pid_stdout=False),
}


class EraLines:
    """Mixed into ``gen_journal.Gen``: uses its ``rng``, ``cfg``, ``era``, clock ``t``, ``loaded`` models,
    ``gpu_id``, ``models_dir`` and its writers ``slog``, ``noise`` and ``new_runner``."""

    def startup(self) -> None:
        rng, c, era = self.rng, self.cfg, self.era
        mdir = self.models_dir
        origins = ("[http://localhost https://localhost http://localhost:* https://localhost:* http://127.0.0.1 "
                   "https://127.0.0.1 http://127.0.0.1:* https://127.0.0.1:* http://0.0.0.0 https://0.0.0.0 "
                   "http://0.0.0.0:* https://0.0.0.0:* app://* file://* tauri://* vscode-webview://* vscode-file://*]")
        env = ol.env_map({
            **dict.fromkeys(("CUDA_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "HIP_VISIBLE_DEVICES", "HSA_OVERRIDE_GFX_VERSION",
                             "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "OLLAMA_KV_CACHE_TYPE", "OLLAMA_LLM_LIBRARY",
                             "ROCR_VISIBLE_DEVICES", "http_proxy", "https_proxy", "no_proxy"), ""),
            "OLLAMA_CONTEXT_LENGTH": 8192 if era == "g" else 4096, "OLLAMA_DEBUG": "INFO",
            "OLLAMA_FLASH_ATTENTION": "false", "OLLAMA_GPU_OVERHEAD": 0, "OLLAMA_HOST": "http://0.0.0.0:11434",
            "OLLAMA_INTEL_GPU": "false", "OLLAMA_KEEP_ALIVE": "5m0s", "OLLAMA_LOAD_TIMEOUT": "5m0s",
            "OLLAMA_MAX_LOADED_MODELS": 0, "OLLAMA_MAX_QUEUE": 512, "OLLAMA_MODELS": mdir,
            "OLLAMA_MULTIUSER_CACHE": "false", "OLLAMA_NEW_ENGINE": "false", "OLLAMA_NOHISTORY": "false",
            "OLLAMA_NOPRUNE": "false", "OLLAMA_NUM_PARALLEL": 1, "OLLAMA_ORIGINS": origins,
            "OLLAMA_SCHED_SPREAD": "false"})
        self.slog(rng.randrange(20_000, 90_000), "INFO", f"routes.go:{c['routes_line']}",
                  ol.quoted_msg("server config") + ol.attrs(env=f'"{env}"'))
        self.slog(rng.randrange(100, 3000), "INFO", "images.go:477", f'"total blobs: {rng.randrange(20, 60)}"')
        self.slog(rng.randrange(100, 3000), "INFO", "images.go:484", '"total unused blobs removed: 0"')
        if era == "g":
            self.slog(rng.randrange(100, 3000), "INFO", "routes.go:1988", '"Ollama cloud disabled: false"')
        self.slog(rng.randrange(100, 3000), "INFO", f"routes.go:{c['routes_line'] + 53}",
                  ol.quoted_msg(ol.listening("[::]:11434", c["version"])))
        vram = c["vram_gib"]
        if era == "e":
            self.slog(rng.randrange(100, 3000), "INFO", "gpu.go:217", '"looking for compatible GPUs"')
            self.slog(rng.randrange(200_000, 900_000), "INFO", "types.go:130",
                      f'"inference compute" id={self.gpu_id} library=cuda variant=v12 compute=8.6 driver=12.8 '
                      f'name="{c["gpu"]}" total="{vram:.1f} GiB" available="{vram - 0.2:.1f} GiB"')
        else:
            self.slog(rng.randrange(100, 3000), "INFO", "runner.go:80", '"discovering available GPUs..."')
            lib, extra = ("CUDA", "")
            self.slog(rng.randrange(200_000, 900_000), "INFO", "types.go:42",
                      f'"inference compute" id={self.gpu_id}{extra} library={lib} compute=8.9 name=CUDA0 '
                      f'description="{c["gpu"]}" libdirs=ollama,cuda_v12 driver=12.8 pci_id=0000:01:00.0 '
                      f'type=discrete total="{vram:.1f} GiB" available="{vram - 0.4:.1f} GiB"')
            if era == "g":
                self.slog(rng.randrange(100, 3000), "INFO", "routes.go:2033",
                          '"vram-based default context" total_vram="23.5 GiB" default_num_ctx=32768')

    # --- llama.cpp output during a load (testbed/llamacpp.py) -----------------------------

    def lines(self, pairs, proc: Proc | None) -> None:
        for dt, line in pairs:
            self.noise(dt, line, proc)

    def kv_dump(self, m: Model, proc: Proc | None) -> None:
        self.lines(kv_lines(m, ol.blob_path(self.models_dir, blob(m.name)), self.rng), proc)

    def print_info(self, m: Model, proc: Proc | None, vocab_only: bool) -> None:
        self.lines(print_info_lines(m, self.rng, vocab_only), proc)

    def cuda_init(self, proc: Proc | None) -> None:
        lib = "/usr/lib/ollama" if self.era == "g" else "/usr/local/lib/ollama"
        self.lines(cuda_lines(self.cfg["gpu"], self.gpu_id, lib, self.rng), proc)

    def tensors_and_context(self, m: Model, num_ctx: int, proc: Proc | None) -> None:
        self.lines(tensor_lines(m, num_ctx, self.rng, new_names=self.era == "g"), proc)

    # --- one model load, per era ----------------------------------------------------------

    def starting(self, cmd: str) -> str:
        """The era's line that starts a runner, with its command line."""
        return ol.quoted_msg(ol.STARTING[self.era]) + ol.attrs(cmd=f'"{cmd}"')

    def load(self, m: Model) -> float:
        """Emit a load of model m; returns its duration in seconds (for the first request's latency)."""
        rng, c, era = self.rng, self.cfg, self.era
        name, arch, eng, layers, tensors, ftype, size, params, ctx, embd, head, head_kv, ff, vocab, kind = m
        path = ol.blob_path(self.models_dir, blob(name))
        num_ctx = 2048 if kind == "embed" else rng.choice([4096, 4096, 8192, 16384])
        port = self.port_base + rng.randrange(10000)
        vram = c["vram_gib"]
        used = sum(x.size_gib * 1.25 for x in self.loaded)
        t0 = self.t
        self.slog(rng.randrange(5_000, 200_000), "INFO", "server.go:135" if era == "e" else "server.go:215",
                  f'"system memory" total="62.7 GiB" free="{rng.uniform(30, 55):.1f} GiB" free_swap="8.0 GiB"')
        if era != "e":
            self.slog(rng.randrange(50, 2000), "INFO", "server.go:222",
                      f'"gpu memory" id={self.gpu_id} library=CUDA available="{vram - used - 0.5:.1f} GiB" '
                      f'free="{vram - used:.1f} GiB" minimum="457.0 MiB" overhead="0 B"')
        if self.loaded and era != "g":
            self.slog(rng.randrange(50, 2000), "INFO", "sched.go:546" if era == "e" else "sched.go:612",
                      f'"updated VRAM based on existing loaded models" gpu={self.gpu_id} library=cuda '
                      f'total="{vram:.1f} GiB" available="{vram - used:.1f} GiB"')
        if era == "e":
            self.kv_dump(m, None)
            self.print_info(m, None, vocab_only=True)
            req = size * 1.2 + num_ctx / 4096 * 0.5
            self.slog(rng.randrange(1000, 40_000), "INFO", "server.go:175",
                      f"offload library=cuda layers.requested=-1 layers.model={layers + 1} layers.offload={layers + 1} "
                      f'layers.split="" memory.available="[{vram - used:.1f} GiB]" memory.gpu_overhead="0 B" '
                      f'memory.required.full="{ol.human_gib(req)}" memory.required.partial="{ol.human_gib(req)}" '
                      f'memory.required.kv="{ol.human_gib(num_ctx / 8192)}" memory.required.allocations="[{ol.human_gib(req)}]" '
                      f'memory.weights.total="{ol.human_gib(size)}" memory.weights.repeating="{ol.human_gib(size * 0.9)}" '
                      f'memory.weights.nonrepeating="{ol.human_gib(size * 0.1)}" memory.graph.full="{ol.human_gib(0.3)}" '
                      f'memory.graph.partial="{ol.human_gib(0.5)}"')
            cmd = ol.runner_cmd_e(path, num_ctx, 1, port, gpu_layers=layers + 1, engine=eng == "ollama")
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:438", self.starting(cmd))
            runner = self.new_runner(cmd)
            self.slog(rng.randrange(100, 3000), "INFO", "sched.go:481", f'"loaded runners" count={len(self.loaded) + 1}')
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:598", '"waiting for llama runner to start responding"')
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:632",
                      '"waiting for server to become available" status="llm server not responding"')
            if eng == "ollama":
                self.slog(rng.randrange(5000, 50_000), "INFO", "runner.go:925", '"starting ollama engine"')
                self.slog(rng.randrange(100, 3000), "INFO", "runner.go:983", f'"Server listening on 127.0.0.1:{port}"')
                self.slog(rng.randrange(100, 3000), "INFO", "ggml.go:92",
                          f'"" architecture={arch} file_type=Q4_K_M name={name.split(":")[0].title()} '
                          f'description="" num_tensors={tensors} num_key_values=36')
                self.cuda_init(runner)
                self.slog(rng.randrange(100, 3000), "INFO", "ggml.go:104",
                          "system CPU.0.SSE3=1 CPU.0.SSSE3=1 CPU.0.AVX=1 CPU.0.AVX_VNNI=1 CPU.0.AVX2=1 "
                          "CPU.0.F16C=1 CPU.0.FMA=1 CPU.0.BMI2=1 CPU.0.LLAMAFILE=1 CPU.1.LLAMAFILE=1 "
                          "CUDA.0.ARCHS=500,600,610,700,750,800,860,870,890,900,1200 CUDA.0.USE_GRAPHS=1 "
                          "CUDA.0.PEER_MAX_BATCH_SIZE=128 compiler=cgo(gcc)", kind="noise")
                self.slog(rng.randrange(100, 30000), "INFO", "ggml.go:365",
                          f'"model weights" buffer=CUDA0 size="{ol.human_gib(size * 0.94)}"')
                self.slog(10, "INFO", "ggml.go:365", f'"model weights" buffer=CPU size="{ol.human_gib(size * 0.06)}"')
                self.slog(rng.randrange(100_000, 3_000_000), "INFO", "ggml.go:719",
                          f'"compute graph" backend=CUDA0 buffer_type=CUDA0 size="{ol.human_gib(0.3)}"')
                self.slog(10, "INFO", "ggml.go:719", f'"compute graph" backend=CPU buffer_type=CUDA_Host size="{ol.human_gib(0.02)}"')
            else:
                self.slog(rng.randrange(5000, 50_000), "INFO", "runner.go:815", '"starting go runner"')
                self.cuda_init(runner)
                self.slog(rng.randrange(100, 3000), "INFO", "ggml.go:104",
                          "system CPU.0.SSE3=1 CPU.0.SSSE3=1 CPU.0.AVX=1 CPU.0.AVX2=1 CPU.0.F16C=1 "
                          "CPU.0.FMA=1 CPU.0.BMI2=1 CUDA.0.ARCHS=500,600,610,700,750,800,860,870,890,900,1200 "
                          "compiler=cgo(gcc)")
                self.slog(rng.randrange(100, 3000), "INFO", "runner.go:874", f'"Server listening on 127.0.0.1:{port}"')
                self.noise(rng.randrange(100, 3000), f"llama_model_load_from_file_impl: using device CUDA0 ({c['gpu']}) "
                           f"- {int((vram - used) * 1024)} MiB free")
                self.kv_dump(m, None)
                self.print_info(m, None, vocab_only=False)
                self.tensors_and_context(m, num_ctx, runner)
            secs = (self.t - t0) / 1e6 + rng.uniform(0.5, 6)
            self.t += int(rng.uniform(0.3, 3) * 1e6)
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:637", ol.quoted_msg(ol.started(secs)))
        elif era == "f":
            cmd = ol.runner_cmd_f(path, port, engine=eng == "ollama")
            if eng != "ollama":
                self.kv_dump(m, None)
                self.print_info(m, None, vocab_only=True)
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:400", self.starting(cmd))
            runner = self.new_runner(cmd)
            self.slog(rng.randrange(5000, 50_000), "INFO", "runner.go:1252",
                      '"starting ollama engine"' if eng == "ollama" else '"starting go runner"')
            self.slog(rng.randrange(100, 3000), "INFO", "runner.go:1288", f'"Server listening on 127.0.0.1:{port}"')
            gl = f"{layers + 1}[ID:{self.gpu_id} Layers:{layers + 1}(0..{layers})]"
            for i, op in enumerate(("fit", "alloc", "commit")):
                self.slog(rng.randrange(1000, 300_000), "INFO", "runner.go:1222",
                          f'load request="{{Operation:{op} LoraPath:[] Parallel:1 BatchSize:512 FlashAttention:false '
                          f'KvSize:{num_ctx} KvCacheType: NumThreads:8 GPULayers:{gl} MultiUserCache:false '
                          f'ProjectorPath: MainGPU:0 UseMmap:false}}"')
                if i == 0:
                    if eng == "ollama":
                        self.slog(rng.randrange(100, 3000), "INFO", "ggml.go:131",
                                  f'"" architecture={arch} file_type=Q4_K_M name={name.split(":")[0].title()} '
                                  f'description="" num_tensors={tensors} num_key_values=36')
                        self.cuda_init(runner)
                    else:
                        self.cuda_init(runner)
                        self.noise(rng.randrange(100, 3000), f"llama_model_load_from_file_impl: using device CUDA0 "
                                   f"({c['gpu']}) - {int((vram - used) * 1024)} MiB free")
                        self.kv_dump(m, None)
                        self.print_info(m, None, vocab_only=False)
                if i == 2 and eng != "ollama":
                    self.tensors_and_context(m, num_ctx, runner)
            kv = 2 * layers * num_ctx * 128 * head_kv * 2 / 2**30
            self.slog(rng.randrange(100, 3000), "INFO", "device.go:212", f'"model weights" device=CUDA0 size="{ol.human_gib(size * 0.94)}"')
            self.slog(10, "INFO", "device.go:217", f'"model weights" device=CPU size="{ol.human_gib(size * 0.06)}"')
            self.slog(10, "INFO", "device.go:223", f'"kv cache" device=CUDA0 size="{ol.human_gib(kv)}"')
            self.slog(10, "INFO", "device.go:234", f'"compute graph" device=CUDA0 size="{ol.human_gib(0.3)}"')
            self.slog(10, "INFO", "device.go:239", f'"compute graph" device=CPU size="{ol.human_gib(0.02)}"')
            self.slog(10, "INFO", "device.go:244", f'"total memory" size="{ol.human_gib(size + kv + 0.32)}"')
            self.slog(rng.randrange(100, 3000), "INFO", "sched.go:480", f'"loaded runners" count={len(self.loaded) + 1}')
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:1236", '"waiting for llama runner to start responding"')
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:1270",
                      '"waiting for server to become available" status="llm server loading model"')
            secs = (self.t - t0) / 1e6 + rng.uniform(0.5, 6)
            self.t += int(rng.uniform(0.3, 3) * 1e6)
            self.slog(rng.randrange(100, 3000), "INFO", "server.go:1274", ol.quoted_msg(ol.started(secs)))
        else:
            fits = "fits alongside existing models" if self.loaded else "fits alongside existing models"
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:842",
                      f'"llama-server model {fits}" predicted="{ol.human_gib(size * 1.2)}" predicted_num_ctx={num_ctx} '
                      f'num_batch=512 available="{ol.human_gib(vram - used)}" gpu_free="{ol.human_gib(vram - used)}" '
                      f'system_free="{rng.uniform(30, 55):.1f} GiB" system_limited=false')
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:360", f'"loading model via llama-server" model={path}')
            cmd = ol.runner_cmd_g(path, port, num_ctx, 1, " --no-log-prefix --no-log-timestamps --flash-attn auto "
                                  "-b 512 -ub 512" + (" --embedding" if kind == "embed" else " --context-shift --keep 4"))
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:431", self.starting(cmd))
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:1230", '"waiting for llama-server to start responding"')
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:1262",
                      '"waiting for llama-server to become available" status="llm server loading model"')
            self.noise(rng.randrange(20_000, 200_000), "build: 6512 (d5c8a1f2) with cc (GCC) 11.2.1 20220127 "
                       "(Red Hat 11.2.1-9) for x86_64-redhat-linux")
            self.noise(100, "system info: n_threads = 8, n_threads_batch = 8, total_threads = 16")
            self.noise(100, "system_info: n_threads = 8 (n_threads_batch = 8) / 16 | CUDA : ARCHS = "
                       "500,610,700,750,800,860,890,1200 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | CPU : SSE3 = 1 | "
                       "SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | LLAMAFILE = 1 | "
                       "OPENMP = 1 | REPACK = 1 |")
            self.noise(100, "main: binding port with default address family")
            self.noise(100, f"main: HTTP server is listening, hostname: 127.0.0.1, port: {port}, http threads: 15")
            self.noise(100, "main: loading model")
            self.noise(100, f"srv    load_model: loading model '{path}'")
            self.cuda_init(None)
            self.noise(rng.randrange(100, 3000), f"llama_model_load_from_file_impl: using device CUDA0 ({c['gpu']}) "
                       f"(0000:01:00.0) - {int((vram - used) * 1024)} MiB free")
            self.kv_dump(m, None)
            self.print_info(m, None, vocab_only=False)
            self.tensors_and_context(m, num_ctx, None)
            self.noise(rng.randrange(100, 3000), "common_init_from_params: added <|end_of_text|> logit bias = -inf")
            self.noise(10, f"common_init_from_params: setting dry_penalty_last_n to ctx_size = {num_ctx}")
            self.noise(10, "common_init_from_params: warming up the model with an empty run - please wait ... "
                       "(--no-warmup to disable)")
            self.noise(rng.randrange(10_000, 300_000), "srv          init: initializing slots, n_slots = 1")
            self.noise(100, f"slot         init: id  0 | task -1 | new slot n_ctx_slot = {num_ctx}")
            self.noise(100, "main: model loaded")
            self.noise(100, "main: chat template, chat_template: {%- for message in messages -%}..., example_format: "
                       "'<|im_start|>system\\nYou are a helpful assistant<|im_end|>\\n<|im_start|>user\\nHello<|im_end|>'")
            self.noise(100, f"main: server is listening on http://127.0.0.1:{port} - starting the main loop")
            self.noise(100, "srv  update_slots: all slots are idle")
            secs = (self.t - t0) / 1e6 + rng.uniform(0.5, 6)
            self.t += int(rng.uniform(0.3, 3) * 1e6)
            self.slog(rng.randrange(100, 3000), "INFO", "llama_server.go:1274", ol.quoted_msg(ol.started(secs, "g")))
            self.slog(rng.randrange(100, 3000), "INFO", "sched.go:519", f'"loaded runners" count={len(self.loaded) + 1}')
            self.slog(rng.randrange(100, 3000), "INFO", "images.go:373",
                      f'"template selection" model=registry.ollama.ai/library/{name} selected=renderer '
                      f'renderer={arch} parser={arch} go_template=false chat_template=true harmony=false '
                      f'renderer_parser=true')
        self.loaded.append(m)
        return (self.t - t0) / 1e6

    def unload_one(self) -> None:
        """Unloads are silent at INFO; up to v0.12.5 a slow VRAM recovery leaves a WARN."""
        m = self.loaded.pop(0)
        if self.era != "g" and self.rng.random() < 0.15:
            size = f'"{ol.human_gib(m.size_gib * 1.25)}"'
            who = {"runner__name": f"registry.ollama.ai/library/{m.name}", "runner__inference": "cuda",
                   "runner__devices": 1, "runner__size": size, "runner__vram": size, "runner__parallel": 1,
                   "runner__pid": self.next_pid, "runner__model": ol.blob_path(self.models_dir, blob(m.name)),
                   "runner__num_ctx": 4096}
            self.slog(self.rng.randrange(5_000_000, 6_000_000), "WARN", "sched.go:687",
                      ol.quoted_msg("gpu VRAM usage didn't recover within timeout")
                      + ol.attrs(seconds=f"{self.rng.uniform(5.0, 5.4):.8f}", **who))
