"""Reading what a GGUF file says about itself, and refusing files that are not usable models."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import gguf
import numpy as np
import pytest

from discovery.metadata import GgufError, file_type_name, read_gguf_info
from tests.discovery.gguf_files import write_clip_projector, write_gguf, write_truncated_copy
from tests.tiny_gguf import tiny_vocab, write_broken_gguf, write_tiny_llama

MakeModel = Callable[..., Path]
VOCAB = len(tiny_vocab()[0])


def llama_parameters(n_embd: int, n_layer: int, n_head: int, n_head_kv: int, n_ff: int) -> int:
    """Element count of tests/tiny_gguf's llama: embeddings, output, norms and per-block matrices."""
    n_kv = n_embd // n_head * n_head_kv
    block = 2 * n_embd + 2 * n_embd * n_embd + 2 * n_kv * n_embd + 3 * n_ff * n_embd
    return 2 * VOCAB * n_embd + n_embd + n_layer * block


def test_tiny_llama_is_described_exactly(tiny_model: MakeModel) -> None:
    path = tiny_model("tiny.gguf")

    info = read_gguf_info(path)

    assert info.architecture == "llama"
    assert info.name == "tiny-llama"
    assert info.file_type == "F32"
    assert info.parameter_count == llama_parameters(64, 2, 4, 4, 128)
    assert info.tensor_count == 3 + 2 * 9
    assert info.context_length == 256
    assert (info.block_count, info.head_count, info.head_count_kv, info.embedding_length) == (2, 4, 4, 64)
    assert info.head_dim_k == info.head_dim_v == 16
    assert info.vocab_size == VOCAB
    assert info.file_size == path.stat().st_size
    assert info.gguf_version == 3
    assert not info.has_chat_template
    assert not info.is_mmproj
    assert not info.is_split


def test_qwen2_with_grouped_query_attention_and_chat_template(tmp_path: Path) -> None:
    path = write_tiny_llama(tmp_path / "qwen.gguf", arch="qwen2", name="Qwen2 Tiny", n_embd=256, n_layer=4, n_head=8,
                      n_head_kv=2, n_ctx=32768, extra_kv={"tokenizer.chat_template": "{{ messages }}"})

    info = read_gguf_info(path)

    assert (info.architecture, info.name) == ("qwen2", "Qwen2 Tiny")
    assert info.context_length == 32768
    assert (info.block_count, info.head_count, info.head_count_kv) == (4, 8, 2)
    assert info.head_dim_k == 32
    assert info.parameter_count == llama_parameters(256, 4, 8, 2, 128)
    assert info.has_chat_template


def test_quantised_model_with_explicit_head_widths(tmp_path: Path) -> None:
    q4k, f32 = gguf.GGMLQuantizationType.Q4_K, gguf.GGMLQuantizationType.F32
    path = write_gguf(tmp_path / "gemma.gguf", "gemma3", {
        "general.name": "Gemma Q4",
        "general.file_type": gguf.LlamaFileType.MOSTLY_Q4_K_M,
        "gemma3.context_length": 131072,
        "gemma3.block_count": 2,
        "gemma3.embedding_length": 512,
        "gemma3.attention.head_count": 4,
        "gemma3.attention.head_count_kv": 1,
        "gemma3.attention.key_length": 256,
        "gemma3.attention.value_length": 192,
    }, {"token_embd.weight": ((32, 512), q4k), "blk.0.attn_q.weight": ((1024, 512), q4k),
        "output_norm.weight": ((512,), f32)})

    info = read_gguf_info(path)

    assert info.file_type == "Q4_K_M"
    assert info.parameter_count == 32 * 512 + 1024 * 512 + 512
    assert (info.head_dim_k, info.head_dim_v) == (256, 192)
    assert info.context_length == 131072


@pytest.mark.parametrize(("code", "name"), [(0, "F32"), (1, "F16"), (7, "Q8_0"), (15, "Q4_K_M"), (32, "BF16"),
                                            (999, "unknown (999)")])
