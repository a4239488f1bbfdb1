"""The Add form's "From a llama-server command line": paste one, and the form's fields are filled from it.

The line is read as an import reads a llama-swap `cmd` (exchange.command_line): the form's own flags fill
its fields, what ModelDeck sets itself is left out (and said), the rest goes to extra arguments, which the
form then checks on Save like anything typed there.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from nicegui import ui

from exchange import read_command_line, split_command_line
from protocol.config import CACHE_TYPES, field_label
from store import ModelDeck

WHOLE_NUMBERS = frozenset({"ctx_size", "gpu_layers", "threads", "batch_size", "parallel", "port"})


def form_value(name: str, value: Any) -> Any:
    """The form's value for what a command line set; ValueError naming a value the form cannot hold."""
    if name in WHOLE_NUMBERS and value is not None:
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{field_label(name)}: {str(value)[:32]!r} is not a whole number") from None
    if name == "flash_attn" and not isinstance(value, bool):
        raise ValueError(f"flash attention: {str(value)[:32]!r} is not on or off")
    if name in {"cache_type_k", "cache_type_v"} and value not in CACHE_TYPES:
        raise ValueError(f"{field_label(name)}: {str(value)[:32]!r} is not one of {', '.join(CACHE_TYPES)}")
    if name == "aliases":
        return ", ".join(value)
    if name == "extra_args":
        return shlex.join(value)
    return value


class CommandLinePaste(ui.expansion):
    def __init__(self, deck: ModelDeck, fill: Callable[[dict[str, Any]], None]) -> None:
        super().__init__("From a llama-server command line", icon="terminal")
        self.deck = deck
        self.fill = fill
        self.classes("w-full sm:col-span-2").mark("paste-command-line")
        with self:
            self.command = ui.textarea("Paste a command line", placeholder="llama-server -m /models/qwen.gguf -c 8192 "
                                    "-ngl 99 --temp 0.7").classes("w-full").props("autogrow").mark("paste-text")
            self.said = ui.label().classes("text-sm opacity-80 break-words").mark("paste-notes")
            ui.button("Fill the form", icon="input", on_click=self.read).props("outline").classes(
                "min-h-[44px]").mark("paste-fill")

    def reset(self) -> None:
        self.command.value = ""
        self.command.error = None
        self.said.text = ""
        self.value = False  # folded

    def read(self) -> None:
        self.command.error = None
        if self.deck.flags is None:
            self.command.error = "the runner has not said which flags its llama-server has yet: try again in a moment"
            return
        try:
            line = read_command_line(split_command_line(str(self.command.value or "")), self.deck.flags)
            values = {name: form_value(name, value) for name, value in line.values.items()}
        except ValueError as exc:
            self.command.error = str(exc)
            return
        self.fill(values)
        filled = ", ".join(field_label(name) for name in values) or "nothing"
        self.said.text = f"Filled: {filled}." + "".join(f" {note}." for note in line.notes)
