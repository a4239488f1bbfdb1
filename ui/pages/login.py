"""Signing in (/login), the first admin account (/setup, with the one-time token) and signing out (/logout)."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from auth.accounts import AccountError
from auth.gate import Gate, write_session
from auth.middleware import safe_next
from protocol.role import Role
from store import audit
from ui.page import page
from ui.services import Services
from ui.theme import page_look

NAME_KEY_MAX = 64  # what a typed name may add to the rate limiter's memory


def _too_many(wait_s: float) -> str:
    return f"Too many failed sign-ins. Try again in {math.ceil(wait_s)} s."


def _card(title: str) -> ui.card:
    ui.page_title(f"{title} · ModelDeck")
    page_look()
    card = ui.card().classes("absolute-center w-11/12 max-w-sm gap-2")
    with card:
        ui.label(title).classes("text-xl font-bold")
    return card


def register(services: Services) -> None:
    gate = services.gate
    _login(gate)
    _renew(gate)
    _setup(gate)
    _logout(gate)


def _renew(gate: Gate) -> None:
    """The two hops of a sign-in that give the browser a fresh session id (auth/renewal.py)."""

    @app.get("/login/renew", include_in_schema=False)
    def renew(request: Request, token: str = Query("", alias="pass"), next: str = "/") -> RedirectResponse:
        fresh = gate.renewals.renew(token, str(request.session.get("id", "")))
        if fresh is None:
            return RedirectResponse("/login", status_code=303)
        app.storage.user.clear()  # the old id signs nobody in; what else it held is carried by the pass
        request.session["id"] = fresh
        return RedirectResponse(f"/login/finish?{urlencode({'pass': token, 'next': next})}", status_code=303)

    @app.get("/login/finish", include_in_schema=False)
    def finish(request: Request, token: str = Query("", alias="pass"), next: str = "/") -> RedirectResponse:
        granted = gate.renewals.finish(token, str(request.session.get("id", "")))
        if granted is None:
            return RedirectResponse("/login", status_code=303)
        app.storage.user.update(granted.carried)
        write_session(granted.name, granted.key)
        return RedirectResponse(safe_next(next), status_code=303)


def _login(gate: Gate) -> None:
    @page("/login")
    def login_page(next: str = "/") -> RedirectResponse | None:
        target = safe_next(next)
        if gate.session_actor() is not None:
            return RedirectResponse(target)

        def answer(text: str) -> None:
            password.value = ""
            message.text = text

        async def sign_in() -> None:
            message.text = ""
            address = ui.context.client.ip
            keys = (f"address:{address}", f"name:{name.value.strip().lower()[:NAME_KEY_MAX]}")
            if wait := gate.limiter.wait_s(*keys):
                answer(_too_many(wait))
                return
            gate.limiter.failed(*keys)  # counted before the slow check, so parallel tries cannot slip past
            account = await gate.accounts.verify(name.value, password.value)
            if account is None:
                await audit.record_alone(name.value.strip()[:NAME_KEY_MAX], "sign-in.failed", address=address)
                wait = gate.limiter.wait_s(*keys)
                answer("Wrong user name or password." + (f" {_too_many(wait)}" if wait else ""))
                return
            gate.limiter.forget(*keys)
            await audit.record_alone(account.name, "sign-in", address=address)
            ui.navigate.to(gate.sign_in_path(account, target))

        with _card("Sign in to ModelDeck"):
            if gate.accounts.empty:
                ui.label("No account exists yet: open the setup link that ModelDeck printed in its terminal.").mark(
                    "no-accounts")
            name = ui.input("User name").classes("w-full").mark("login-name").on("keydown.enter", sign_in)
            password = ui.input("Password", password=True, password_toggle_button=True).classes("w-full").mark(
                "login-password").on("keydown.enter", sign_in)
            message = ui.label().classes("text-negative").mark("login-message")
            ui.button("Sign in", on_click=sign_in).classes("w-full min-h-[44px]").mark("login-submit")
        return None


def _setup(gate: Gate) -> None:
    @page("/setup")
    def setup_page(token: str = "") -> RedirectResponse | None:
        if gate.open or not gate.accounts.empty:
            return RedirectResponse("/" if gate.open else "/login")

        async def create() -> None:
            keys = (f"address:{ui.context.client.ip}",)
            if wait := gate.limiter.wait_s(*keys):
                message.text = _too_many(wait)
                return
            if gate.setup_token is None or not gate.setup_token.matches(str(token_input.value)):
                gate.limiter.failed(*keys)
                message.text = "That setup token is not valid: use the one printed at ModelDeck's last start."
                return
            if password.value != repeat.value:
                message.text = "The two passwords differ."
                return
            try:
                account = await gate.accounts.create(name.value, password.value, Role.ADMIN, by=None)
            except AccountError as exc:
                message.text = str(exc)
                return
            gate.setup_token = None  # used up
            gate.limiter.forget(*keys)
            ui.navigate.to(gate.sign_in_path(account, "/"))

        with _card("Create the first admin account"):
            token_input = ui.input("Setup token", value=token).classes("w-full").mark("setup-token")
            name = ui.input("User name").classes("w-full").mark("setup-name")
            password = ui.input("Password", password=True).classes("w-full").mark("setup-password")
            repeat = ui.input("Password again", password=True).classes("w-full").mark("setup-repeat")
            message = ui.label().classes("text-negative").mark("setup-message")
            ui.button("Create account", on_click=create).classes("w-full min-h-[44px]").mark("setup-submit")
        return None


def _logout(gate: Gate) -> None:
    @page("/logout")
    async def logout_page() -> RedirectResponse:
        actor = gate.session_actor()
        gate.sign_out()
        if actor is not None and not gate.open:
            await audit.record_alone(actor, "sign-out")
        return RedirectResponse("/" if gate.open else "/login")
