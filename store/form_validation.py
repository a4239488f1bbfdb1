"""Turning the form's raw values into a ModelConfig, with one clear message per invalid field."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from protocol import ModelConfig
from protocol.config import split_aliases, split_extra_args
from protocol.flags import FlagCatalog
from protocol.launch_check import check_env, check_extra_args
from protocol.model_files import ModelFileError, resolve_model_file

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


def _launch_fields(values: Mapping[str, Any], data: dict[str, Any], flags: FlagCatalog | None,
                   allowed_dirs: tuple[Path, ...]) -> FieldErrors:
    """Parse the extra arguments and the environment into `data`, checked against the catalog when known."""
    errors: FieldErrors = {}
    try:
        data["extra_args"] = split_extra_args(str(values.get("extra_args", "")))
        if flags is not None:
            check_extra_args(data["extra_args"], flags, allowed_dirs)
    except ValueError as exc:  # a LaunchRefused is one
        errors["extra_args"] = str(exc)
        data["extra_args"] = []
    try:
        data["env"] = parse_env(str(values.get("env", "")))
        if flags is not None:
            check_env(data["env"], flags)
    except ValueError as exc:
        errors["env"] = str(exc)
        data["env"] = {}
    return errors


def validate_form(values: Mapping[str, Any], *, allowed_dirs: Iterable[Path], name_taken: bool,
                  flags: FlagCatalog | None, alias_taken: Callable[[str], bool] = lambda alias: False,
                  ) -> tuple[ModelConfig | None, FieldErrors]:
    """Return the config, or None and a message for every field that is wrong.

    `flags`: the runner's catalog, so the form refuses what the runner would (None: the runner has not
    said yet; the arguments are then checked at start, and the card says why one cannot start)."""
    allowed_dirs = tuple(allowed_dirs)
    oversized = {name: f"at most {RAW_MAX} characters" for name, value in values.items()
                 if isinstance(value, str) and len(value) > RAW_MAX}
    if oversized:
        return None, oversized
    data = dict(values)
    errors = _launch_fields(values, data, flags, allowed_dirs)
    data["aliases"] = split_aliases(str(values.get("aliases", "")))
    if taken := [alias for alias in data["aliases"] if alias_taken(alias)]:
        errors["aliases"] = f"another model already answers to {taken[0]!r}"
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
