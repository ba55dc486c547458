"""What llama.cpp prints while a runner loads a model: the GGUF key/value dump, ``print_info``, CUDA's start,
the tensors and the context. None of it draws anything; it is the bulk of a real journal, which the parsers must
skip fast, so the benchmark journals carry it in realistic amounts.

Each function yields ``(dt_us, line)`` pairs: the gap before the line, then the line. A caller that draws from
the same ``random.Random`` between lines (``bench/gen_journal.py`` does) sees the draws in the order it would
if the lines were written inline: a pair is made only when the caller asks for it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import NamedTuple

Lines = Iterator[tuple[int, str]]


class Model(NamedTuple):
    """A model as its GGUF describes it (what the dumps print), and what it is used for."""

    name: str
    arch: str
    engine: str  # "ollama": the Ollama engine (--ollama-engine), "llama": llama.cpp
    layers: int
    tensors: int
    ftype: str
    size_gib: float
    params: str
    ctx_train: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_vocab: int
    kind: str  # "chat" or "embed"


def kv_dump(m: Model, path: str, rng: random.Random) -> Lines:
    """``llama_model_loader``'s metadata dump."""
    arch, params, ctx, vocab = m.arch, m.params, m.ctx_train, m.n_vocab
    kvs = [
        ("general.architecture", "str", arch), ("general.type", "str", "model"),
        ("general.name", "str", m.name.split(":")[0].title()), ("general.finetune", "str", "Instruct"),
        ("general.basename", "str", m.name.split(":")[0]), ("general.size_label", "str", params.replace(" ", "")),
        ("general.license", "str", "apache-2.0"), ("general.tags", "arr[str,2]", '["chat", "text-generation"]'),
        ("general.languages", "arr[str,1]", '["en"]'),
        (f"{arch}.block_count", "u32", str(m.layers)), (f"{arch}.context_length", "u32", str(ctx)),
        (f"{arch}.embedding_length", "u32", str(m.n_embd)), (f"{arch}.feed_forward_length", "u32", str(m.n_ff)),
        (f"{arch}.attention.head_count", "u32", str(m.n_head)),
        (f"{arch}.attention.head_count_kv", "u32", str(m.n_head_kv)),
        (f"{arch}.rope.freq_base", "f32", "500000.000000"),
        (f"{arch}.attention.layer_norm_rms_epsilon", "f32", "0.000010"),
        ("general.file_type", "u32", "15"), (f"{arch}.vocab_size", "u32", str(vocab)),
        (f"{arch}.rope.dimension_count", "u32", "128"),
        ("tokenizer.ggml.model", "str", "gpt2"), ("tokenizer.ggml.pre", "str", arch),
        ("tokenizer.ggml.tokens", f"arr[str,{vocab}]", '["!", "\\"", "#", "$", "%", "&", "\'", ...'),
        ("tokenizer.ggml.token_type", f"arr[i32,{vocab}]", "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ..."),
        ("tokenizer.ggml.merges", "arr[str,280147]",
         '["\u0120 \u0120", "\u0120 \u0120\u0120\u0120", "\u0120\u0120 \u0120\u0120", "...'),
        ("tokenizer.ggml.bos_token_id", "u32", "128000"), ("tokenizer.ggml.eos_token_id", "u32", "128009"),
        ("tokenizer.ggml.padding_token_id", "u32", "128004"),
        ("tokenizer.chat_template", "str",
         "{{- bos_token }}\\n{%- if custom_tools is defined %}\\n    {%- set tools_in_user..."),
        ("general.quantization_version", "u32", "2"),
    ]
    tensors = m.tensors
    yield (rng.randrange(500, 4000), f"llama_model_loader: loaded meta data with {len(kvs)} key-value pairs "
           f"and {tensors} tensors from {path} (version GGUF V3 (latest))")
    yield 20, "llama_model_loader: Dumping metadata keys/values. Note: KV overrides do not apply in this output."
    for i, (k, t, v) in enumerate(kvs):
        yield rng.randrange(5, 60), f"llama_model_loader: - kv {i:3d}: {k:>42} {t:<16} = {v}"
    yield 10, f"llama_model_loader: - type  f32:  {tensors // 4:3d} tensors"
    yield 10, f"llama_model_loader: - type q4_K:  {tensors // 2:3d} tensors"
    yield 10, f"llama_model_loader: - type q6_K:  {tensors - tensors // 4 - tensors // 2:3d} tensors"


