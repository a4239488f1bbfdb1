"""Hostile text in the sign-in, setup and new-account forms: a clear message every time, no crash, no account."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from auth.middleware import safe_next
from protocol.role import Role
from tests.security.conftest import PASSWORD, FakeClock, make_account, running_gate, sign_in
from tests.security.hostile import hostile_inputs
from tests.waiting import until


def _text(user: User, marker: str) -> str:
    label = next(iter(user.find(marker=marker).elements))
    assert isinstance(label, ui.label)
    return label.text


async def test_hostile_sign_in_attempts_get_a_clear_answer(user: User) -> None:
    clock = FakeClock()
    running_gate().limiter.clock = clock
    await make_account("ada", Role.ADMIN)
    await user.open("/login")
    for value in [*hostile_inputs("canary"), "ada\x00", "\uff21\uff24\uff21", "ada' --"]:  # NUL, full-width, SQL
        for name, password in ((value, PASSWORD), ("ada", value)):
            user.find(marker="login-name").clear().type(name)
            user.find(marker="login-password").clear().type(password)
            user.find(marker="login-submit").click()
            await until(lambda: _text(user, "login-message") and not _field(user, "login-password"),
                        message="an answer")
            assert _text(user, "login-message").startswith(("Wrong user name or password", "Too many"))
            clock.advance(61)  # stay clear of the limit: this test is about the answers
    assert user.back_history[-1] == "/login"


async def test_hostile_new_accounts_are_refused_with_a_reason(user: User) -> None:
    await make_account("ada", Role.ADMIN)
    await sign_in(user, "ada")
    await user.open("/users")
    message = next(iter(user.find(marker="new-user-message").elements))
    assert isinstance(message, ui.label)
    for value in hostile_inputs("canary"):
        message.text = ""  # each answer is awaited afresh
        user.find(marker="new-user-name").clear().type(value)
        user.find(marker="new-user-password").clear().type(PASSWORD)
        user.find(marker="create-user").click()
        await until(lambda: message.text, message=f"an answer to {value[:30]!r}")
        assert "user name" in message.text
    assert [a.name for a in running_gate().accounts.all()] == ["ada"]


def test_only_paths_on_this_site_follow_a_sign_in() -> None:
    for target in ("//evil.example", "http://evil.example", "/\\evil.example", "javascript:alert(1)", "/logout"):
        assert safe_next(target) == "/"
    assert safe_next("/audit?page=2") == "/audit?page=2"


def _field(user: User, marker: str) -> str:
    element = next(iter(user.find(marker=marker).elements))
    assert isinstance(element, ui.input)
    return str(element.value or "")
