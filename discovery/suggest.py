"""A first configuration for a discovered model, for the person to review in the form."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from discovery.metadata import GgufInfo
from discovery.scan import SPLIT_NAME
from protocol.config import ModelConfig
from protocol.names import unique_name

# Trained contexts reach 128k and beyond; their KV cache would not fit most machines, so a
# suggestion starts modest and the person raises it where the fit estimate allows.
DEFAULT_CTX_CAP = 8192


class NotAModelError(ValueError):
    """The file cannot run on its own (a multimodal projector)."""


def suggest_config(info: GgufInfo, existing_names: Collection[str], *, ctx_cap: int = DEFAULT_CTX_CAP) -> ModelConfig:
    """A config named after the model (unique among `existing_names`), sized from its metadata."""
    if info.is_mmproj:
        raise NotAModelError("a multimodal projector is not a model on its own")
    return ModelConfig(
        name=unique_name(model_title(info), existing_names),
        model_path=info.path,
        family=(info.architecture or "")[:64],
        ctx_size=default_context(info, ctx_cap),
    )


def default_context(info: GgufInfo, ctx_cap: int = DEFAULT_CTX_CAP) -> int:
    """The context a new configuration of this file starts with: the one it was trained on, up to the cap."""
    return min(info.context_length or ctx_cap, ctx_cap)


def model_title(info: GgufInfo) -> str:
    """general.name, or the file name without extension and split suffix."""
    name = " ".join((info.name or "").split())  # no newlines or tabs in a card title
    if name and name.isprintable():
        return name
    file_name = Path(info.path).name
    split = SPLIT_NAME.match(file_name)
    stem = split["prefix"] if split else Path(file_name).stem
    return "".join(ch for ch in stem if ch.isprintable()) or "model"

