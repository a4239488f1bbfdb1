"""The Add / Edit form: one dialog per page, every field checked with its own message."""

from __future__ import annotations

import shlex
from typing import Any, Literal

from nicegui import background_tasks, ui
from pydantic import ValidationError

from protocol import ModelConfig, RestartPolicy
from protocol.config import CACHE_TYPES
from store import StoreError
from store.form_validation import validate_form
from ui.components.command_line_paste import CommandLinePaste
from ui.components.flag_help import FlagHelpDialog
from ui.services import Services
from ui.toasts import form_warning

FIT_INPUTS = ("model_path", "ctx_size", "gpu_layers", "parallel", "cache_type_k", "cache_type_v", "flash_attn")
FieldElement = ui.input | ui.number | ui.select | ui.switch | ui.textarea


class ModelFormDialog(ui.dialog):
    def __init__(self, services: Services) -> None:
        super().__init__()
        self.deck = services.deck
        self.catalog = services.catalog
        self.actor = services.actor  # asked at each save: a session that ended meanwhile cannot save
        self.allowed_dirs = services.settings.allowed_model_dirs
        self.editing: ModelConfig | None = None
        self.fields: dict[str, FieldElement] = {}
        self.flag_help = FlagHelpDialog(on_flag=self._add_flag, on_variable=self._add_variable)
        with self, ui.card().classes("w-full max-w-2xl"):
            self.title = ui.label().classes("text-lg font-bold")
            self.paste = CommandLinePaste(self.deck, self._fill_fields)
            with ui.grid().classes("w-full gap-x-4 gap-y-1 grid-cols-1 sm:grid-cols-2"):
                self._add("name", ui.input("Name"))
                self._add("family", ui.input("Family"))
                self._add("aliases", ui.input("Aliases (other names apps may ask for, comma-separated)")).classes(
                    "sm:col-span-2")
                self._add("model_path", ui.input("Model file (.gguf)")).classes("sm:col-span-2")
                self.fit_line = ui.label().classes("text-sm sm:col-span-2").mark("form-fit")
                self._add("port", ui.number("Port (empty: automatic)", min=1024, max=65535, precision=0))
                self._add("ctx_size", ui.number("Context size", min=0, precision=0))
                self._add("gpu_layers", ui.number("GPU layers (-1: all)", min=-1, precision=0))
                self._add("threads", ui.number("Threads (empty: automatic)", min=1, precision=0))
                self._add("batch_size", ui.number("Batch size", min=1, precision=0))
                self._add("parallel", ui.number("Parallel slots", min=1, precision=0))
                self._add("cache_type_k", ui.select(list(CACHE_TYPES), label="KV cache type K"))
                self._add("cache_type_v", ui.select(list(CACHE_TYPES), label="KV cache type V"))
                self._add("restart_policy", ui.select([p.value for p in RestartPolicy], label="Restart"))
                self._add("restart_limit", ui.number("Restart limit", min=0, precision=0))
                self._add("flash_attn", ui.switch("Flash attention"))
                self._add("autostart", ui.switch("Start with ModelDeck"))
                self._add("unload_when_idle_s", ui.number("Unload when idle for (seconds; empty: never)", min=1,
                                                          precision=0))
                self._listed("extra_args", ui.input("Extra arguments"), "Flags", "flags")
                self._listed("env", ui.textarea("Environment (KEY=value per line)"), "Variables", "env")
                self._add("notes", ui.textarea("Notes")).classes("sm:col-span-2")
            for name in FIT_INPUTS:
                self.fields[name].on_value_change(self.update_fit)
            with ui.row().classes("w-full justify-end gap-2 sticky bottom-0 py-2"):  # Save stays in view
                ui.button("Cancel", on_click=self.close).props("flat").mark("form-cancel")
                ui.button("Save", on_click=self.save).mark("form-save")

    def _add(self, name: str, element: FieldElement) -> FieldElement:
        element.mark(f"field-{name}")
        if not isinstance(element, ui.switch):
            element.classes("w-full")
        self.fields[name] = element
        return element

    def _listed(self, name: str, element: ui.input, button: str, what: Literal["flags", "env"]) -> None:
        """A text field beside a button that lists what it may hold; on a phone the button goes under it."""
        with ui.row().classes("w-full items-start gap-x-2 gap-y-0 sm:col-span-2"):
            self._add(name, element).classes("grow min-w-[16rem]", remove="w-full")
            ui.button(button, icon="help_outline", on_click=lambda: self.flag_help.show(self.deck.flags, what)).props(
                "flat no-wrap").classes("min-h-[44px] mt-2").mark(f"show-{button.lower()}")

    def open_new(self, suggestion: ModelConfig | None = None) -> None:
        """An empty form, or one pre-filled from a file found in the model folders."""
        self.editing = None
        self.title.text = "Add a model"
        self.paste.reset()
        self.paste.visible = True
        self._fill(suggestion or ModelConfig.model_construct(**{
            name: info.get_default(call_default_factory=True)
            for name, info in ModelConfig.model_fields.items()
            if name != "uid" and not info.is_required()}))  # no PydanticUndefined for the browser

    def open_edit(self, config: ModelConfig) -> None:
        """The configuration as saved; an argument the runner would refuse is marked with the reason."""
        self.editing = config
        self.title.text = f"Edit {config.name}"
        self.paste.visible = False
        self._fill(config)
        problem = self.deck.launch_problem(config)
        if problem is not None:
            field = self.fields[problem.field]
            assert isinstance(field, ui.input)  # extra_args and env are text (a textarea is an input)
            field.error = str(problem)

    def _fill_fields(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            self.fields[name].value = value

    def _add_flag(self, flag: str) -> None:
        field = self.fields["extra_args"]
        field.value = f"{field.value or ''} {flag}".strip()

    def _add_variable(self, name: str) -> None:
        field = self.fields["env"]
        field.value = f"{str(field.value or '').rstrip()}\n{name}=".lstrip()

    def _fill(self, config: ModelConfig) -> None:
        for name, element in self.fields.items():
            value: Any = getattr(config, name, None)
            if name == "extra_args":
                value = shlex.join(value or [])
            elif name == "aliases":
                value = ", ".join(value or [])
            elif name == "env":
                value = "\n".join(f"{k}={v}" for k, v in (value or {}).items())
            elif name == "restart_policy":
                value = RestartPolicy(value or RestartPolicy.NEVER).value
            elif value is None and isinstance(element, ui.input | ui.textarea):
                value = ""
            element.value = value
            if not isinstance(element, ui.switch):
                element.error = None
        self.open()
        background_tasks.create(self.update_fit(), name="form fit estimate")

    async def update_fit(self) -> None:
        """Say whether the model, as configured in the form now, fits in the memory free now."""
        try:
            config = ModelConfig.model_validate({**self.values(), "name": "fit", "aliases": [], "extra_args": [],
                                                 "env": {}})
        except ValidationError:
            self.fit_line.text = ""
            return
        fit = await self.catalog.fit(config)
        self.fit_line.text = "" if fit is None else ("Fits: " if fit.fits else "May not fit: ") + fit.summary
        self.fit_line.classes(replace="text-sm sm:col-span-2 " + ("" if fit is None or fit.fits else "text-negative"))

    def values(self) -> dict[str, Any]:
        values = {name: element.value for name, element in self.fields.items()}
        if self.editing is not None:
            values["uid"] = self.editing.uid
            values["created_at"] = self.editing.created_at
        return values

    async def save(self) -> None:
        values = self.values()
        uid = self.editing.uid if self.editing else None
        config, errors = validate_form(values, allowed_dirs=self.allowed_dirs, flags=self.deck.flags,
                                       name_taken=self.deck.name_taken(str(values.get("name", "")).strip(), uid),
                                       alias_taken=lambda alias: self.deck.name_taken(alias, uid))
        for name, element in self.fields.items():
            if not isinstance(element, ui.switch):
                element.error = errors.get(name)
        if config is None:
            unplaced = [f"{name}: {message}" for name, message in errors.items() if name not in self.fields]
            form_warning("; ".join(unplaced) or "Please correct the marked fields")
            return
        config = await self.deck.with_family(config)  # left empty: the file says what it is
        try:
            state = await self.deck.save(config, actor=self.actor(),
                                         expected=self.editing.updated_at if self.editing else None)
        except StoreError as exc:
            ui.notify(str(exc), type="negative", multi_line=True)
            return
        self.close()
        await self.deck.describe(state.uid)
        ui.notify(f"Saved {config.name}", type="positive")
