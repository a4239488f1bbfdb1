"""Import configurations: a file (or pasted text), a preview of what it does model by model, then one
transaction. ModelDeck's own export, a llama-swap config.yaml or a llama-server models preset (INI)."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import events, ui

from exchange import FILE_MAX, ImportFile
from protocol.config import field_label, shown_value
from store import ModelDeck, StoreError
from store.actor import Actor
from store.importing import ImportPlan, OnConflict, Outcome, PlannedModel, read_file

CHOICES = {OnConflict.SKIP.value: "Skip them", OnConflict.REPLACE.value: "Replace them",
           OnConflict.COPY.value: "Import as copies"}
COLORS = {Outcome.NEW: "text-positive", Outcome.CHANGE: "text-warning", Outcome.COPY: "text-info",
          Outcome.REFUSED: "text-negative"}


def outcome_line(model: PlannedModel) -> str:
    """What the preview says of one model: "new", "changes 3 fields", "refused: why"..."""
    if model.outcome is Outcome.CHANGE:
        count = len(model.changes)
        return f"changes {count} field{'s' if count != 1 else ''}"
    if model.outcome in {Outcome.REFUSED, Outcome.SKIP}:
        return f"{'refused' if model.outcome is Outcome.REFUSED else 'skipped'}: {model.reason}"
    return {Outcome.NEW: "new", Outcome.UNCHANGED: "unchanged", Outcome.COPY: "new copy"}[model.outcome]


class ImportDialog(ui.dialog):
    """One per page, built when first asked."""

    def __init__(self, deck: ModelDeck, actor: Callable[[], Actor]) -> None:
        super().__init__()
        self.deck = deck
        self.actor = actor
        self.data: bytes | None = None
        self.content_type: str | None = None
        with self, ui.card().classes("w-full max-w-2xl"):
            ui.label("Import configurations").classes("text-lg font-bold")
            ui.label("ModelDeck's own export (JSON), a llama-swap config.yaml, or a llama-server models preset "
                     "(INI). Nothing changes until you press Import.").classes("text-sm opacity-80")
            self.upload = ui.upload(label="Choose a file", auto_upload=True, max_file_size=FILE_MAX,
                                    on_upload=self._uploaded,
                                    on_rejected=lambda: self._say(f"The file is larger than {FILE_MAX >> 20} MiB.")
                                    ).props("accept=.json,.yaml,.yml,.ini,.txt flat bordered").classes("w-full").mark(
                "import-upload")
            self.pasted = ui.textarea("…or paste it here").classes("w-full").props("autogrow").mark("import-text")
            ui.label("When a model of the same name exists:").classes("text-sm opacity-70")
            self.choice = ui.radio(CHOICES, value=OnConflict.SKIP.value).props("inline").classes("-mt-2").mark(
                "import-choice")
            self.message = ui.label().classes("text-negative break-words").mark("import-message")
            self.preview = ui.column().classes("w-full gap-2 max-h-[50vh] overflow-auto").mark("import-preview")
            with ui.row().classes("w-full justify-end gap-2 sticky bottom-0 py-2"):
                ui.button("Cancel", on_click=self.close).props("flat").classes("min-h-[44px]")
                ui.button("Preview", on_click=self.show_preview).props("outline").classes("min-h-[44px]").mark(
                    "import-preview-button")
                self.apply_button = ui.button("Import", on_click=self.apply).classes("min-h-[44px]").mark(
                    "import-apply")
        self.choice.on_value_change(self.show_preview)

    def open_empty(self) -> None:
        self.data = self.content_type = None
        self.pasted.value = ""
        self.message.text = ""
        self.preview.clear()
        self.upload.reset()
        self.apply_button.disable()
        self.open()

    def _say(self, message: str) -> None:
        self.message.text = message

    async def _uploaded(self, upload: events.UploadEventArguments) -> None:
        self.data = await upload.file.read()
        self.content_type = upload.file.content_type or None
        self.pasted.value = ""
        await self.show_preview()

    def _file(self) -> ImportFile | None:
        """The file as read, or None with the reason shown."""
        if self.pasted.value:
            data, content_type = str(self.pasted.value).encode(), None
        elif self.data is not None:
            data, content_type = self.data, self.content_type
        else:
            self._say("Choose a file or paste its text first.")
            return None
        try:
            return read_file(data, content_type, self.deck.flags)
        except StoreError as exc:
            self._say(str(exc))
            return None

    async def _run(self, apply: bool) -> ImportPlan | None:
        self._say("")
        file = self._file()
        if file is None:
            return None
        try:
            return await self.deck.import_file(file, OnConflict(self.choice.value), actor=self.actor(), apply=apply)
        except StoreError as exc:
            self._say(str(exc))
            return None

    async def show_preview(self) -> None:
        plan = await self._run(apply=False)
        self.preview.clear()
        if plan is None:
            self.apply_button.disable()
            return
        self._render(plan)
        count = len(plan.written)
        self.apply_button.text = f"Import {count} model{'s' if count != 1 else ''}"
        self.apply_button.set_enabled(count > 0)

    async def apply(self) -> None:
        plan = await self._run(apply=True)
        if plan is None:
            return
        if not plan.applied:
            self._say("Nothing to import: every model is refused, skipped or unchanged.")
            return
        self.close()
        written = len(plan.written)
        ui.notify(f"Imported {written} model{'s' if written != 1 else ''} from the {plan.format} file",
                  type="positive")

    def _render(self, plan: ImportPlan) -> None:
        with self.preview:
            counts = ", ".join(f"{n} {outcome}" for outcome, n in plan.counts().items() if n)
            ui.label(f"{plan.format} file: {counts or 'no models'}").classes("font-bold").mark("import-counts")
            for note in plan.notes:
                ui.label(note).classes("text-sm opacity-70")
            for model in plan.models:
                with ui.column().classes("w-full gap-0").mark(f"planned-{model.name}"):
                    with ui.row().classes("w-full gap-x-2 gap-y-0 items-baseline"):
                        ui.label(model.name).classes("font-medium break-all")
                        ui.label(outcome_line(model)).classes(f"text-sm break-words {COLORS.get(model.outcome, '')}")
                    for name, (old, new) in model.changes.items():
                        ui.label(f"{field_label(name)}: {shown_value(old)} → {shown_value(new)}").classes(
                            "text-sm break-all pl-4")
                    for note in model.notes:
                        ui.label(note).classes("text-xs opacity-70 break-words pl-4")
