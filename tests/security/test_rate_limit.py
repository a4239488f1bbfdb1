"""Guessing passwords is slow: 5 failures a minute per address and per name, then a clear message."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from auth.rate_limit import Limits, RateLimiter
from protocol.role import Role
from tests.security.conftest import PASSWORD, FakeClock, make_account, on_page, running_gate
from tests.waiting import until


def test_the_window_slides_with_the_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Limits(failures=5, window_s=60.0), clock)
    for _ in range(5):
        assert limiter.wait_s("address:a") == 0
        limiter.failed("address:a")
        clock.advance(1)
    assert limiter.wait_s("address:a") == 55  # failures at 0..4 s, now 5 s: the first leaves at 60 s
    assert limiter.wait_s("address:b") == 0  # other addresses are not affected
    clock.advance(55)
    assert limiter.wait_s("address:a") == 0
    limiter.failed("name:x")
    limiter.forget("name:x")
    assert limiter.wait_s("name:x") == 0


async def test_twenty_wrong_passwords_are_rate_limited_and_the_right_one_works_after_the_window(
        user: User) -> None:
    clock = FakeClock()
    running_gate().limiter.clock = clock
    await make_account("ada", Role.ADMIN)
    await user.open("/login")
    user.find(marker="login-name").type("ada")
    answers = [await _try(user, f"wrong {attempt}") for attempt in range(20)]
    assert answers[:4] == ["Wrong user name or password."] * 4
    assert answers[4] == "Wrong user name or password. Too many failed sign-ins. Try again in 60 s."
    assert answers[5:] == ["Too many failed sign-ins. Try again in 60 s."] * 15
    clock.advance(30)
    assert await _try(user, PASSWORD) == "Too many failed sign-ins. Try again in 30 s."  # even the right one
    clock.advance(31)
    user.find(marker="login-password").clear().type(PASSWORD)
    user.find(marker="login-submit").click()
    await on_page(user, "/")
    await user.should_see(marker="add-model")


async def _try(user: User, password: str) -> str:
    """Sign in with this password; the page's answer (it clears the password field when it answers)."""
    field = next(iter(user.find(marker="login-password").clear().type(password).elements))
    message = next(iter(user.find(marker="login-message").elements))
    assert isinstance(field, ui.input) and isinstance(message, ui.label)
    user.find(marker="login-submit").click()
    await until(lambda: field.value == "" and message.text, message="an answer")
    return message.text
