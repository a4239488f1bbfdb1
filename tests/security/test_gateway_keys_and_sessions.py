"""Keys and sessions stay apart: a signed-in browser's cookie opens no gateway route; a key made on the Keys
page opens the gateway (and no page) until it is revoked there."""

from __future__ import annotations

from typing import cast

import httpx
from nicegui import core, ui
from nicegui.testing import User

from db.user_record import Role
from tests.security.conftest import make_account, running_gate, sign_in
from tests.waiting import until


def gateway_client(key: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test", headers=headers)


async def test_a_signed_in_session_opens_no_gateway_route(user: User) -> None:
    await make_account("ada", Role.ADMIN)
    await sign_in(user, "ada")
    assert (await user.http_client.get("/audit")).status_code == 200  # the cookie opens pages
    for method, path in (("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("GET", "/upstream/x/props")):
        answer = await user.http_client.request(method, path, json={"model": "x"})
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_api_key", path


async def test_a_key_made_on_the_keys_page_works_once_shown_and_stops_when_revoked(user: User) -> None:
    await make_account("ada", Role.ADMIN)
    await sign_in(user, "ada")
    await user.open("/keys")
    await user.should_see(marker="no-keys")
    user.find(marker="new-key-name").type("open-webui")
    user.find(marker="create-key").click()
    shown = cast(ui.input, next(iter(user.find(marker="new-key-value").elements)))
    await until(lambda: str(shown.value).startswith("mdk-"), message="the key shown once")
    key = str(shown.value)
    await user.should_see("open-webui")
    async with gateway_client(key) as app:
        assert (await app.get("/v1/models")).json() == {"object": "list", "data": []}
        page = await app.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")  # a key opens no page

    await user.open("/keys")  # the simulated browser's next request (the app's calls above were not the browser's)
    [made] = running_gate().keys.all()
    assert made.name == "open-webui" and made.prefix == key[:10] and made.revoked_at is None
    user.find(marker=f"revoke-{made.id}").click()
    user.find(marker="confirm-ok").click()
    await user.should_see("revoked")
    async with gateway_client(key) as app:
        assert (await app.get("/v1/models")).status_code == 401


async def test_viewers_cannot_manage_keys(user: User) -> None:
    await make_account("ada", Role.ADMIN)
    await make_account("tablet", Role.VIEWER)
    await sign_in(user, "tablet")
    await user.open("/keys")
    await user.should_see(marker="admins-only")
    await user.should_not_see(marker="create-key")
