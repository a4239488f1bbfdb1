"""Will a configuration fit? The figures a person sees in the form before pressing start."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.fit import FreeMemory, context_cells, estimate_fit, free_memory, kv_cache_bytes
from discovery.metadata import GgufInfo, read_gguf_info
from protocol.config import ModelConfig
from tests.discovery.gguf_files import write_clip_projector
from tests.tiny_gguf import write_tiny_llama

MiB = 1 << 20
GiB = 1 << 30


@pytest.fixture
def gqa_model(tmp_path: Path) -> GgufInfo:
    """4 layers, 8 query heads sharing 2 KV heads of width 32."""
    return read_gguf_info(write_tiny_llama(tmp_path / "gqa.gguf", n_embd=256, n_layer=4, n_head=8, n_head_kv=2,
                                           n_ctx=4096))


def config_for(info: GgufInfo, **fields: object) -> ModelConfig:
    return ModelConfig.model_validate({"name": "m", "model_path": info.path, **fields})


@pytest.mark.parametrize(("ctx", "parallel", "extra", "cells"), [
    (2048, 1, [], 2048),
    (1000, 1, [], 1024),  # padded to 256 cells
    (1000, 3, [], 1536),  # each slot's share padded on its own: 3 x 512
    (1000, 3, ["--kv-unified"], 1024),  # one shared pool
    (0, 1, [], 4096),  # 0 means the trained context
])
def test_context_cells_follow_llama_cpp(gqa_model: GgufInfo, ctx: int, parallel: int, extra: list[str],
                                        cells: int) -> None:
    config = config_for(gqa_model, ctx_size=ctx, parallel=parallel, extra_args=extra)

    assert context_cells(config, gqa_model) == cells


@pytest.mark.parametrize(("cache_k", "cache_v", "bytes_per_cell_layer"), [
    ("f16", "f16", 2 * 64 * 2),  # K and V: 2 heads x 32 values, 2 bytes each
    ("f32", "f32", 2 * 64 * 4),
    ("q8_0", "q8_0", 2 * 2 * 34),  # 64 values = 2 blocks of 32 in 34 bytes
    ("q8_0", "q4_0", 2 * 34 + 2 * 18),
])
def test_kv_cache_size_by_cache_type(gqa_model: GgufInfo, cache_k: str, cache_v: str,
                                     bytes_per_cell_layer: int) -> None:
    config = config_for(gqa_model, ctx_size=2048, cache_type_k=cache_k, cache_type_v=cache_v, flash_attn=True)

    assert kv_cache_bytes(config, gqa_model) == 4 * 2048 * bytes_per_cell_layer


def test_a_projector_needs_no_kv_cache(tmp_path: Path) -> None:
    info = read_gguf_info(write_clip_projector(tmp_path / "mmproj.gguf"))

    assert kv_cache_bytes(config_for(info), info) == 0


def test_on_cpu_everything_is_ram(gqa_model: GgufInfo) -> None:
    config = config_for(gqa_model, ctx_size=2048, gpu_layers=-1)

    estimate = estimate_fit(config, gqa_model, FreeMemory(ram=8 * GiB))

    assert estimate.vram_needed == 0  # no GPU: llama-server runs every layer on the CPU
    assert estimate.weights_ram == gqa_model.file_size
    assert estimate.kv_cache_ram == 2 * MiB
    assert estimate.fits
    assert estimate.summary == f"needs {estimate.ram_needed / MiB:.1f} MiB RAM, 8.0 GiB free"


def test_layers_offloaded_to_a_gpu_move_their_share(gqa_model: GgufInfo) -> None:
    config = config_for(gqa_model, ctx_size=2048, gpu_layers=1)

    estimate = estimate_fit(config, gqa_model, FreeMemory(ram=8 * GiB, vram=4 * GiB))

    assert estimate.kv_cache_vram == 2 * MiB // 4
    assert estimate.kv_cache_ram == 2 * MiB * 3 // 4
    assert estimate.weights_vram == round(gqa_model.file_size / 4)
    assert estimate.compute_vram > 0
    assert estimate.summary.endswith("; " + f"{estimate.vram_needed / MiB:.1f} MiB VRAM, 4.0 GiB free")


def test_too_little_memory_does_not_fit(gqa_model: GgufInfo) -> None:
    config = config_for(gqa_model, ctx_size=65536)

    estimate = estimate_fit(config, gqa_model, FreeMemory(ram=20 * MiB))

    assert not estimate.fits
    assert estimate.kv_cache_ram == 64 * MiB
    assert estimate.summary.startswith("needs ") and estimate.summary.endswith(" RAM, 20.0 MiB free")


def test_too_little_vram_does_not_fit(gqa_model: GgufInfo) -> None:
    estimate = estimate_fit(config_for(gqa_model, gpu_layers=-1), gqa_model, FreeMemory(ram=8 * GiB, vram=MiB))

    assert not estimate.fits


def test_free_memory_is_measured_now() -> None:
    free = free_memory()

    assert free.ram > 0
    assert free.vram is None or free.vram > 0
