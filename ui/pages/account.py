"""/account: the signed-in person changes their own password (every other session of theirs ends)."""

from __future__ import annotations

from nicegui import ui

from auth.accounts import AccountError
from store.actor import LOCAL_ADMIN
from ui.page import page
from ui.services import Services
from ui.theme import frame


def register(services: Services) -> None:
    gate = services.gate

    @page("/account")
    def account_page() -> None:
        async def change() -> None:
            if new.value != repeat.value:
                message.text = "The two new passwords differ."
                return
            try:
                account = await gate.accounts.change_password(services.actor().name, current.value, new.value)
            except AccountError as exc:
                message.text = str(exc)
                return
            gate.sign_in(account)  # this session goes on with the new password; others are signed out
            for field in (current, new, repeat):
                field.value = ""
            message.text = ""
            ui.notify("Password changed", type="positive")

        with frame("Account", services) as actor:
            ui.label(f"Signed in as {actor.name} ({actor.role.value})").classes("text-xl font-bold")
            if actor == LOCAL_ADMIN:
                ui.label("ModelDeck is open on loopback: there is no account and no password here.")
                return
            with ui.card().classes("w-full max-w-sm gap-2"):
                ui.label("Change password").classes("text-lg font-bold")
                current = ui.input("Current password", password=True).classes("w-full").mark("current-password")
                new = ui.input("New password", password=True).classes("w-full").mark("new-password")
                repeat = ui.input("New password again", password=True).classes("w-full").mark("repeat-password")
                message = ui.label().classes("text-negative").mark("account-message")
                ui.button("Change password", on_click=change).classes("min-h-[44px]").mark("change-password")
