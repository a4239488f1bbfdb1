"""Which llama-server flags and environment variables a model configuration may use: a reviewed allowlist.

Every flag of the built llama-server's `--help` is listed here under a category, keyed by its first long
spelling (the catalog maps '-c', '--ctx_size' and friends to '--ctx-size'). A category is either allowed
or refused with the reason a person reads ("--mcp-servers-json is not allowed: it runs programs or
tools"). A flag a newer llama-server adds is in no category, and so refused as "not reviewed" until
someone reads its help and adds it here; tests/security/test_flag_review.py prints such flags.
Reviewed against llama-server from llama.cpp's 11434 source (`--version`: 0.6.0-dev).
"""

from __future__ import annotations

from enum import Enum

NOT_REVIEWED = "it has not been reviewed for ModelDeck yet"


class FlagCategory(Enum):
    """(label, why it is refused); None: allowed."""

    SAMPLING = ("sampling", None)
    CONTEXT = ("context and batching", None)
    THREADS = ("threads and CPU placement", None)
    KV_CACHE = ("KV cache and prompt cache", None)
    ROPE = ("RoPE and YaRN", None)
    SPECULATIVE = ("speculative decoding", None)
    SLOTS = ("slots and parallel requests", None)
    GPU = ("GPU offload and split", None)
    MEMORY = ("memory and loading", None)
    CHAT = ("chat template and reasoning", None)
    MULTIMODAL = ("images and video", None)
    OUTPUT = ("what the server answers", None)
    LOGGING = ("log verbosity", None)
    MODEL_FOLDER_FILES = ("files in the model folders", None)  # each value must lie inside an allowed folder

    FORM_FIELD = ("a field of the form", "it has its own field in the form")
    SET_BY_MODELDECK = ("set by ModelDeck", "ModelDeck sets it itself")
    RUNS_PROGRAMS = ("runs programs", "it runs programs or tools")
    WRITES_FILES = ("writes files", "it writes files")
    READS_FILES = ("reads files", "it reads or serves files outside the model folders")
    DOWNLOADS = ("downloads", "it downloads models or files")
    CONNECTS = ("connects out", "it opens network connections")
    NETWORK_FACE = ("network face", "it changes how the server faces the network (addresses, keys, TLS, CORS, "
                                    "web UI)")
    OTHER_MODELS = ("loads other models", "it loads other models (ModelDeck runs one model per configuration)")
    EXITS = ("prints and exits", "it prints information and exits instead of serving")
    REMOVED = ("removed", "llama-server has removed it")

    def __init__(self, label: str, refusal: str | None) -> None:
        self.label = label
        self.refusal = refusal

    @property
    def allowed(self) -> bool:
        return self.refusal is None


# The form's own fields: an extra argument would silently override what the form shows.
FORM_FIELDS = {
    "--ctx-size": "Context size", "--gpu-layers": "GPU layers", "--threads": "Threads",
    "--batch-size": "Batch size", "--parallel": "Parallel slots", "--flash-attn": "Flash attention",
    "--cache-type-k": "KV cache type K", "--cache-type-v": "KV cache type V",
}

