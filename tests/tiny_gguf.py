"""Tiny, valid GGUF models for tests and benchmarks, written with the `gguf` package.

The defaults give a llama-architecture model (2 blocks, embedding 64, 4 heads, feed-forward 128,
context 256, a 356-token vocabulary with the 256 byte tokens) of about 520 KB that the real
llama-server loads in a few milliseconds. Weights are seeded, so the same arguments give
byte-identical files and, at temperature 0, the same (garbage) text every run.

Parameters let other tests vary what GGUF metadata readers see: architecture name, model name,
extra key/values, and split files (``split_max_tensors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import gguf
import numpy as np

SPECIAL_TOKENS = ("<unk>", "<s>", "</s>")
N_TEXT_PIECES = 97  # 3 special + 256 byte + 97 text = 356 tokens
BYTE_TOKENS = 256


def tiny_vocab(n_text: int = N_TEXT_PIECES) -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and types of a sentencepiece-style ("llama") vocabulary that covers every byte."""
    tokens = list(SPECIAL_TOKENS)
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(BYTE_TOKENS)]
    types += [gguf.TokenType.BYTE] * BYTE_TOKENS
    letters = "abcdefghijklmnopqrstuvwxyz"
    pieces = ["\u2581" + ch for ch in letters] + list(letters)
    pieces += ["\u2581" + a + b for a in "tahs" for b in "heo"]  # a few two-letter words
    pieces += [a + b for a in "eainrst" for b in "nrte"]
    pieces = list(dict.fromkeys(pieces))[:n_text]
    while len(pieces) < n_text:  # keep the size exact whatever n_text asks
        pieces.append(f"\u2581w{len(pieces)}")
    tokens += pieces
    types += [gguf.TokenType.NORMAL] * len(pieces)
    scores = [0.0] * (len(SPECIAL_TOKENS) + BYTE_TOKENS) + [-float(i) for i in range(len(pieces))]
    return tokens, scores, [int(t) for t in types]


def write_tiny_llama(
    path: str | Path,
    *,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_head_kv: int = 4,
    n_ff: int = 128,
    n_ctx: int = 256,
    seed: int = 0,
    arch: str = "llama",
    name: str | None = "tiny-llama",
    extra_kv: Mapping[str, str | int | float | bool] | None = None,
    split_max_tensors: int = 0,
) -> Path:
    """Write a tiny llama model to `path` and return it.

    `arch` changes only the architecture name in the metadata (llama-server loads only "llama"
    here; other names are for metadata readers). With `split_max_tensors` > 0 the gguf package
    writes split files named ``<stem>-00001-of-0000N.gguf`` next to `path`; the first is returned.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tokens, scores, types = tiny_vocab()
    n_vocab = len(tokens)

    writer = gguf.GGUFWriter(path, arch, split_max_tensors=split_max_tensors)
    if name is not None:
        writer.add_name(name)
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    for key, value in (extra_kv or {}).items():
        _add_value(writer, key, value)

    def weights(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    n_kv = n_embd // n_head * n_head_kv
    writer.add_tensor("token_embd.weight", weights(n_vocab, n_embd))
    for block in range(n_layer):
        prefix = f"blk.{block}."
        writer.add_tensor(prefix + "attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(prefix + "attn_q.weight", weights(n_embd, n_embd))
        writer.add_tensor(prefix + "attn_k.weight", weights(n_kv, n_embd))
        writer.add_tensor(prefix + "attn_v.weight", weights(n_kv, n_embd))
        writer.add_tensor(prefix + "attn_output.weight", weights(n_embd, n_embd))
        writer.add_tensor(prefix + "ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(prefix + "ffn_gate.weight", weights(n_ff, n_embd))
        writer.add_tensor(prefix + "ffn_up.weight", weights(n_ff, n_embd))
        writer.add_tensor(prefix + "ffn_down.weight", weights(n_embd, n_ff))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    writer.add_tensor("output.weight", weights(n_vocab, n_embd))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if split_max_tensors:
        first = sorted(path.parent.glob(f"{path.stem}-00001-of-*.gguf"))
        return first[0] if first else path
    return path


def _add_value(writer: gguf.GGUFWriter, key: str, value: str | int | float | bool) -> None:
    if isinstance(value, bool):
        writer.add_bool(key, value)
    elif isinstance(value, int):
        writer.add_uint32(key, value) if value >= 0 else writer.add_int32(key, value)
    elif isinstance(value, float):
        writer.add_float32(key, value)
    else:
        writer.add_string(key, value)


def write_broken_gguf(path: str | Path) -> Path:
    """A file with the GGUF magic but a truncated header: passes the magic check, fails to load."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 12)
    return path
