"""The flags and environment variables a configuration may use, by category; a tap adds one to the form."""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby
from typing import Literal

from nicegui import ui

from protocol.flag_policy import FlagCategory
from protocol.flags import FlagCatalog, FlagSpec

Pick = Callable[[str], None]
CATEGORY_ORDER = [category.label for category in FlagCategory]


def _summary(help_text: str) -> str:
    """The help as one paragraph (--help wraps it at 70 columns), without the LLAMA_ARG_ variable it names."""
    return " ".join(line for line in help_text.splitlines() if not line.startswith("(env: "))


def _category_rank(spec: FlagSpec) -> int:
    return CATEGORY_ORDER.index(spec.category) if spec.category in CATEGORY_ORDER else len(CATEGORY_ORDER)


class FlagHelpDialog(ui.dialog):
    """Built with the form, once per page; filled from the runner's catalog each time it opens."""

    def __init__(self, on_flag: Pick, on_variable: Pick) -> None:
        super().__init__()
        self._on_flag = on_flag
        self._on_variable = on_variable
        self._entries: list[tuple[str, ui.element]] = []  # (what the search matches, its row)
        with self, ui.card().classes("w-full max-w-3xl gap-2"):
            with ui.row().classes("w-full items-center justify-between no-wrap"):
                self.title = ui.label().classes("text-lg font-bold")
                ui.button(icon="close", on_click=self.close).props('flat round aria-label="Close"').mark(
                    "flag-help-close")
            self.note = ui.label().classes("text-sm opacity-80")
            self.search = ui.input("Search", on_change=self._filter).props("clearable").classes("w-full").mark(
                "flag-search")
            self.entries = ui.list().props("separator").classes("w-full").mark("flag-help-list")

    def show(self, catalog: FlagCatalog | None, what: Literal["flags", "env"]) -> None:
        self.entries.clear()
        self._entries = []
        self.search.value = ""
        if what == "flags":
            self.title.text = "Flags you can add"
            self._fill_flags(catalog)
        else:
            self.title.text = "Environment variables you can set"
            self._fill_variables(catalog)
        self.open()

    def _fill_flags(self, catalog: FlagCatalog | None) -> None:
        if catalog is None:
            self.note.text = ("The runner has not said yet which flags its llama-server has (it may still be "
                              "building it). The runner checks the arguments when the model starts.")
            return
        allowed = sorted((spec for spec in catalog.flags if spec.allowed), key=_category_rank)
        self.note.text = (f"llama-server {catalog.short_version} has {len(catalog.flags)} flags; these "
                          f"{len(allowed)} are allowed. Programs, files outside the model folders, downloads, "
                          "network connections and the server's address are not. Tap a flag to add it.")
        with self.entries:
            for category, specs in groupby(allowed, key=lambda spec: spec.category):
                ui.item_label(category[:1].upper() + category[1:]).props("header").classes("text-bold")
                for spec in specs:
                    self._flag_row(spec)

    def _flag_row(self, spec: FlagSpec) -> None:
        spelled = ", ".join(spec.names) + "".join(f" {hint}" for hint in spec.values)
        with ui.item(on_click=lambda: self._picked(self._on_flag, spec.canonical)).mark(
                f"flag-{spec.canonical}") as row, ui.item_section():
            ui.item_label(spelled).classes("font-mono break-all")
            ui.item_label(_summary(spec.help)).props("caption lines=2")
        self._entries.append((f"{spelled} {spec.help} {spec.category}".casefold(), row))

    def _fill_variables(self, catalog: FlagCatalog | None) -> None:
        if catalog is None:
            self.note.text = "The runner has not said yet which variables it passes on."
            return
        self.note.text = ("Only these reach llama-server; the loader's and libc's variables (LD_*, "
                          "GLIBC_TUNABLES...) and LLAMA_ARG_* are refused. Tap one to add it.")
        with self.entries:
            for name, meaning in sorted(catalog.env.items()):
                with ui.item(on_click=lambda name=name: self._picked(self._on_variable, name)).mark(
                        f"variable-{name}") as row, ui.item_section():
                    ui.item_label(name).classes("font-mono break-all")
                    ui.item_label(meaning).props("caption lines=2")
                self._entries.append((f"{name} {meaning}".casefold(), row))

    def _picked(self, pick: Pick, name: str) -> None:
        pick(name)
        self.close()

    def _filter(self) -> None:
        wanted = str(self.search.value or "").casefold()
        for text, row in self._entries:
            row.set_visibility(wanted in text)
