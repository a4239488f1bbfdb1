"""ModelDeck listening on the LAN (0.0.0.0): sign-in required. Helpers to sign in as a person would."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from nicegui import core
from nicegui.testing import User

from auth.accounts import Account
from auth.gate import Gate
from auth.middleware import SignInRequired
from protocol.role import Role
from store.actor import SYSTEM
from tests.app.conftest import DeckHome, make_home
from tests.waiting import until

PASSWORD = "correct horse battery"


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def lan_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DeckHome:
    return make_home(tmp_path, monkeypatch, "0.0.0.0")


def running_gate() -> Gate:
    """The gate of the app running now: the one its sign-in middleware checks every request with."""
    [door] = [middleware for middleware in core.app.user_middleware if middleware.cls is SignInRequired]
    gate = door.kwargs["gate"]
    assert isinstance(gate, Gate)
    return gate


async def make_account(name: str, role: Role, password: str = PASSWORD) -> Account:
    """An account made past the UI (by ModelDeck itself), for tests about something else."""
    return await running_gate().accounts.create(name, password, role, by=SYSTEM)


async def on_page(user: User, path: str) -> None:
    """The page the browser shows now is `path` (after any redirects, such as a sign-in's last hops)."""
    await until(lambda: user.client is not None and user.client.page.path == path,
                message=f"the browser is on {path}")


async def sign_in(user: User, name: str, password: str = PASSWORD, *, expect: str = "/") -> None:
    await user.open("/login")
    user.find(marker="login-name").clear().type(name)
    user.find(marker="login-password").clear().type(password)
    user.find(marker="login-submit").click()
    await on_page(user, expect)
    # The simulated browser runs later clicks in this task's request context, which is still the
    # sign-in page's (a real browser's events carry the request of the page they came from); a
    # sign-in changes the session id, so open the page again as the person's next request.
    await user.open(expect)


@pytest.fixture
def second_user(user: User) -> User:
    """Another browser on the same running app."""
    return User(httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test"))
