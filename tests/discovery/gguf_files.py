"""Header-shaped GGUF files for metadata tests: any architecture's keys, tensors of any type, no real weights.

Runnable llama models come from tests/tiny_gguf.py; these files only need to be described, so
their tensors are zero bytes of the right size (a quantised tensor as its packed blocks).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import gguf
import numpy as np
from gguf.quants import quant_shape_to_byte_shape

Value = int | str | bool
Tensors = Mapping[str, tuple[tuple[int, ...], gguf.GGMLQuantizationType]]


def write_gguf(path: Path, arch: str, keys: Mapping[str, Value], tensors: Tensors) -> Path:
    """A GGUF with `keys` (ints as uint32) and zero-filled `tensors` given as numpy shape and type."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, arch)
    for key, value in keys.items():
        if isinstance(value, bool):
            writer.add_bool(key, value)
        elif isinstance(value, int):
            writer.add_uint32(key, value)
        else:
            writer.add_string(key, value)
    for name, (shape, qtype) in tensors.items():
        if qtype == gguf.GGMLQuantizationType.F32:
            writer.add_tensor(name, np.zeros(shape, dtype=np.float32))
        else:
            packed = np.zeros(quant_shape_to_byte_shape(shape, qtype), dtype=np.uint8)
            writer.add_tensor(name, packed, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_clip_projector(path: Path) -> Path:
    """A vision projector as llama.cpp's converter writes it: architecture clip, type mmproj."""
    f32 = gguf.GGMLQuantizationType.F32
    return write_gguf(path, "clip", {
        "general.type": "mmproj",
        "general.name": "tiny-vision",
        "clip.has_vision_encoder": True,
        "clip.vision.block_count": 3,
        "clip.vision.embedding_length": 32,
        "clip.vision.attention.head_count": 2,
        "clip.vision.image_size": 64,
    }, {"v.patch_embd.weight": ((32, 48), f32), "mm.0.weight": ((64, 32), f32)})


def write_truncated_copy(source: Path, target: Path, keep: float = 0.5) -> Path:
    """The first part of a valid file: a download that stopped early."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target
