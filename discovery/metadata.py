"""What a GGUF file says about itself: its header, key/value metadata and tensor table.

Only the header is parsed. `gguf.GGUFReader` memory-maps the file and builds tensor views
lazily, so no weight is read from disk: a multi-gigabyte model is described in milliseconds.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFReader, GGUFValueType, Keys, LlamaFileType
from gguf.gguf_reader import READER_SUPPORTED_VERSIONS, ReaderField
from pydantic import BaseModel, ConfigDict

from protocol.model_files import GGUF_MAGIC

_CLIP_ARCHITECTURE = "clip"
_MMPROJ_TYPE = "mmproj"


class GgufError(ValueError):
    """The file cannot be described as a GGUF model; the message says why, for a person."""


class GgufInfo(BaseModel):
    """The facts about one GGUF file that a person choosing or configuring a model needs.

    Counts come from the metadata the converter wrote; `None` means the file does not say.
    For a model split over several files, the scan merges the parts: `file_size`,
    `parameter_count` and `tensor_count` then cover all parts and `path` is the first one.
    """

    model_config = ConfigDict(frozen=True)

    path: str
    file_size: int
    gguf_version: int
    name: str | None = None
    architecture: str | None = None
    file_type: str | None = None
    parameter_count: int = 0
    tensor_count: int = 0
    context_length: int | None = None
    block_count: int | None = None
    head_count: int | None = None
    head_count_kv: int | None = None
    embedding_length: int | None = None
    key_length: int | None = None
    value_length: int | None = None
    vocab_size: int | None = None
    has_chat_template: bool = False
    split_no: int | None = None
    split_count: int | None = None
    split_tensors_count: int | None = None
    is_mmproj: bool = False

    @property
    def is_split(self) -> bool:
        return (self.split_count or 1) > 1

    @property
    def head_dim_k(self) -> int | None:
        """Width of one key head; converters omit `key_length` when it is embedding / heads."""
        if self.key_length is not None:
            return self.key_length
        if self.embedding_length and self.head_count:
            return self.embedding_length // self.head_count
        return None

    @property
    def head_dim_v(self) -> int | None:
        return self.value_length if self.value_length is not None else self.head_dim_k


class _TruncatedError(Exception):
    """The header claims more bytes than the file holds; the message says which part is missing."""

    def __init__(self, detail: str = "its header ends before the metadata does") -> None:
        super().__init__(f"the file is truncated: {detail}")


class _HeaderReader(GGUFReader):
    """GGUFReader made safe and fast for describing files (gguf 0.19 internals, pinned).

    Bounds: the stock reader slices its memory map, and numpy silently returns a short slice
    past the end, which surfaces later as an unrelated error; a check here names the cause.
    Speed: the stock reader walks every array element in Python, 15 s for a 150k-token
    vocabulary. Here a scalar array becomes one numpy view and a string array is skipped with
    `struct`, its strings left unsplit: only its length is needed.
    """

    def _get(
        self, offset: int, dtype: npt.DTypeLike, count: int = 1, override_order: Any = None,
    ) -> npt.NDArray[Any]:
        if offset + np.dtype(dtype).itemsize * int(count) > len(self.data):
            raise _TruncatedError
        return super()._get(offset, dtype, count, override_order)

    def _build_tensors(self, start_offs: int, fields: list[ReaderField]) -> None:
        # A download that stopped early keeps its header: compare the tensors' extent with the file.
        needed = start_offs
        for field in fields:
            _name_len, _name, _n_dims, dims, raw_dtype, offset = field.parts
            block, size = GGML_QUANT_SIZES[GGMLQuantizationType(int(raw_dtype[0]))]
            needed = max(needed, start_offs + int(offset[0]) + int(np.prod(dims)) * size // block)
        if needed > len(self.data):
            raise _TruncatedError(f"its tensors need {needed:,} bytes but the file has {len(self.data):,}")
        super()._build_tensors(start_offs, fields)

    def _get_field_parts(
        self, orig_offs: int, raw_type: int,
    ) -> tuple[int, list[npt.NDArray[Any]], list[int], list[GGUFValueType]]:
        if raw_type != GGUFValueType.ARRAY:
            return super()._get_field_parts(orig_offs, raw_type)
        raw_itype = self._get(orig_offs, np.uint32)
        length = self._get(orig_offs + 4, np.uint64)
        item_type = GGUFValueType(int(raw_itype[0]))
        offs = orig_offs + 12
        scalar = self.gguf_scalar_to_np.get(item_type)
        if scalar is not None:
            items = self._get(offs, scalar, int(length[0]))
            return 12 + int(items.nbytes), [raw_itype, length, items], [2], [GGUFValueType.ARRAY, item_type]
        if item_type != GGUFValueType.STRING:  # nested arrays: rare, and small
            return super()._get_field_parts(orig_offs, raw_type)
        little = (self.byte_order == "I") == (sys.byteorder == "little")
        fmt = "<Q" if little else ">Q"
        buffer = self.data.data  # the map as a memoryview, for struct
        end = len(buffer)
        for _ in range(int(length[0])):
            if offs + 8 > end:
                raise _TruncatedError
            offs += 8 + struct.unpack_from(fmt, buffer, offs)[0]
        if offs > end:
            raise _TruncatedError
        return offs - orig_offs, [raw_itype, length], [], [GGUFValueType.ARRAY, item_type]


def _array_length(field: ReaderField) -> int:
    # A key/value field's parts: key length, key, value type, item type, item count, items...
    return int(field.parts[4][0])


def file_type_name(code: int) -> str:
    """`general.file_type` as llama.cpp's quantize tool names it (Q4_K_M, F16, ...)."""
    try:
        member = LlamaFileType(code)
    except ValueError:
        return f"unknown ({code})"
    return member.name.removeprefix("MOSTLY_").removeprefix("ALL_")


