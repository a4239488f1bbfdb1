"""Will this configuration fit in memory? An estimate from the file and the config, before starting.

It mirrors how llama.cpp sizes its buffers: the weights (the file, mapped), the KV cache
(K and V rows per layer for every context cell) and a compute buffer, split between GPU and
CPU by the share of layers offloaded, and compares them with what is free now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import psutil
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

from discovery.metadata import GgufInfo
from protocol.config import ModelConfig
from protocol.units import format_bytes

# llama.cpp rounds the context (and each slot's share of it) up to a multiple of 256 cells.
CTX_PAD = 256
# Physical batch size: llama-server's default --ubatch-size, capped by --batch-size.
DEFAULT_UBATCH = 512
FLOAT_BYTES = 4
UNIFIED_KV_FLAGS = frozenset({"--kv-unified", "-kvu"})


@dataclass(frozen=True)
class FreeMemory:
    """Memory free now; `vram` is None on a machine without a usable NVIDIA GPU."""

    ram: int
    vram: int | None = None


@dataclass(frozen=True)
class FitEstimate:
    weights_ram: int
    weights_vram: int
    kv_cache_ram: int
    kv_cache_vram: int
    compute_ram: int
    compute_vram: int
    free: FreeMemory
    fits: bool
    summary: str

    @property
    def ram_needed(self) -> int:
        return self.weights_ram + self.kv_cache_ram + self.compute_ram

    @property
    def vram_needed(self) -> int:
        return self.weights_vram + self.kv_cache_vram + self.compute_vram


def free_memory() -> FreeMemory:
    """RAM available to a new process, and free VRAM summed over NVIDIA GPUs (layers are spread over all)."""
    return FreeMemory(ram=psutil.virtual_memory().available, vram=_free_vram())


def _free_vram() -> int | None:
    try:
        import pynvml  # noqa: PLC0415  (nvidia-ml-py loads libnvidia-ml only when asked)

        pynvml.nvmlInit()
    except Exception:  # no driver or library: no GPU to count
        return None
    try:
        count = pynvml.nvmlDeviceGetCount()
        if count == 0:
            return None
        return sum(int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(i)).free)
                   for i in range(count))
    except pynvml.NVMLError:
        return None
    finally:
        pynvml.nvmlShutdown()


def context_cells(config: ModelConfig, info: GgufInfo) -> int:
    """KV cells llama-server allocates: the context for all slots together, padded as llama.cpp pads it.

    `--ctx-size` is the total over `--parallel` slots; unless the cache is unified, each slot's
    share is padded on its own.
    """
    n_ctx = config.ctx_size or info.context_length or 0
    n_ctx = _round_up(n_ctx, CTX_PAD)
    slots = config.parallel
    if slots > 1 and not UNIFIED_KV_FLAGS.intersection(config.extra_args):
        return _round_up(n_ctx // slots, CTX_PAD) * slots
    return n_ctx


def kv_cache_bytes(config: ModelConfig, info: GgufInfo) -> int:
    """K and V for every layer and cell; 0 for a projector or a file without the attention shape."""
    kv_heads = info.head_count_kv or info.head_count
    if info.is_mmproj or not (info.block_count and kv_heads and info.head_dim_k and info.head_dim_v):
        return 0
    k_row = _row_bytes(config.cache_type_k, kv_heads * info.head_dim_k)
    v_row = _row_bytes(config.cache_type_v, kv_heads * info.head_dim_v)
    return info.block_count * context_cells(config, info) * (k_row + v_row)


def compute_buffer_bytes(config: ModelConfig, info: GgufInfo) -> int:
    """A rough allowance for llama.cpp's compute buffer: logits and activations of one physical batch,
    plus the attention scores of every head over a slot's context when flash attention is off.
    Within 15% of what llama-server logged for the test models (1.8 to 40 MiB)."""
    cells = context_cells(config, info)
    ubatch = min(config.batch_size, DEFAULT_UBATCH, cells)  # llama.cpp never batches past the context
    width = (info.vocab_size or 0) + 8 * (info.embedding_length or 0)
    scores = 0 if config.flash_attn else (info.head_count or 0) * cells // config.parallel
    return FLOAT_BYTES * ubatch * (width + scores)


def estimate_fit(config: ModelConfig, info: GgufInfo, free: FreeMemory | None = None) -> FitEstimate:
    """Compare what `config` needs with what is free (`free_memory()` now unless given)."""
    free = free if free is not None else free_memory()
    gpu_share = _gpu_share(config.gpu_layers, info.block_count) if free.vram is not None else 0.0
    weights, kv, compute = info.file_size, kv_cache_bytes(config, info), compute_buffer_bytes(config, info)
    weights_vram, kv_vram = round(weights * gpu_share), round(kv * gpu_share)
    compute_vram = compute if gpu_share > 0 else 0
    ram = weights - weights_vram + kv - kv_vram + compute - compute_vram
    vram = weights_vram + kv_vram + compute_vram
    fits = ram <= free.ram and (vram == 0 or (free.vram is not None and vram <= free.vram))
    summary = f"needs {format_bytes(ram)} RAM, {format_bytes(free.ram)} free"
    if vram:
        summary += f"; {format_bytes(vram)} VRAM, {format_bytes(free.vram or 0)} free"
    return FitEstimate(
        weights_ram=weights - weights_vram, weights_vram=weights_vram,
        kv_cache_ram=kv - kv_vram, kv_cache_vram=kv_vram,
        compute_ram=compute - compute_vram, compute_vram=compute_vram,
        free=free, fits=fits, summary=summary,
    )


def _gpu_share(gpu_layers: int, n_layer: int | None) -> float:
    if gpu_layers == 0:
        return 0.0
    if gpu_layers < 0 or not n_layer or gpu_layers >= n_layer:
        return 1.0
    return gpu_layers / n_layer


def _row_bytes(cache_type: str, n_values: int) -> int:
    """ggml_row_size: quantised types store blocks of `block` values in `size` bytes (q8_0: 32 in 34)."""
    block, size = GGML_QUANT_SIZES[GGMLQuantizationType[cache_type.upper()]]
    return math.ceil(n_values / block) * size


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
