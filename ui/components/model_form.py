"""The Add / Edit form: one dialog per page, every field checked with its own message.

Numbers are text fields that keep exactly what the person typed: Save says in plain words what is wrong with a
value (store/form_validation.py) instead of the browser rounding or clamping it, and stores nothing until it is
fixed. Editing a running model says that its changes apply at the next start, and offers Save and restart."""

from __future__ import annotations

import shlex
from typing import Any, Literal

from nicegui import background_tasks, ui
from nicegui.events import ValueChangeEventArguments
from pydantic import ValidationError

from discovery import FoundModel, default_context
from protocol import ModelConfig, RestartPolicy
from protocol.config import CACHE_TYPES, field_label
from store import ModelState, StoreError
from store.form_validation import NUMBERS, checked_number, validate_form
from ui.components.command_line_paste import CommandLinePaste
from ui.components.flag_help import FlagHelpDialog
from ui.components.model_file_field import ModelFileField
from ui.services import Services
from ui.toasts import form_warning

FIT_INPUTS = ("model_path", "ctx_size", "gpu_layers", "parallel", "cache_type_k", "cache_type_v", "flash_attn")
FieldElement = ui.input | ui.select | ui.switch | ui.textarea


class ModelFormDialog(ui.dialog):
    def __init__(self, services: Services) -> None:
        super().__init__()
        self.deck = services.deck
        self.catalog = services.catalog
        self.actor = services.actor  # asked at each save: a session that ended meanwhile cannot save
        self.allowed_dirs = services.settings.allowed_model_dirs
        self.editing: ModelConfig | None = None
        self._ctx_default = ""  # the context the form filled in itself (a picked file may replace it)
        self._ctx_typed = False  # the person changed the context (even to what was shown): a file picked keeps it
        self._fit_asked = 0  # each change asks anew; only the newest answer is shown (they may end out of order)
        self.fields: dict[str, FieldElement] = {}
        self.flag_help = FlagHelpDialog(on_flag=self._add_flag, on_variable=self._add_variable)
        with self, ui.card().classes("w-full max-w-2xl"):
            self.title = ui.label().classes("text-lg font-bold")
            self.running_note = ui.label().classes("text-sm text-warning").mark("form-running-note")
            self.paste = CommandLinePaste(self.deck, self._fill_fields)
            with ui.grid().classes("w-full gap-x-4 gap-y-1 grid-cols-1 sm:grid-cols-2"):
                self._add("name", ui.input("Name"))
                self._add("family", ui.input("Family"))
                self._add("aliases", ui.input("Aliases (other names apps may ask for, comma-separated)")).classes(
                    "sm:col-span-2")
                self.model_file = ModelFileField(self.catalog, self._file_chosen)
                self._add("model_path", self.model_file.input)
                self.fit_line = ui.label().classes("text-sm sm:col-span-2").mark("form-fit")
                self._number("port", "Port (empty: automatic)")
                self._number("ctx_size", "Context size")
                self._number("gpu_layers", "GPU layers (-1: all)", negative=True)
                self._number("threads", "Threads (empty: automatic)")
                self._number("batch_size", "Batch size")
                self._number("parallel", "Parallel slots")
                self._add("cache_type_k", ui.select(list(CACHE_TYPES), label="KV cache type K"))
                self._add("cache_type_v", ui.select(list(CACHE_TYPES), label="KV cache type V"))
                self._add("restart_policy", ui.select([p.value for p in RestartPolicy], label="Restart"))
                self._number("restart_limit", "Restart limit")
                self._add("flash_attn", ui.switch("Flash attention"))
                self._add("autostart", ui.switch("Start with ModelDeck"))
                self._number("unload_when_idle_s", "Unload when idle for (seconds; empty: never)")
                self._listed("extra_args", ui.input("Extra arguments"), "Flags", "flags")
                self._listed("env", ui.textarea("Environment (KEY=value per line)"), "Variables", "env")
                self._add("notes", ui.textarea("Notes")).classes("sm:col-span-2")
            for name in FIT_INPUTS:
                self.fields[name].on_value_change(self.update_fit)
            self.fields["ctx_size"].on_value_change(self._ctx_changed)
            with ui.row().classes("w-full justify-end gap-2 sticky bottom-0 py-2"):  # Save stays in view
                ui.button("Cancel", on_click=self.close).props("flat").mark("form-cancel")
                self.save_and_restart = ui.button("Save and restart", on_click=lambda: self.save(restart=True)).props(
                    "outline").mark("form-save-restart")
                ui.button("Save", on_click=self.save).mark("form-save")

    def _add(self, name: str, element: FieldElement) -> FieldElement:
        element.mark(f"field-{name}")
        if not isinstance(element, ui.switch):
            element.classes("w-full")
        self.fields[name] = element
        return element

    def _number(self, name: str, label: str, *, negative: bool = False) -> None:
        """A whole number as text: what is typed stays as typed (a number input would round and clamp it)."""
        self._add(name, ui.input(label)).props("inputmode=text" if negative else "inputmode=numeric")

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
        self._running(None)
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
        self._running(self.deck.models.get(config.uid))
        self._fill(config)
        problem = self.deck.launch_problem(config)
        if problem is not None:
            field = self.fields[problem.field]
            assert isinstance(field, ui.input)  # extra_args and env are text (a textarea is an input)
            field.error = str(problem)

    def _running(self, state: ModelState | None) -> None:
        """While the model has a server, what is saved applies at its next start: say so, offer both."""
        running = state is not None and state.status.is_active
        self.running_note.text = (f"{state.name} is {state.status}: changes apply at the next start. Save and "
                                  "restart applies them now." if state is not None and running else "")
        self.running_note.visible = self.save_and_restart.visible = running

    def _ctx_changed(self, event: ValueChangeEventArguments) -> None:
        """Typing goes through values the form never filled in (clearing it, the first digit), so a context typed
        anew counts as the person's even when it ends as the number that was shown."""
        if str(event.value).strip() != self._ctx_default:
            self._ctx_typed = True

    def _file_chosen(self, found: FoundModel) -> None:
        """A new configuration's context follows the file picked (its trained context), unless the person has
        typed one of their own."""
        if self.editing is None and not self._ctx_typed:
            self._ctx_default = str(default_context(found.info))
            self.fields["ctx_size"].value = self._ctx_default

    def _fill_fields(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            self.fields[name].value = "" if value is None else str(value) if name in NUMBERS else value

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
            elif name in NUMBERS:
                value = "" if value is None else str(value)
            elif value is None and isinstance(element, ui.input | ui.textarea):
                value = ""
            element.value = value
            if not isinstance(element, ui.switch):
                element.error = None
        self._ctx_default = str(self.fields["ctx_size"].value)
        self._ctx_typed = False
        self.fields["ctx_size"].props.pop("hint", None)
        self.model_file.reset()
        self.open()
        background_tasks.create(self.update_fit(), name="form fit estimate")

    async def update_fit(self) -> None:
        """Say whether the model, as configured in the form now, fits in the memory free now, and warn when the
        context is longer than the one the file was trained on (allowed: llama-server runs it, answers past the
        trained length degrade)."""
        self._fit_asked += 1
        asked = self._fit_asked
        values = self.values()
        numbers = {name: checked_number(name, values[name]) for name in NUMBERS}
        try:
            if any(problem for _, problem in numbers.values()):
                raise ValueError("a number the fit cannot use")
            config = ModelConfig.model_validate({**values, **{name: number for name, (number, _) in numbers.items()},
                                                 "name": "fit", "aliases": [], "extra_args": [], "env": {}})
        except (ValidationError, ValueError):
            self.fit_line.text = ""
            return
        info = await self.catalog.info(config.model_path)
        if asked != self._fit_asked:  # the form changed meanwhile: a stale warning would contradict it
            return
        trained = info.context_length if info is not None else None
        self.fields["ctx_size"].props.set_optional("hint", f"⚠ longer than the {trained} tokens this file was "
                                                   "trained on: answers past that may degrade" if trained
                                                   and config.ctx_size > trained else None)
        fit = await self.catalog.fit(config)
        if asked != self._fit_asked:
            return
        self.fit_line.text = "" if fit is None else ("Fits: " if fit.fits else "May not fit: ") + fit.summary
        self.fit_line.classes(replace="text-sm sm:col-span-2 " + ("" if fit is None or fit.fits else "text-negative"))

    def values(self) -> dict[str, Any]:
        values = {name: element.value for name, element in self.fields.items()}
        values["model_path"] = self.model_file.path()
        if self.editing is not None:
            values["uid"] = self.editing.uid
            values["created_at"] = self.editing.created_at
        return values

    async def save(self, *, restart: bool = False) -> None:
        """Check every field (ports against the deck's), mark each one that is wrong and store nothing until
        they are fixed; `restart`: then restart the running model with what was saved."""
        values = self.values()
        uid = self.editing.uid if self.editing else None
        config, errors = validate_form(values, allowed_dirs=self.allowed_dirs, flags=self.deck.flags,
                                       name_taken=self.deck.name_taken(str(values.get("name", "")).strip(), uid),
                                       alias_taken=lambda alias: self.deck.name_taken(alias, uid),
                                       port_problem=lambda port: self.deck.port_problem(port, uid))
        if (ambiguous := self.model_file.problem()) is not None:
            config, errors = None, {**errors, "model_path": ambiguous}
        for name, element in self.fields.items():
            if not isinstance(element, ui.switch):
                element.error = errors.get(name)
        if config is None:
            unplaced = [f"{name}: {message}" for name, message in errors.items() if name not in self.fields]
            marked = ", ".join(field_label(name) for name in self.fields if name in errors)
            form_warning("; ".join(unplaced) or f"Please correct the marked fields: {marked}")
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
        if not restart:
            ui.notify(f"Saved {config.name}", type="positive")
            return
        try:
            await self.deck.restart(state.uid, actor=self.actor())
        except StoreError as exc:
            ui.notify(f"Saved {config.name}, but it did not restart: {exc}", type="negative", multi_line=True)
        else:
            ui.notify(f"Saved {config.name}; restarting it", type="positive")