def read_gguf_info(path: str | os.PathLike[str]) -> GgufInfo:
    """Describe one GGUF file, or raise GgufError saying why it cannot be used."""
    file = Path(path)
    size = _check_preamble(file)
    try:
        return _describe(_HeaderReader(file), file, size)
    except _TruncatedError as exc:
        raise GgufError(str(exc)) from None
    except OSError as exc:
        raise GgufError(f"cannot read the file: {exc.strerror or exc}") from None
    except (ValueError, KeyError, IndexError, UnicodeDecodeError) as exc:
        raise GgufError(f"the GGUF header is damaged: {exc}") from None


def _check_preamble(file: Path) -> int:
    """Magic and version first, so the commonest mistakes get a precise reason."""
    try:
        with file.open("rb") as handle:
            head = handle.read(8)
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise GgufError(f"cannot read the file: {exc.strerror or exc}") from None
    if size == 0:
        raise GgufError("the file is empty")
    if head[:4] != GGUF_MAGIC:
        raise GgufError("not a GGUF file (it does not start with the GGUF magic bytes)")
    if len(head) < 8:
        raise GgufError("the file is truncated: it ends inside the GGUF header")
    version = int.from_bytes(head[4:8], "little")
    if version & 0xFFFF == 0:  # written on a big-endian machine
        version = int.from_bytes(head[4:8], "big")
    if version not in READER_SUPPORTED_VERSIONS:
        supported = " and ".join(str(v) for v in READER_SUPPORTED_VERSIONS)
        raise GgufError(f"unsupported GGUF version {version} (versions {supported} can be read)")
    return size


def _describe(reader: GGUFReader, file: Path, size: int) -> GgufInfo:
    def value(key: str) -> Any:
        field = reader.get_field(key)
        return field.contents() if field is not None else None

    def count(key: str) -> int | None:
        raw = value(key)
        # Some architectures store per-layer head counts; the widest layer decides memory.
        if isinstance(raw, list):
            return max(raw, default=None)
        return int(raw) if raw is not None else None

    arch = value(Keys.General.ARCHITECTURE)
    is_mmproj = value(Keys.General.TYPE) == _MMPROJ_TYPE or arch == _CLIP_ARCHITECTURE
    prefix = _CLIP_ARCHITECTURE + ".vision" if arch == _CLIP_ARCHITECTURE else arch or ""
    tokens = reader.get_field(Keys.Tokenizer.LIST)
    file_type = value(Keys.General.FILE_TYPE)
    return GgufInfo(
        path=str(file),
        file_size=size,
        gguf_version=int(value("GGUF.version")),
        name=value(Keys.General.NAME),
        architecture=arch,
        file_type=file_type_name(int(file_type)) if file_type is not None else None,
        parameter_count=sum(int(t.n_elements) for t in reader.tensors),
        tensor_count=len(reader.tensors),
        context_length=count(Keys.LLM.CONTEXT_LENGTH.format(arch=prefix)),
        block_count=count(Keys.LLM.BLOCK_COUNT.format(arch=prefix)),
        head_count=count(Keys.Attention.HEAD_COUNT.format(arch=prefix)),
        head_count_kv=count(Keys.Attention.HEAD_COUNT_KV.format(arch=prefix)),
        embedding_length=count(Keys.LLM.EMBEDDING_LENGTH.format(arch=prefix)),
        key_length=count(Keys.Attention.KEY_LENGTH.format(arch=prefix)),
        value_length=count(Keys.Attention.VALUE_LENGTH.format(arch=prefix)),
        vocab_size=_array_length(tokens) if tokens is not None and tokens.types[0] == GGUFValueType.ARRAY else None,
        has_chat_template=bool(value(Keys.Tokenizer.CHAT_TEMPLATE)),
        split_no=count(Keys.Split.LLM_KV_SPLIT_NO),
        split_count=count(Keys.Split.LLM_KV_SPLIT_COUNT),
        split_tensors_count=count(Keys.Split.LLM_KV_SPLIT_TENSORS_COUNT),
        is_mmproj=is_mmproj,
    )