_REVIEWED: dict[FlagCategory, tuple[str, ...]] = {
    FlagCategory.SAMPLING: (
        "--samplers", "--seed", "--sampler-seq", "--ignore-eos", "--temp", "--top-k", "--top-p", "--min-p",
        "--top-nsigma", "--xtc-probability", "--xtc-threshold", "--typical", "--repeat-last-n", "--repeat-penalty",
        "--presence-penalty", "--frequency-penalty", "--dry-multiplier", "--dry-base", "--dry-allowed-length",
        "--dry-penalty-last-n", "--dry-sequence-breaker", "--adaptive-target", "--adaptive-decay",
        "--dynatemp-range", "--dynatemp-exp", "--mirostat", "--mirostat-lr", "--mirostat-ent", "--logit-bias",
        "--grammar", "--json-schema", "--backend-sampling"),
    FlagCategory.CONTEXT: ("--ubatch-size", "--predict", "--keep", "--context-shift", "--escape", "--perf"),
    FlagCategory.THREADS: (
        "--threads-batch", "--cpu-mask", "--cpu-range", "--cpu-strict", "--prio", "--poll", "--cpu-mask-batch",
        "--cpu-range-batch", "--cpu-strict-batch", "--prio-batch", "--poll-batch", "--threads-http"),
    FlagCategory.KV_CACHE: (
        "--swa-full", "--kv-offload", "--defrag-thold", "--kv-unified", "--kv-unified-per-slot",
        "--ctx-checkpoints", "--checkpoint-min-step", "--cache-ram", "--cache-idle-slots", "--cache-prompt",
        "--cache-reuse"),
    FlagCategory.ROPE: (
        "--rope-scaling", "--rope-scale", "--rope-freq-base", "--rope-freq-scale", "--yarn-orig-ctx",
        "--yarn-ext-factor", "--yarn-attn-factor", "--yarn-beta-slow", "--yarn-beta-fast"),
    FlagCategory.SPECULATIVE: (
        "--spec-type", "--spec-draft-n-max", "--spec-draft-n-min", "--spec-draft-p-split", "--spec-draft-p-min",
        "--spec-draft-sampling", "--spec-draft-backend-sampling", "--spec-synth-len", "--spec-synth-rates",
        "--spec-ngram-mod-n-min", "--spec-ngram-mod-n-max", "--spec-ngram-mod-n-match",
        "--spec-ngram-simple-size-n", "--spec-ngram-simple-size-m", "--spec-ngram-simple-min-hits",
        "--spec-ngram-map-k-size-n", "--spec-ngram-map-k-size-m", "--spec-ngram-map-k-min-hits",
        "--spec-ngram-map-k4v-size-n", "--spec-ngram-map-k4v-size-m", "--spec-ngram-map-k4v-min-hits",
        # Numbers for a draft model: inert without one (and --spec-draft-model is refused).
        "--spec-draft-threads", "--spec-draft-threads-batch", "--spec-draft-cpu-mask", "--spec-draft-cpu-range",
        "--spec-draft-cpu-strict", "--spec-draft-prio", "--spec-draft-poll", "--spec-draft-cpu-mask-batch",
        "--spec-draft-cpu-strict-batch", "--spec-draft-prio-batch", "--spec-draft-poll-batch",
        "--spec-draft-override-tensor", "--spec-draft-cpu-moe", "--spec-draft-n-cpu-moe", "--spec-draft-device",
        "--spec-draft-ngl", "--spec-draft-type-k", "--spec-draft-type-v"),
    FlagCategory.SLOTS: ("--cont-batching", "--slot-prompt-similarity", "--sleep-idle-seconds", "--timeout",
                         "--sse-ping-interval", "--warmup"),
    FlagCategory.GPU: (
        "--device", "--override-tensor", "--cpu-moe", "--n-cpu-moe", "--n-cpu-ffn", "--split-mode",
        "--tensor-split", "--main-gpu", "--fit", "--fit-target", "--fit-ctx", "--op-offload", "--no-host",
        "--repack", "--mmproj-offload", "--mmproj-device"),
    FlagCategory.MEMORY: ("--load-mode", "--lazy-mode", "--numa", "--check-tensors", "--override-kv"),
    FlagCategory.CHAT: (
        "--jinja", "--chat-template", "--chat-template-kwargs", "--skip-chat-parsing", "--prefill-assistant",
        "--reasoning-format", "--reasoning", "--reasoning-effort", "--reasoning-budget",
        "--reasoning-budget-message", "--reasoning-preserve", "--reverse-prompt", "--special", "--spm-infill"),
    FlagCategory.MULTIMODAL: ("--mmproj-auto", "--image-min-tokens", "--image-max-tokens",
                              "--mtmd-batch-max-tokens", "--video-fps", "--video-timestamp-interval"),
    FlagCategory.OUTPUT: ("--alias", "--tags", "--embedding", "--rerank", "--pooling", "--embd-normalize",
                          "--offline", "--lora-init-without-apply", "--control-vector-layer-range"),
    FlagCategory.LOGGING: ("--verbose", "--verbosity"),
    FlagCategory.MODEL_FOLDER_FILES: (
        "--lora", "--lora-scaled", "--control-vector", "--control-vector-scaled", "--mmproj", "--chat-template-file",
        "--grammar-file", "--json-schema-file", "--lookup-cache-static"),
    FlagCategory.FORM_FIELD: tuple(FORM_FIELDS),
    # The runner's own: the address, the model, and what it reads back (/metrics, /slots, the log's format).
    FlagCategory.SET_BY_MODELDECK: (
        "--model", "--host", "--port", "--api-key", "--metrics", "--slots", "--log-disable", "--log-jsonl",
        "--log-colors", "--log-prefix", "--log-timestamps"),
    FlagCategory.RUNS_PROGRAMS: ("--mcp-servers-json", "--mcp-servers-config", "--tools", "--tools-runtime",
                                 "--agent", "--video-ffmpeg-dir"),
    FlagCategory.WRITES_FILES: ("--slot-save-path", "--log-file", "--log-prompts-dir", "--lookup-cache-dynamic"),
    FlagCategory.READS_FILES: ("--path", "--media-path"),
    FlagCategory.DOWNLOADS: (
        "--model-url", "--docker-repo", "--hf-repo", "--hf-file", "--hf-token", "--mmproj-url", "--spec-draft-hf",
        "--embd-gemma-default", "--fim-qwen-1.5b-default", "--fim-qwen-3b-default", "--fim-qwen-7b-default",
        "--fim-qwen-7b-spec", "--fim-qwen-14b-spec", "--fim-qwen-30b-default", "--gpt-oss-20b-default",
        "--gpt-oss-120b-default", "--vision-gemma-4b-default", "--vision-gemma-12b-default", "--spec-default"),
    FlagCategory.CONNECTS: ("--rpc", "--ui-mcp-proxy"),
    FlagCategory.NETWORK_FACE: (
        "--api-key-file", "--ssl-key-file", "--ssl-cert-file", "--reuse-port", "--cors-origins", "--cors-methods",
        "--cors-headers", "--cors-credentials", "--api-prefix", "--ui", "--ui-config", "--ui-config-file",
        "--props"),
    FlagCategory.OTHER_MODELS: ("--spec-draft-model", "--models-dir", "--models-preset", "--models-max",
                                "--models-autoload"),
    FlagCategory.EXITS: ("--help", "--version", "--cache-list", "--completion-bash", "--list-devices"),
    FlagCategory.REMOVED: ("--draft", "--draft-min", "--spec-ngram-size-n", "--spec-ngram-size-m",
                           "--spec-ngram-min-hits"),
}

