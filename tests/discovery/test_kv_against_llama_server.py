"""The KV-cache estimate against what the real llama-server allocates for the same model and context."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from discovery.fit import kv_cache_bytes
from discovery.metadata import read_gguf_info
from protocol.config import ModelConfig
from tests.tiny_gguf import write_tiny_llama

# At --log-verbosity 4 llama.cpp logs each backend's KV buffer while loading.
KV_LINE = re.compile(r"llama_kv_cache:\s+\S+ KV buffer size =\s+([\d.]+) MiB")
LOADED = "llama_server: listening on"


def write_gqa_model(path: Path) -> Path:
    """4 layers, 8 query heads sharing 2 KV heads of 32: grouped-query attention as in current models."""
    return write_tiny_llama(path, n_embd=256, n_layer=4, n_head=8, n_head_kv=2, n_ctx=4096)


MODELS: dict[str, Callable[[Path], Path]] = {"tiny": write_tiny_llama, "gqa": write_gqa_model}


async def logged_kv_buffer(binary: Path, config: ModelConfig) -> int:
    """Start llama-server as the runner would, read its KV buffer size from stderr, stop it."""
    process = await asyncio.create_subprocess_exec(
        str(binary), "--host", "127.0.0.1", "--port", "0", *config.server_args(),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    total = 0.0
    try:
        async with asyncio.timeout(60):
            while line := (await process.stderr.readline()).decode(errors="replace"):
                if match := KV_LINE.search(line):
                    total += float(match[1])  # one line per backend holding layers
                if LOADED in line:
                    break
    finally:
        # SIGKILL: a SIGTERM between "listening" and the start of the server's task loop is lost
        # (llama-server keeps running), and nothing here needs a clean shutdown.
        process.kill()
        await asyncio.wait_for(process.wait(), 30)
    assert total, "llama-server logged no KV buffer size"
    return round(total * (1 << 20))


@pytest.mark.parametrize(("model", "ctx", "options"), [
    ("tiny", 256, {}),
    ("tiny", 1024, {}),
    ("tiny", 1000, {"parallel": 3}),  # each slot's share padded: 3 x 512 cells
    ("gqa", 512, {}),
    ("gqa", 2048, {}),
    ("gqa", 2048, {"flash_attn": True, "cache_type_k": "q8_0", "cache_type_v": "q4_0"}),
])
async def test_kv_estimate_is_within_ten_percent_of_llama_server(
    llama_server_binary: Path, tmp_path: Path, model: str, ctx: int, options: dict[str, object],
) -> None:
    info = read_gguf_info(MODELS[model](tmp_path / f"{model}.gguf"))
    config = ModelConfig.model_validate({
        "name": model, "model_path": info.path, "ctx_size": ctx, "threads": 1,
        "extra_args": ["--log-verbosity", "4"], **options})

    logged = await logged_kv_buffer(llama_server_binary, config)
    estimated = kv_cache_bytes(config, info)

    assert abs(estimated - logged) <= 0.1 * logged, f"estimated {estimated} B, llama-server allocated {logged} B"
