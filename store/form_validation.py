"""Turning a form's raw values, or an API request's or an imported file's, into a ModelConfig, with one clear
message per invalid field.

Numbers are taken exactly as given: the form's text fields hold what the person typed, and a value out of range
or not whole is refused in plain words ("Port must be between 1024 and 65535"), never rounded or clamped."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from annotated_types import Ge, Le
from pydantic import ValidationError

from protocol import ModelConfig
from protocol.config import field_label, split_aliases, split_extra_args
from protocol.flags import FlagCatalog
from protocol.launch_check import check_env, check_extra_args
from protocol.model_files import ModelFileError, resolve_model_file

FieldErrors = dict[str, str]
RAW_MAX = 20_000  # characters per field, checked before any parsing (notes, the longest, allow 10 000)
WHOLE = re.compile(r"[+-]?[0-9]+")


def _bounds() -> dict[str, tuple[int, int]]:
    """The whole-number fields and their bounds, as ModelConfig declares them (one source for both)."""
    bounds: dict[str, tuple[int, int]] = {}
    for name, info in ModelConfig.model_fields.items():
        low = next((item.ge for item in info.metadata if isinstance(item, Ge)), None)
        high = next((item.le for item in info.metadata if isinstance(item, Le)), None)
        if isinstance(low, int) and isinstance(high, int):
            bounds[name] = (low, high)
    return bounds


NUMBERS = _bounds()
OPTIONAL_NUMBERS = frozenset(name for name in NUMBERS if ModelConfig.model_fields[name].default is None)


def checked_number(name: str, value: object) -> tuple[int | None, str | None]:
    """A whole-number field's value (text as typed, or a number) as the int it is, or why it is not one."""
    label = field_label(name)
    label = label[:1].upper() + label[1:]
    if isinstance(value, str):
        value = value.strip()
        if value and not WHOLE.fullmatch(value):
            return None, f"{label} must be a whole number"
        value = int(value) if value else None
    if value is None:
        return None, None if name in OPTIONAL_NUMBERS else f"{label} is required"
    if not isinstance(value, int) or isinstance(value, bool):  # 1.5, true, a list: no guess at what was meant
        return None, f"{label} must be a whole number"
    low, high = NUMBERS[name]
    if not low <= value <= high:
        return None, f"{label} must be between {low} and {high}"
    return value, None


def _numbers(data: dict[str, Any]) -> FieldErrors:
    """Each whole-number field given, as an int in `data`, or its message (and left out of `data`)."""
    errors: FieldErrors = {}
    for name in NUMBERS.keys() & data.keys():
        number, problem = checked_number(name, data[name])
        if problem is None:
            data[name] = number
        else:
            errors[name] = problem
            del data[name]
    return errors


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
                    port_problem: Callable[[int], str | None] = lambda port: None,
                    ) -> tuple[ModelConfig | None, FieldErrors]:
    """A configuration's values as the API and imports give them (lists and mappings): the config, or None and
    a message for every field that is wrong. The same checks as the form's, which delegates here.

    `flags`: the runner's catalog, so the values are refused as the runner would refuse them (None: the runner
    has not said yet; the arguments are then checked at start, and the card says why one cannot start).
    `port_problem`: why a fixed port cannot work (the deck's `port_problem`), or None."""
    allowed_dirs = tuple(allowed_dirs)
    data = dict(data)
    errors = _numbers(data)
    if isinstance(port := data.get("port"), int) and (problem := port_problem(port)) is not None:
        errors["port"] = problem
    if flags is not None:
        errors |= _launch_fields(data, flags, allowed_dirs)
    aliases = data.get("aliases", [])
    if isinstance(aliases, list) and (taken := [alias for alias in aliases if isinstance(alias, str)
                                                and alias_taken(alias)]):
        errors["aliases"] = f"another model already answers to {taken[0]!r}"
    config: ModelConfig | None = None
    try:
        config = ModelConfig.model_validate(data)
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
                  port_problem: Callable[[int], str | None] = lambda port: None,
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
                                     alias_taken=alias_taken, port_problem=port_problem)
    errors = {**errors, **parse_errors}
    return (None, errors) if errors else (config, {})
