"""A sign-in gives the browser a new session id (auth/renewal.py): one planted before is worthless."""

from __future__ import annotations

import httpx
from nicegui import core
from nicegui.testing import User

from auth.renewal import PASS_TTL_S, SessionRenewals
from protocol.role import Role
from tests.security.conftest import FakeClock, make_account, sign_in


async def test_a_session_id_planted_before_sign_in_is_worthless_after_it(user: User) -> None:
    await make_account("ada", Role.ADMIN)
    await user.open("/login")
    planted = user.http_client.cookies.get("session")  # what an attacker could have set in this browser
    assert planted
    await sign_in(user, "ada")
    assert user.http_client.cookies.get("session") != planted
    async with httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test",
                                 cookies={"session": planted}) as attacker:
        response = await attacker.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_pass_serves_once_its_own_browser_within_its_time() -> None:
    clock = FakeClock()
    renewals = SessionRenewals(clock)
    token = renewals.issue("ada", "key", "browser-1", {})
    assert renewals.renew(token, "browser-2") is None  # another browser cannot use it
    fresh = renewals.renew(token, "browser-1")
    assert fresh is not None and fresh != "browser-1"
    assert renewals.renew(token, "browser-1") is None  # nor can it renew twice
    assert renewals.finish(token, "browser-1") is None  # the old id cannot finish it
    granted = renewals.finish(token, fresh)
    assert granted is not None and (granted.name, granted.key) == ("ada", "key")
    assert renewals.finish(token, fresh) is None  # used up

    late = renewals.issue("ada", "key", "browser-1", {})
    clock.advance(PASS_TTL_S + 1)
    assert renewals.renew(late, "browser-1") is None
