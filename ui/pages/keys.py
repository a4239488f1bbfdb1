"""/keys: admins create API keys for apps (all models or some, an optional expiry, a scope) and revoke them.

A new key is shown once, in a dialog with a copy button; afterwards only its first characters are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import partial

from nicegui import ui

from auth.api_keys import ApiKey, ApiKeyError, Scope
from ui.components.confirm_dialog import ConfirmDialog
from ui.page import page
from ui.services import Services
from ui.theme import admins_only, frame

SCOPES = {Scope.INFERENCE.value: "Use models (the gateway, /v1)", Scope.MANAGE.value: "Manage (the management API)"}


def _state_of(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return f"revoked {key.revoked_at:%Y-%m-%d}"
    if key.expires_at is not None and key.expires_at <= now:
        return f"expired {key.expires_at:%Y-%m-%d}"
    return "active" + (f", expires {key.expires_at:%Y-%m-%d}" if key.expires_at else "")


def parse_expiry(text: str) -> datetime | None:
    """A date (YYYY-MM-DD) typed or picked: the key works until the end of that day (UTC); empty: never expires."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ApiKeyError("the expiry is a date such as 2027-01-31 (or empty: never)") from None
    return datetime.combine(day, time.max, tzinfo=UTC)


def _key_card(key: ApiKey, names: dict[str, str], now: datetime, on_revoke: Callable[[], None]) -> None:
    models = "all models" if key.model_uids is None else ", ".join(
        sorted(names.get(uid, "(deleted)") for uid in key.model_uids))
    with ui.card().classes("w-full gap-1").mark(f"key-{key.id}"):
        with ui.row().classes("w-full items-center justify-between no-wrap"):
            ui.label(key.name).classes("text-base font-bold break-all")
            if key.revoked_at is None:
                ui.button("Revoke", color="negative", on_click=on_revoke).props("flat").classes(
                    "min-h-[44px]").mark(f"revoke-{key.id}")
        ui.label(f"{key.prefix}… · {', '.join(sorted(key.scopes))} · {models}").classes("text-sm font-mono break-all")
        ui.label(f"{_state_of(key, now)} · made by {key.created_by} on {key.created_at:%Y-%m-%d}").classes(
            "text-sm opacity-70").mark(f"key-state-{key.id}")


def register(services: Services) -> None:
    @page("/keys")
    def keys_page() -> None:
        with frame("Keys", services) as actor:
            ui.label("API keys").classes("text-2xl font-bold")
            if admins_only(actor, "manage API keys"):
                _keys_section(services)


def _keys_section(services: Services) -> None:
    gate = services.gate
    confirm = ConfirmDialog()
    names = {state.uid: state.name for state in services.deck.in_order()}

    with ui.dialog() as shown_once, ui.card().classes("w-full max-w-lg gap-2"):
        ui.label("Copy the key now").classes("text-lg font-bold")
        ui.label("This is the only time ModelDeck shows it; it keeps only a digest.").classes("text-sm")
        plain_key = ui.input("API key").props("readonly").classes("w-full font-mono").mark("new-key-value")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Copy", icon="content_copy",
                      on_click=lambda: ui.clipboard.write(plain_key.value)).props("flat").mark("copy-key")
            ui.button("Done", on_click=shown_once.close).mark("key-done")

    async def revoke(key: ApiKey) -> None:
        try:
            await gate.keys.revoke(key.id, by=services.actor())
        except ApiKeyError as exc:
            ui.notify(str(exc), type="negative")
        else:
            ui.notify(f"Revoked {key.name}: apps using it are refused from now on", type="positive")

    def ask_revoke(key: ApiKey) -> None:
        confirm.ask(f"Revoke {key.name}? Apps using it are refused at once.", "Revoke", lambda: revoke(key))

    @ui.refreshable
    def key_list() -> None:
        now = datetime.now(UTC)
        keys = gate.keys.all()
        if not keys:
            ui.label("No keys yet. Apps on the LAN need one to use the models.").classes("opacity-70").mark(
                "no-keys")
        with ui.column().classes("w-full gap-2"):
            for key in keys:
                _key_card(key, names, now, partial(ask_revoke, key))

    async def create() -> None:
        chosen_models = None if all_models.value else list(model_choice.value or [])
        try:
            _, plain = await gate.keys.create(name.value, [Scope(s) for s in scope_choice.value or []],
                                              chosen_models, parse_expiry(expiry.value or ""), by=services.actor())
        except ApiKeyError as exc:
            message.text = str(exc)
            return
        message.text = ""
        name.value = expiry.value = ""
        plain_key.value = plain
        shown_once.open()

    with ui.card().classes("w-full max-w-lg gap-2"):
        ui.label("New key").classes("text-lg font-bold")
        name = ui.input("Name (the app or person using it)").classes("w-full").mark("new-key-name")
        scope_choice = ui.select(SCOPES, multiple=True, value=[Scope.INFERENCE.value], label="May").classes(
            "w-full").mark("new-key-scopes")
        all_models = ui.switch("All models", value=True).mark("new-key-all-models")
        model_choice = ui.select(names, multiple=True, label="Only these models").classes("w-full").mark(
            "new-key-models")
        model_choice.bind_visibility_from(all_models, "value", backward=lambda every: not every)
        expiry = ui.input("Expires on (empty: never)").props("type=date").classes("w-full").mark("new-key-expiry")
        message = ui.label().classes("text-negative").mark("new-key-message")
        ui.button("Create key", on_click=create).classes("min-h-[44px]").mark("create-key")
    key_list()
    gate.keys.changed.subscribe(key_list.refresh)