def test_file_type_names_follow_llama_quantize(code: int, name: str) -> None:
    assert file_type_name(code) == name


def test_vision_projector_is_recognised(tmp_path: Path) -> None:
    info = read_gguf_info(write_clip_projector(tmp_path / "mmproj-tiny.gguf"))

    assert info.is_mmproj
    assert info.architecture == "clip"
    assert (info.block_count, info.embedding_length, info.head_count) == (3, 32, 2)
    assert info.context_length is None
    assert info.parameter_count == 32 * 48 + 64 * 32


def test_parts_of_a_split_model_say_which_part_they_are(tiny_model: MakeModel) -> None:
    first = tiny_model("split.gguf", split_max_tensors=8)
    parts = sorted(first.parent.glob("split-*-of-*.gguf"))

    infos = [read_gguf_info(p) for p in parts]

    assert [p.name for p in parts] == [f"split-0000{n}-of-00003.gguf" for n in (1, 2, 3)]
    assert [i.split_no for i in infos] == [0, 1, 2]
    assert {i.split_count for i in infos} == {3}
    assert infos[0].split_tensors_count == sum(i.tensor_count for i in infos) == 21
    assert infos[0].architecture == "llama"
    assert sum(i.parameter_count for i in infos) == llama_parameters(64, 2, 4, 4, 128)


def test_a_large_vocabulary_is_described_quickly(tmp_path: Path) -> None:
    # The stock reader walks 150k token strings one by one (15 s here); a scan cannot afford that.
    path = tmp_path / "big-vocab.gguf"
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_token_list([f"piece{i}" for i in range(150_000)])
    writer.add_token_scores([0.0] * 150_000)
    writer.add_tensor("x", np.zeros(4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    started = time.perf_counter()
    info = read_gguf_info(path)

    assert info.vocab_size == 150_000
    assert time.perf_counter() - started < 2.0


def bad_files(tmp_path: Path, tiny_model: MakeModel) -> dict[str, Path]:
    good = tiny_model("good.gguf")
    return {
        "not-gguf": _write(tmp_path / "notes.gguf", b"# just some markdown, renamed\n" * 4),
        "empty": _write(tmp_path / "empty.gguf", b""),
        "magic-only": _write(tmp_path / "magic.gguf", b"GGUF"),
        "version": _write(tmp_path / "future.gguf", b"GGUF" + (99).to_bytes(4, "little") + bytes(16)),
        "header-cut": write_broken_gguf(tmp_path / "header-cut.gguf"),
        "data-cut": write_truncated_copy(good, tmp_path / "data-cut.gguf"),
        "kv-cut": write_truncated_copy(good, tmp_path / "kv-cut.gguf", keep=0.01),
        "missing": tmp_path / "does-not-exist.gguf",
        "folder": tmp_path,
    }


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("kind", "reason"), [
    ("not-gguf", "not a GGUF file (it does not start with the GGUF magic bytes)"),
    ("empty", "the file is empty"),
    ("magic-only", "the file is truncated: it ends inside the GGUF header"),
    ("version", "unsupported GGUF version 99 (versions 2 and 3 can be read)"),
    ("header-cut", "the file is truncated: its header ends before the metadata does"),
    ("data-cut", "the file is truncated: its tensors need 520,896 bytes but the file has 260,448"),
    ("kv-cut", "the file is truncated: its header ends before the metadata does"),
    ("missing", "cannot read the file: No such file or directory"),
    ("folder", "cannot read the file: Is a directory"),
])
def test_unusable_files_are_refused_with_the_reason(tmp_path: Path, tiny_model: MakeModel, kind: str,
                                                    reason: str) -> None:
    path = bad_files(tmp_path, tiny_model)[kind]

    with pytest.raises(GgufError) as refused:
        read_gguf_info(path)

    assert str(refused.value) == reason
