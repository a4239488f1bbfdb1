"""/users: admins create viewer and admin accounts and delete them."""

from __future__ import annotations

from nicegui import ui

from auth.accounts import AccountError
from protocol.role import Role
from ui.components.confirm_dialog import ConfirmDialog
from ui.page import page
from ui.services import Services
from ui.theme import admins_only, frame


def register(services: Services) -> None:
    @page("/users")
    def users_page() -> None:
        with frame("Users", services) as actor:
            ui.label("Users").classes("text-2xl font-bold")
            if admins_only(actor, "manage accounts"):
                _users_section(services)


def _users_section(services: Services) -> None:
    gate = services.gate
    confirm = ConfirmDialog()

    async def delete(name: str) -> None:
        try:
            await gate.accounts.delete(name, by=services.actor())
        except AccountError as exc:
            ui.notify(str(exc), type="negative")
        else:
            ui.notify(f"Deleted {name}", type="positive")

    @ui.refreshable
    def account_list() -> None:
        with ui.column().classes("w-full gap-1"):
            for account in gate.accounts.all():
                with ui.row().classes("w-full items-center justify-between").mark(f"user-{account.name}"):
                    ui.label(f"{account.name} · {account.role.value}")
                    ui.button(icon="delete", color="negative", on_click=lambda name=account.name: confirm.ask(
                        f"Delete the account {name}?", "Delete", lambda: delete(name))).props("flat round").mark(
                        f"delete-user-{account.name}")

    async def create() -> None:
        try:
            account = await gate.accounts.create(name.value, password.value, Role(role.value), by=services.actor())
        except AccountError as exc:
            message.text = str(exc)
            return
        message.text = ""
        name.value = password.value = ""
        ui.notify(f"Created {account.name} ({account.role.value})", type="positive")

    account_list()
    gate.accounts.changed.subscribe(account_list.refresh)
    with ui.card().classes("w-full max-w-md gap-2"):
        ui.label("New account").classes("text-lg font-bold")
        name = ui.input("User name").classes("w-full").mark("new-user-name")
        password = ui.input("Password", password=True).classes("w-full").mark("new-user-password")
        role = ui.select([r.value for r in Role], value=Role.VIEWER.value, label="Role").classes("w-full").mark(
            "new-user-role")
        ui.label("A viewer sees everything and cannot start, stop or edit anything.").classes("text-sm opacity-70")
        message = ui.label().classes("text-negative").mark("new-user-message")
        ui.button("Create account", on_click=create).classes("min-h-[44px]").mark("create-user")
