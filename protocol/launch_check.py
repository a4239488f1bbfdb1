"""Whether a configuration's extra arguments and environment may reach llama-server: one check, both sides.

The runner runs it before every start (and refuses with its message); the dashboard runs it on the
form and on every saved configuration, against the catalog the runner serves, so the answer is the
same. Arguments are walked the way llama-server's parser walks them: a flag, then as many values as
its `--help` says it takes, each read as exactly one argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from protocol.config import ModelConfig
from protocol.flags import FlagCatalog, FlagSpec, ValueKind, choices, value_kind

_NUMBER = r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"
NUMBERS = re.compile(rf"{_NUMBER}(,{_NUMBER})*")
SCALE_SUFFIX = re.compile(rf":{_NUMBER}$")


class LaunchRefused(ValueError):
    """A configuration that cannot start as it is; `argument` is the one to mark in the form."""

    def __init__(self, message: str, field: Literal["extra_args", "env"], argument: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.argument = argument


def check_launch(config: ModelConfig, catalog: FlagCatalog, allowed_dirs: Iterable[Path]) -> None:
    """Raise LaunchRefused when the extra arguments or the environment are not allowed."""
    check_extra_args(config.extra_args, catalog, allowed_dirs)
    check_env(config.env, catalog)


def launch_problem(config: ModelConfig, catalog: FlagCatalog, allowed_dirs: Iterable[Path]) -> LaunchRefused | None:
    try:
        check_launch(config, catalog, allowed_dirs)
    except LaunchRefused as refused:
        return refused
    return None


def check_env(env: Mapping[str, str], catalog: FlagCatalog) -> None:
    for name in env:
        if name not in catalog.env:
            raise LaunchRefused(f"{name} cannot be set for a model: only device, thread and reviewed GGML_* "
                                "variables can", "env", name)


def check_extra_args(args: Sequence[str], catalog: FlagCatalog, allowed_dirs: Iterable[Path]) -> None:
    roots = tuple(Path(d).expanduser().resolve() for d in allowed_dirs)
    position = 0
    while position < len(args):
        arg = args[position]
        spec = _flag(arg, catalog)
        values = args[position + 1:position + 1 + len(spec.values)]
        if len(values) < len(spec.values):
            raise _refused(f"{arg} needs a value ({' '.join(spec.values)})", arg)
        for hint, value in zip(spec.values, values, strict=True):
            _check_value(arg, spec, hint, value, roots)
        position += 1 + len(spec.values)


def _refused(message: str, argument: str) -> LaunchRefused:
    return LaunchRefused(message, "extra_args", argument)


def _flag(arg: str, catalog: FlagCatalog) -> FlagSpec:
    if not arg.startswith("-") or NUMBERS.fullmatch(arg):
        raise _refused(f"{arg[:60]!r} is not a flag: a value follows the flag it belongs to", arg)
    name, equals, _ = arg.partition("=")
    spec = catalog.find(name)
    if spec is None:
        raise _refused(f"llama-server {catalog.short_version} has no {name[:60]}", arg)
    if spec.refusal is not None:
        spelled = name if name == spec.canonical else f"{name} ({spec.canonical})"
        raise _refused(f"{spelled} is not allowed: {spec.refusal}", arg)
    if equals:  # llama-server reads '--flag=value' as an unknown flag
        raise _refused(f"write {name} and its value as two arguments ({name} VALUE), not {name}=...", arg)
    return spec


def _check_value(flag: str, spec: FlagSpec, hint: str, value: str, roots: tuple[Path, ...]) -> None:
    kind = value_kind(hint)
    shown = value[:60]
    if value.startswith("-") and not NUMBERS.fullmatch(value):  # a flag hidden as a value
        raise _refused(f"the value of {flag} may not start with '-' ({shown!r})", value)
    if kind is ValueKind.NUMBER and not (NUMBERS.fullmatch(value) or value in spec.quoted_words):
        words = "".join(f" or {word}" for word in sorted(spec.quoted_words))
        raise _refused(f"{flag} needs a number{words} ({hint}), not {shown!r}", value)
    if kind is ValueKind.CHOICE and value not in choices(hint):
        raise _refused(f"{flag} takes one of {', '.join(choices(hint))}, not {shown!r}", value)
    if kind is ValueKind.URL:
        raise _refused(f"{flag} is not allowed: it names a network destination", value)
    if kind is ValueKind.FILE:
        for path in _paths(value, hint):
            _check_file(flag, path, value, roots)


def _paths(value: str, hint: str) -> list[str]:
    """The files a FILE value names: comma-separated, each 'FNAME:SCALE' where the hint says so."""
    parts = value.split(",")
    if ":SCALE" in hint:
        parts = [SCALE_SUFFIX.sub("", part) for part in parts]
    return parts


def _check_file(flag: str, path: str, value: str, roots: tuple[Path, ...]) -> None:
    """`path`: one of the files `value` (the argument as typed, which the refusal names) lists."""
    shown = path[:200]
    if not path.startswith("/"):  # relative to llama-server's empty working folder: never a model folder
        raise _refused(f"{flag} needs the full path of a file in the model folders, not {shown!r}", value)
    if not roots:
        raise _refused(f"{flag} names a file, and this runner has no model folders to take it from", value)
    try:
        real = Path(path).resolve(strict=True)
    except (OSError, RuntimeError):
        raise _refused(f"no such file: {shown} (for {flag})", value) from None
    if not any(real.is_relative_to(root) for root in roots):
        raise _refused(f"{shown} (for {flag}) is outside the allowed model folders", value)
    if not real.is_file():
        raise _refused(f"{shown} (for {flag}) is not a file", value)
