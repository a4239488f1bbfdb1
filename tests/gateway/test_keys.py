"""Off loopback every gateway route needs an API key; each kind of wrong key is refused with its own status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from auth.api_keys import Scope
from tests.gateway.conftest import Deck, DeckFactory, KeySpec, llama_servers
from tests.waiting import until


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def models_seen(http: aiohttp.ClientSession, deck: Deck, headers: dict[str, str]) -> tuple[int, Any]:
    async with http.get(f"{deck.base_url}/models", headers=headers) as answer:
        return answer.status, await answer.json()


async def test_keys_none_wrong_revoked_expired_scoped_and_manage_only(deck: DeckFactory,
                                                                      http: aiohttp.ClientSession) -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    running = await deck(models={"tiny": {}, "other": {}}, open_on_loopback=False, keys=[
        KeySpec("open-webui"), KeySpec("ide", models=("tiny",)), KeySpec("scripts", scopes=(Scope.MANAGE,)),
        KeySpec("old", expires_at=soon), KeySpec("gone")], revoke=("gone",), expire=("old",))
    keys = running.keys

    assert (await models_seen(http, running, bearer(keys["open-webui"])))[0] == 200
    status, scoped = await models_seen(http, running, bearer(keys["ide"]))
    assert status == 200 and [model["id"] for model in scoped["data"]] == ["tiny"]  # it sees only its own
    async with http.post(f"{running.base_url}/completions", headers=bearer(keys["ide"]),
                         json={"model": "other", "prompt": "hi", "max_tokens": 1}) as forbidden:
        assert forbidden.status == 403 and (await forbidden.json())["error"]["code"] == "model_not_allowed"
    status, manage_only = await models_seen(http, running, bearer(keys["scripts"]))
    assert status == 403 and manage_only["error"]["code"] == "scope_not_allowed"
    async with http.post(f"{running.base_url}/completions", headers=bearer(keys["ide"]),
                         json={"model": "tiny", "prompt": "hi", "max_tokens": 1}) as allowed:
        assert allowed.status == 200
    assert running.rows("SELECT actor FROM audit_log WHERE action = 'model.starting'") == [{"actor": "key:ide"}]

    for headers in ({}, bearer("mdk-guessed"), bearer(keys["gone"]), bearer(keys["old"])):
        status, refused = await models_seen(http, running, headers)
        assert status == 401 and refused["error"]["type"] == "authentication_error", headers
    status, _ = await models_seen(http, running, {"Authorization": "Basic b3Blbi13ZWJ1aQ=="})
    assert status == 401  # five failed tries from this address now
    status, limited = await models_seen(http, running, bearer(keys["open-webui"]))
    assert status == 429 and limited["error"]["code"] == "too_many_failures"  # even a good key, like a sign-in

    await until(lambda: running.rows("SELECT * FROM gateway_request WHERE status = 401"), message="recorded")
    assert running.rows("SELECT count(*) AS n FROM gateway_request WHERE status = 401") == [{"n": 5}]


async def test_a_key_opens_no_page_and_the_models_own_port_answers_no_one_else(
        deck: DeckFactory, http: aiohttp.ClientSession) -> None:
    running = await deck(models={"tiny": {}}, open_on_loopback=False, keys=[KeySpec("app")])
    async with http.get(f"{running.app.url}/", headers=bearer(running.keys["app"]), allow_redirects=False) as page:
        assert page.status == 303 and page.headers["Location"].startswith("/login")
    async with http.get(f"{running.app.url}/audit", headers=bearer(running.keys["app"]),
                        allow_redirects=False) as admin_page:
        assert admin_page.status == 303
    async with http.post(f"{running.base_url}/completions", headers=bearer(running.keys["app"]),
                         json={"model": "tiny", "prompt": "hi", "max_tokens": 1}) as through_the_gateway:
        assert through_the_gateway.status == 200
    [server] = llama_servers(running)
    arguments = server.cmdline()
    port = arguments[arguments.index("--port") + 1]
    assert server.environ()["LLAMA_API_KEY"] not in " ".join(arguments)  # not in `ps` for other users to read
    for headers in ({}, bearer(running.keys["app"])):  # neither nothing nor a gateway key opens it
        async with http.post(f"http://127.0.0.1:{port}/v1/completions", headers=headers,
                             json={"model": "tiny", "prompt": "hi", "max_tokens": 1}) as around:
            assert around.status == 401