def print_info(m: Model, rng: random.Random, vocab_only: bool) -> Lines:
    """``print_info``: the file, then (unless the load reads only the vocabulary) the hyperparameters."""
    params, ctx, head, head_kv = m.params, m.ctx_train, m.n_head, m.n_head_kv
    yield rng.randrange(20, 200), "print_info: file format = GGUF V3 (latest)"
    yield 10, f"print_info: file type   = {m.ftype}"
    yield 10, (f"print_info: file size   = {m.size_gib:.2f} GiB "
               f"({m.size_gib * 8.59 / max(float(params.split()[0]), 0.1):.2f} BPW)")
    yield rng.randrange(1000, 30000), "load: special tokens cache size = 256"
    yield rng.randrange(1000, 30000), "load: token to piece cache size = 0.7999 MB"
    body = [f"arch             = {m.arch}", f"vocab_only       = {int(vocab_only)}"]
    if not vocab_only:
        body += [
            f"n_ctx_train      = {ctx}", f"n_embd           = {m.n_embd}", f"n_layer          = {m.layers}",
            f"n_head           = {head}", f"n_head_kv        = {head_kv}", "n_rot            = 128",
            "n_swa            = 0", "is_swa_any       = 0", "n_embd_head_k    = 128", "n_embd_head_v    = 128",
            f"n_gqa            = {head // head_kv}", f"n_embd_k_gqa     = {128 * head_kv}",
            f"n_embd_v_gqa     = {128 * head_kv}", "f_norm_eps       = 0.0e+00", "f_norm_rms_eps   = 1.0e-05",
            "f_clamp_kqv      = 0.0e+00", "f_max_alibi_bias = 0.0e+00", "f_logit_scale    = 0.0e+00",
            "f_attn_scale     = 0.0e+00", f"n_ff             = {m.n_ff}", "n_expert         = 0",
            "n_expert_used    = 0", "causal attn      = 1", "pooling type     = 0", "rope type        = 0",
            "rope scaling     = linear", "freq_base_train  = 500000.0", "freq_scale_train = 1",
            f"n_ctx_orig_yarn  = {ctx}", "rope_finetuned   = unknown", f"model type       = {params.split('.')[0]}B",
            f"model params     = {params}",
        ]
    body += [
        f"general.name     = {m.name.split(':')[0].title()}", "vocab type       = BPE",
        f"n_vocab          = {m.n_vocab}", "n_merges         = 280147",
        "BOS token        = 128000 '<|begin_of_text|>'", "EOS token        = 128009 '<|eot_id|>'",
        "EOT token        = 128009 '<|eot_id|>'", "EOM token        = 128008 '<|eom_id|>'",
        "LF token         = 198 '\u010a'", "EOG token        = 128001 '<|end_of_text|>'",
        "EOG token        = 128008 '<|eom_id|>'", "EOG token        = 128009 '<|eot_id|>'", "max token length = 256",
    ]
    for b in body:
        yield rng.randrange(5, 40), "print_info: " + b
    if vocab_only:
        yield rng.randrange(50, 500), "llama_model_load: vocab only - skipping tensors"


def cuda_init(gpu: str, gpu_id: str, lib: str, rng: random.Random) -> Lines:
    """ggml's CUDA start and the backends it loads (from ``lib``, Ollama's library directory)."""
    yield rng.randrange(10_000, 200_000), "ggml_cuda_init: GGML_CUDA_FORCE_MMQ:    no"
    yield 10, "ggml_cuda_init: GGML_CUDA_FORCE_CUBLAS: no"
    yield 10, "ggml_cuda_init: found 1 CUDA devices:"
    yield 10, f"  Device 0: {gpu}, compute capability 8.9, VMM: yes, ID: {gpu_id}"
    yield rng.randrange(100, 5000), f"load_backend: loaded CUDA backend from {lib}/cuda_v12/libggml-cuda.so"
    yield rng.randrange(100, 5000), f"load_backend: loaded CPU backend from {lib}/libggml-cpu-alderlake.so"


def tensors_and_context(m: Model, num_ctx: int, rng: random.Random, new_names: bool) -> Lines:
    """The tensors offloaded, then the context and its KV cache; ``new_names``: llama.cpp as of 2026
    (``llama_kv_cache``, ``sched_reserve``) instead of 2025's (``llama_kv_cache_unified``, ``llama_context``)."""
    layers, size = m.layers, m.size_gib
    kv_mib = 2 * layers * num_ctx * 128 * m.n_head_kv * 2 / 2**20
    yield rng.randrange(1000, 50_000), "load_tensors: loading model tensors, this can take a while... (mmap = true)"
    yield rng.randrange(100, 5000), f"load_tensors: offloading {layers} repeating layers to GPU"
    yield 10, "load_tensors: offloading output layer to GPU"
    yield 10, f"load_tensors: offloaded {layers + 1}/{layers + 1} layers to GPU"
    yield 10, f"load_tensors:        CUDA0 model buffer size = {size * 1024 * 0.94:8.2f} MiB"
    yield 10, f"load_tensors:   CPU_Mapped model buffer size = {size * 1024 * 0.06:8.2f} MiB"
    yield rng.randrange(500_000, 4_000_000), "llama_context: constructing llama_context"
    for line in ("n_seq_max     = 1", f"n_ctx         = {num_ctx}", f"n_ctx_per_seq = {num_ctx}",
                 "n_batch       = 512", "n_ubatch      = 512", "causal_attn   = 1", "flash_attn    = 0",
                 "kv_unified    = false", "freq_base     = 500000.0", "freq_scale    = 1"):
        yield rng.randrange(5, 30), "llama_context: " + line
    if num_ctx < m.ctx_train:
        yield 10, (f"llama_context: n_ctx_per_seq ({num_ctx}) < n_ctx_train ({m.ctx_train}) -- the full capacity "
                   "of the model will not be utilized")
    yield rng.randrange(100, 3000), "llama_context:  CUDA_Host  output buffer size =     0.50 MiB"
    kvname = "llama_kv_cache" if new_names else "llama_kv_cache_unified"
    yield rng.randrange(100, 3000), (f"{kvname}: kv_size = {num_ctx}, type_k = 'f16', type_v = 'f16', "
                                     f"n_layer = {layers}, can_shift = 1, padding = 32")
    yield 10, f"{kvname}:      CUDA0 KV buffer size = {kv_mib:8.2f} MiB"
    yield 10, f"{kvname}: KV self size  = {kv_mib:8.2f} MiB, K (f16): {kv_mib / 2:8.2f} MiB, V (f16): {kv_mib / 2:8.2f} MiB"
    comp = "sched_reserve" if new_names else "llama_context"
    yield rng.randrange(1000, 100_000), f"{comp}:      CUDA0 compute buffer size = {rng.uniform(100, 700):8.2f} MiB"
    yield 10, f"{comp}:  CUDA_Host compute buffer size = {rng.uniform(8, 40):8.2f} MiB"
    yield 10, f"llama_context: graph nodes  = {layers * 34 + 6}"
    yield 10, "llama_context: graph splits = 2"