FLAG_POLICY: dict[str, FlagCategory] = {flag: category for category, flags in _REVIEWED.items() for flag in flags}


def review(canonical: str) -> tuple[str, str | None]:
    """(category label, refusal) for a flag by its first long spelling; unreviewed flags are refused."""
    category = FLAG_POLICY.get(canonical)
    if category is None:
        return "", NOT_REVIEWED
    if category is FlagCategory.FORM_FIELD:
        return category.label, f"use the form's {FORM_FIELDS[canonical]} field"
    return category.label, category.refusal


# Environment variables a configuration may set, with what each does. Everything else is refused: the
# dynamic loader's and libc's (LD_*, GLIBC_TUNABLES, MALLOC_*), llama-server's own flags (LLAMA_ARG_*),
# and knobs that load libraries, run programs or write files (GGML_BACKEND_PATH, GGML_BACKTRACE_LLDB,
# OMP_TOOL_LIBRARIES, GGML_OPENCL_KERNEL_CACHE_DIR...).
ENV_ALLOWED: dict[str, str] = {
    # Which devices the server sees.
    "CUDA_VISIBLE_DEVICES": "NVIDIA GPUs the server may use (e.g. 0,1)",
    "CUDA_DEVICE_ORDER": "how CUDA numbers GPUs (PCI_BUS_ID or FASTEST_FIRST)",
    "HIP_VISIBLE_DEVICES": "AMD GPUs the server may use (ROCm/HIP)",
    "ROCR_VISIBLE_DEVICES": "AMD GPUs the ROCm runtime exposes",
    "GPU_DEVICE_ORDINAL": "AMD GPUs the server may use (older ROCm)",
    "HSA_OVERRIDE_GFX_VERSION": "run ROCm on a GPU it does not list (e.g. 10.3.0)",
    "GGML_VK_VISIBLE_DEVICES": "Vulkan GPUs the server may use",
    "ONEAPI_DEVICE_SELECTOR": "Intel GPUs the server may use (SYCL)",
    # Threads.
    "OMP_NUM_THREADS": "OpenMP threads",
    "OMP_WAIT_POLICY": "OpenMP idle threads spin (ACTIVE) or sleep (PASSIVE)",
    "OMP_PROC_BIND": "OpenMP thread binding",
    "OMP_PLACES": "OpenMP thread places",
    "OMP_DYNAMIC": "OpenMP may change the thread count",
    "GOMP_SPINCOUNT": "GNU OpenMP spin count before sleeping",
    "GOMP_CPU_AFFINITY": "GNU OpenMP thread-to-CPU binding",
    "KMP_BLOCKTIME": "Intel OpenMP spin time before sleeping",
    "KMP_AFFINITY": "Intel OpenMP thread binding",
    "OPENBLAS_NUM_THREADS": "OpenBLAS threads",
    "MKL_NUM_THREADS": "Intel MKL threads",
    "BLIS_NUM_THREADS": "BLIS threads",
    # ggml tuning.
    "GGML_CUDA_ENABLE_UNIFIED_MEMORY": "let CUDA spill to system RAM",
    "GGML_CUDA_NO_PINNED": "no pinned host memory (CUDA)",
    "GGML_CUDA_DISABLE_GRAPHS": "no CUDA graphs",
    "GGML_CUDA_DISABLE_FUSION": "no fused CUDA kernels",
    "GGML_CUDA_P2P": "peer-to-peer copies between GPUs",
    "GGML_VK_DISABLE_F16": "no 16-bit floats on Vulkan",
    "GGML_VK_DISABLE_COOPMAT": "no cooperative matrices on Vulkan",
    "GGML_VK_DISABLE_COOPMAT2": "no cooperative matrices 2 on Vulkan",
    "GGML_VK_DISABLE_INTEGER_DOT_PRODUCT": "no integer dot products on Vulkan",
    "GGML_VK_PREFER_HOST_MEMORY": "Vulkan buffers in host memory",
    "GGML_VK_ALLOW_SYSMEM_FALLBACK": "Vulkan may fall back to system memory",
    "GGML_VK_FORCE_MAX_ALLOCATION_SIZE": "largest Vulkan allocation, in bytes",
    "GGML_SYCL_NO_PINNED": "no pinned host memory (SYCL)",
    "GGML_CANN_NO_PINNED": "no pinned host memory (CANN)",
    "GGML_CPU_DISABLE_FUSION": "no fused CPU kernels",
    "GGML_OP_OFFLOAD_MIN_BATCH": "smallest batch offloaded to the GPU",
    "GGML_NO_BACKTRACE": "no backtrace on a crash",
}
