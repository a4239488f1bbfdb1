"""Turning the form's raw values into a ModelConfig, with one clear message per invalid field."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from protocol import ModelConfig
from protocol.config import split_aliases, split_extra_args
from protocol.model_files import ModelFileError, check_arg_paths, resolve_model_file

FieldErrors = dict[str, str]
RAW_MAX = 20_000  # characters per field, checked before any parsing (notes, the longest, allow 10 000)


def _first_message_per_field(error: ValidationError) -> FieldErrors:
    messages: FieldErrors = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        message = item["msg"].removeprefix("Value error, ")
        messages.setdefault(field, message)
    return messages


def parse_env(text: str) -> dict[str, str]:
    """KEY=value lines; blank lines ignored."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{line.strip()!r} is not KEY=value")
        env[key.strip()] = value
    return env


def validate_form(values: Mapping[str, Any], *, allowed_dirs: Iterable[Path],
                  name_taken: bool, alias_taken: Callable[[str], bool] = lambda alias: False,
                  ) -> tuple[ModelConfig | None, FieldErrors]:
    """Return the config, or None and a message for every field that is wrong."""
    allowed_dirs = tuple(allowed_dirs)
    oversized = {name: f"at most {RAW_MAX} characters" for name, value in values.items()
                 if isinstance(value, str) and len(value) > RAW_MAX}
    if oversized:
        return None, oversized
    errors: FieldErrors = {}
    data = dict(values)
    try:
        data["extra_args"] = split_extra_args(str(values.get("extra_args", "")))
        check_arg_paths(data["extra_args"], allowed_dirs)
    except ValueError as exc:
        errors["extra_args"] = str(exc)
        data["extra_args"] = []
    data["aliases"] = split_aliases(str(values.get("aliases", "")))
    if taken := [alias for alias in data["aliases"] if alias_taken(alias)]:
        errors["aliases"] = f"another model already answers to {taken[0]!r}"
    try:
        data["env"] = parse_env(str(values.get("env", "")))
    except ValueError as exc:
        errors["env"] = str(exc)
        data["env"] = {}
    config: ModelConfig | None = None
    try:
        config = ModelConfig.model_validate(data)
    except ValidationError as exc:
        for field, message in _first_message_per_field(exc).items():
            errors.setdefault(field, message)
    name = str(values.get("name", "")).strip()
    if not name:
        errors["name"] = "a name is required"
    elif name_taken:
        errors["name"] = f"a model named {name!r} already exists"
    path = str(values.get("model_path", "")).strip()
    if not path:
        errors["model_path"] = "choose a model file"
    elif "model_path" not in errors:
        try:
            resolve_model_file(path, allowed_dirs)
        except ModelFileError as exc:
            errors["model_path"] = str(exc)
    return (None, errors) if errors else (config, {})
