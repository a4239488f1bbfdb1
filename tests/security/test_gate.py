"""On the LAN nothing works without signing in; the first start hands out a one-time setup link."""

from __future__ import annotations

import re
import stat

import pytest
from nicegui import Client, __version__, core
from nicegui.testing import User

from auth.gate import is_loopback
from auth.middleware import is_public
from protocol.role import Role
from settings import parse_settings
from tests.app.conftest import DeckHome
from tests.security.conftest import PASSWORD, make_account, on_page, running_gate, sign_in
from tests.simulation import started_app

PAGES = ["/", "/users", "/audit", "/account", "/logout"]
ROUTES = [("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/no/such/page"),
          ("POST", "/_nicegui/client/0/upload/1"), ("GET", "/_nicegui/auto/static/x"),
          ("GET", "/_nicegui_ws/socket.io/?EIO=4&transport=polling&client_id=nobody")]


async def test_every_page_sends_a_stranger_to_sign_in(user: User) -> None:
    for path in PAGES:
        response = await user.http_client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    await user.open("/users")
    await user.should_see(marker="login-name")


async def test_every_registered_route_is_closed_without_a_session(user: User) -> None:
    """Walks the app's routes, so a page or endpoint added later is covered too."""
    checked = 0
    for route in core.app.routes:
        path = getattr(route, "path", "")
        if not path or is_public(path) or path.startswith("/_nicegui_ws"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            response = await user.http_client.request(method, concrete)
            if path in Client.page_routes.values():
                assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
            else:
                assert response.status_code == 401, (method, path)
            checked += 1
    assert checked >= len(PAGES)


async def test_every_other_route_answers_401_without_a_session(user: User) -> None:
    for method, path in ROUTES:
        response = await user.http_client.request(method, path)
        assert response.status_code == 401, (method, path)
    assert (await user.http_client.get("/login")).status_code == 200
    assert (await user.http_client.get(f"/_nicegui/{__version__}/static/nicegui.js")).status_code == 200


async def test_first_start_prints_a_one_time_setup_link_with_a_qr_code(
        capsys: pytest.CaptureFixture[str], user: User) -> None:
    printed = capsys.readouterr().out
    link = re.search(r"(http://\S+)/setup\?token=(\S+)", printed)
    assert link, printed
    assert "▄" in printed or "█" in printed  # the QR code
    await user.open("/")
    await user.should_see(marker="no-accounts")
    await user.open(f"/setup?token={link.group(2)}")
    user.find(marker="setup-name").type("Boss")
    user.find(marker="setup-password").type(PASSWORD)
    user.find(marker="setup-repeat").type(PASSWORD)
    user.find(marker="setup-submit").click()
    await on_page(user, "/")
    await user.should_see(marker="add-model")
    assert running_gate().accounts.get("boss") is not None
    # The token is used up: the setup page is gone for everyone else.
    response = await user.http_client.get(f"/setup?token={link.group(2)}")
    assert response.status_code in {302, 303, 307} and response.headers["location"] == "/login"


async def test_a_wrong_setup_token_creates_nothing(user: User) -> None:
    await user.open("/setup?token=guess")
    user.find(marker="setup-name").type("mallory")
    user.find(marker="setup-password").type(PASSWORD)
    user.find(marker="setup-repeat").type(PASSWORD)
    user.find(marker="setup-submit").click()
    await user.should_see("That setup token is not valid")
    assert running_gate().accounts.empty


async def test_sign_in_then_out(user: User) -> None:
    await make_account("ada", Role.ADMIN)
    await user.open("/login")
    user.find(marker="login-name").type("ada")
    user.find(marker="login-password").type("not the password")
    user.find(marker="login-submit").click()
    await user.should_see("Wrong user name or password.", retries=100)
    await sign_in(user, "ada")
    assert (await user.http_client.get("/audit")).status_code == 200
    await user.open("/logout")
    await user.should_see(marker="login-name")
    assert (await user.http_client.get("/audit")).status_code == 303


async def test_the_socket_opens_only_for_this_browsers_signed_in_page(user: User, second_user: User) -> None:
    await make_account("ada", Role.ADMIN)
    await sign_in(user, "ada")
    assert user.client is not None
    socket = "/_nicegui_ws/socket.io/?EIO=4&transport=polling&client_id="
    models_page = user.client.id
    assert (await user.http_client.get(socket + models_page)).status_code == 200
    assert (await second_user.http_client.get(socket + models_page)).status_code == 401  # someone else's page
    await user.open("/logout")
    assert (await user.http_client.get(socket + models_page)).status_code == 401  # signed out: that page is dead
    assert user.client.page.path == "/login"
    assert (await user.http_client.get(socket + user.client.id)).status_code == 200  # the sign-in page may talk


async def test_a_password_change_ends_the_other_sessions(user: User, second_user: User) -> None:
    await make_account("ada", Role.VIEWER)
    await sign_in(user, "ada")
    await sign_in(second_user, "ada")
    await user.open("/account")
    user.find(marker="current-password").type(PASSWORD)
    user.find(marker="new-password").type("a brand new secret")
    user.find(marker="repeat-password").type("a brand new secret")
    user.find(marker="change-password").click()
    await user.should_see("Password changed", retries=100)
    assert (await user.http_client.get("/")).status_code == 200
    assert (await second_user.http_client.get("/")).status_code == 303


async def test_the_session_secret_is_made_once_and_kept_private(lan_home: DeckHome) -> None:
    async with started_app():
        pass
    secret_file = lan_home.data_dir / "session_secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    first = secret_file.read_text()
    async with started_app() as again:
        await make_account("ada", Role.ADMIN)
        await sign_in(again, "ada")
    assert secret_file.read_text() == first


@pytest.mark.parametrize(("host", "flag", "is_open"), [
    ("127.0.0.1", "true", True), ("::1", "1", True), ("127.0.0.1", "false", False), ("192.168.1.5", "true", False)])
def test_open_on_loopback_setting(host: str, flag: str, is_open: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDECK_HOST", host)
    monkeypatch.setenv("MODELDECK_OPEN_ON_LOOPBACK", flag)
    settings = parse_settings([])
    assert (settings.open_on_loopback and is_loopback(settings.host)) is is_open
    assert parse_settings(["--no-open-on-loopback"]).open_on_loopback is False
