"""A llama-server command line read as a configuration.

The flags the form has fields for become those fields (`-c 8192` -> context size), what ModelDeck sets itself
(`--host`, `--metrics`, the binary) is left out with a note saying so, and everything else stays as extra
arguments, exactly as written, for the store to check against the allowlist like any other. Arguments are
walked as llama-server walks them: a flag, then as many values as its `--help` says it takes.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from protocol.flag_policy import FlagCategory
from protocol.flags import FlagCatalog
from protocol.launch_check import NUMBERS

AUTO_PORT = "${PORT}"  # llama-swap's port of its own choosing: ModelDeck's automatic port
LLAMA_SERVER = "llama-server"
# The form's fields, by the flag's first long spelling (every spelling of it is found through the catalog).
FIELD_FLAGS = {"--model": "model_path", "--ctx-size": "ctx_size", "--gpu-layers": "gpu_layers",
               "--threads": "threads", "--batch-size": "batch_size", "--parallel": "parallel",
               "--flash-attn": "flash_attn", "--cache-type-k": "cache_type_k", "--cache-type-v": "cache_type_v",
               "--port": "port", "--alias": "aliases"}
SHELL_WHITESPACE = re.compile(r"[ \t\r\n]+")  # what shlex splits on, and nothing else
SHELL_QUOTING = re.compile(r"['\"\\]")
ON = frozenset({"on", "true", "1", "yes", "enabled"})
OFF = frozenset({"off", "false", "0", "no", "disabled"})


class NotLlamaServer(ValueError):
    """The command runs another program (docker, vllm...): ModelDeck only starts its own llama-server."""


@dataclass
class CommandLine:
    """What a command line sets: ModelConfig fields (extra_args among them), and notes on what was left out."""

    values: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def split_command_line(text: str) -> list[str]:
    """Split a command as llama-swap reads its `cmd`: lines starting with '#' are comments, a backslash at a
    line's end joins the next, words split the way a POSIX shell would, without running one."""
    kept = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(kept).replace("\\\n", " ")
    words = joined.strip(" \t\r\n")
    if not SHELL_QUOTING.search(words):  # no quote or escape: shlex's answer, ten times faster (imports of 1,000)
        return SHELL_WHITESPACE.split(words) if words else []
    try:
        return shlex.split(joined)
    except ValueError as exc:
        raise ValueError(f"cannot split the command line: {exc}") from None


def _is_flag(arg: str) -> bool:
    return arg.startswith("-") and not NUMBERS.fullmatch(arg)


def read_command_line(argv: Sequence[str], catalog: FlagCatalog) -> CommandLine:
    """Raises NotLlamaServer for another program, ValueError for a form field's flag without its value."""
    args = list(argv)
    line = CommandLine()
    if args and not args[0].startswith("-"):
        program = args.pop(0)
        if LLAMA_SERVER not in PurePath(program).name:
            raise NotLlamaServer(f"it runs {PurePath(program).name[:60]}, not llama-server (ModelDeck starts its "
                                 "own llama-server; a container or another server cannot be imported)")
        line.notes.append(f"{program[:200]} left out: ModelDeck runs its own llama-server")
    extra: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        spec = catalog.find(arg) if _is_flag(arg) else None
        if spec is None:  # a flag this llama-server lacks, or a stray value: kept as written, the check says why
            extra.append(arg)
            position += 1
            continue
        values = args[position + 1:position + 1 + len(spec.values)]
        if spec.canonical == "--flash-attn" and values and _is_flag(values[0]):
            values = []  # older llama-servers: -fa alone switched it on
        name = FIELD_FLAGS.get(spec.canonical)
        if name is not None:
            _set_field(line, name, arg, values)
        elif spec.category == FlagCategory.SET_BY_MODELDECK.label:
            line.notes.append(f"{shlex.join([arg, *values])[:200]} left out: ModelDeck sets it itself")
        else:
            extra += [arg, *values]
        position += 1 + len(values)
    if extra:
        line.values["extra_args"] = extra
    return line


def _set_field(line: CommandLine, name: str, flag: str, values: list[str]) -> None:
    if name == "flash_attn" and not values:
        line.values[name] = True
        return
    if not values:
        raise ValueError(f"{flag} needs a value")
    value = values[0]
    folded = value.casefold()
    if name == "flash_attn":
        line.values[name] = True if folded in ON else False if folded in OFF | {"auto"} else value
        if folded == "auto":
            line.notes.append(f"{flag} auto read as off: ModelDeck's flash attention is on or off")
    elif name == "gpu_layers" and folded in {"all", "auto"}:
        line.values[name] = -1
        if folded == "auto":
            line.notes.append(f"{flag} auto read as all layers (-1)")
    elif name in {"threads", "parallel"} and folded in {"-1", "auto"}:
        line.values.pop(name, None)  # llama-server's automatic: ModelDeck's default
        if name == "parallel":
            line.notes.append(f"{flag} {value} (automatic) read as ModelDeck's default of 1 slot")
    elif name == "port":
        line.values[name] = None if value == AUTO_PORT else value
    elif name == "aliases":
        named = [alias.strip() for alias in value.split(",") if alias.strip()]
        line.values[name] = [*line.values.get(name, []), *named]
    else:
        line.values[name] = value
