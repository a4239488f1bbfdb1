"""Turning a form's raw values, or an API request's or an imported file's, into a ModelConfig, with one clear
message per invalid field."""

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


def _parse_text_fields(values: Mapping[str, Any], data: dict[str, Any]) -> FieldErrors:
    """The form's text fields (extra arguments, environment, aliases) as the lists and mappings they hold."""
    errors: FieldErrors = {}
    try:
        data["extra_args"] = split_extra_args(str(values.get("extra_args", "")))
    except ValueError as exc:
        errors["extra_args"] = str(exc)
        data["extra_args"] = []
    try:
        data["env"] = parse_env(str(values.get("env", "")))
    except ValueError as exc:
        errors["env"] = str(exc)
        data["env"] = {}
    data["aliases"] = split_aliases(str(values.get("aliases", "")))
    return errors


def _launch_fields(data: Mapping[str, Any], flags: FlagCatalog, allowed_dirs: tuple[Path, ...]) -> FieldErrors:
    """The extra arguments and the environment against the runner's catalog (where they have the right shape;
    the configuration's own validation speaks of the rest)."""
    errors: FieldErrors = {}
    args, env = data.get("extra_args", []), data.get("env", {})
    try:
        if isinstance(args, list) and all(isinstance(arg, str) for arg in args):
            check_extra_args(args, flags, allowed_dirs)
    except ValueError as exc:  # a LaunchRefused is one
        errors["extra_args"] = str(exc)
    try:
        if isinstance(env, dict):
            check_env(env, flags)
    except ValueError as exc:
        errors["env"] = str(exc)
    return errors


def validate_config(data: Mapping[str, Any], *, allowed_dirs: Iterable[Path], name_taken: bool,
                    flags: FlagCatalog | None, alias_taken: Callable[[str], bool] = lambda alias: False,
                    ) -> tuple[ModelConfig | None, FieldErrors]:
    """A configuration's values as the API and imports give them (lists and mappings): the config, or None and
    a message for every field that is wrong. The same checks as the form's, which delegates here.

    `flags`: the runner's catalog, so the values are refused as the runner would refuse them (None: the runner
    has not said yet; the arguments are then checked at start, and the card says why one cannot start)."""
    allowed_dirs = tuple(allowed_dirs)
    errors = {} if flags is None else _launch_fields(data, flags, allowed_dirs)
    aliases = data.get("aliases", [])
    if isinstance(aliases, list) and (taken := [alias for alias in aliases if isinstance(alias, str)
                                                and alias_taken(alias)]):
        errors["aliases"] = f"another model already answers to {taken[0]!r}"
    config: ModelConfig | None = None
    try:
        config = ModelConfig.model_validate(dict(data))
    except ValidationError as exc:
        for field, message in _first_message_per_field(exc).items():
            errors.setdefault(field, message)
    name = data.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = "a name is required"
    elif name_taken:
        errors["name"] = f"a model named {name!r} already exists"
    path = data.get("model_path")
    path = path.strip() if isinstance(path, str) else ""
    if not path:
        errors["model_path"] = "choose a model file"
    elif "model_path" not in errors:
        try:
            resolve_model_file(path, allowed_dirs)
        except ModelFileError as exc:
            errors["model_path"] = str(exc)
    return (None, errors) if errors else (config, {})


def validate_form(values: Mapping[str, Any], *, allowed_dirs: Iterable[Path], name_taken: bool,
                  flags: FlagCatalog | None, alias_taken: Callable[[str], bool] = lambda alias: False,
                  ) -> tuple[ModelConfig | None, FieldErrors]:
    """The form's raw values (text for the extra arguments, environment and aliases): the config, or None and
    a message for every field that is wrong."""
    oversized = {name: f"at most {RAW_MAX} characters" for name, value in values.items()
                 if isinstance(value, str) and len(value) > RAW_MAX}
    if oversized:
        return None, oversized
    data = dict(values)
    parse_errors = _parse_text_fields(values, data)
    config, errors = validate_config(data, allowed_dirs=allowed_dirs, name_taken=name_taken, flags=flags,
                                     alias_taken=alias_taken)
    errors = {**errors, **parse_errors}
    return (None, errors) if errors else (config, {})
