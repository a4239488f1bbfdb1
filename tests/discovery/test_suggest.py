"""A found model becomes a pre-filled configuration the person only has to review."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.metadata import read_gguf_info
from discovery.suggest import NotAModelError, suggest_config
from protocol.config import NAME_MAX
from protocol.names import unique_name
from tests.discovery.gguf_files import write_clip_projector
from tests.tiny_gguf import write_tiny_llama


def test_named_and_sized_from_the_metadata(tmp_path: Path) -> None:
    info = read_gguf_info(write_tiny_llama(tmp_path / "q.gguf", arch="qwen2", name="Qwen Tiny", n_ctx=32768))

    config = suggest_config(info, existing_names=set())

    assert config.name == "Qwen Tiny"
    assert config.family == "qwen2"
    assert config.model_path == info.path
    assert config.ctx_size == 8192  # capped: a trained 32k context would be a large KV cache


def test_a_short_trained_context_is_kept(tmp_path: Path) -> None:
    info = read_gguf_info(write_tiny_llama(tmp_path / "t.gguf", n_ctx=256))

    assert suggest_config(info, set()).ctx_size == 256


def test_a_taken_name_gets_a_number(tmp_path: Path) -> None:
    info = read_gguf_info(write_tiny_llama(tmp_path / "t.gguf", name="Tiny"))

    assert suggest_config(info, {"tiny", "Tiny (2)"}).name == "Tiny (3)"


def test_without_a_name_the_file_name_is_used(tmp_path: Path) -> None:
    first = write_tiny_llama(tmp_path / "mistral-7b-q4.gguf", name=None, split_max_tensors=8)
    info = read_gguf_info(first)

    assert first.name == "mistral-7b-q4-00001-of-00003.gguf"
    assert suggest_config(info, set()).name == "mistral-7b-q4"


def test_a_long_name_stays_within_the_limit_when_numbered() -> None:
    long_name = "x" * 80

    first = unique_name(long_name, set())
    second = unique_name(long_name, {first})

    assert len(first) == len(second) == NAME_MAX
    assert second.endswith(" (2)")


def test_a_projector_is_not_offered_as_a_model(tmp_path: Path) -> None:
    info = read_gguf_info(write_clip_projector(tmp_path / "mmproj.gguf"))

    with pytest.raises(NotAModelError, match="projector"):
        suggest_config(info, set())
