"""Who may call the management API: every route refuses no credentials (401) and a read-only caller's change
(403), and does what it says for a key with the manage scope; a key opens no page."""

from __future__ import annotations

from typing import Any

from auth.api_keys import Scope
from tests.api.conftest import Managed, ManagedFactory
from tests.gateway.conftest import KeySpec
from tests.waiting import eventually

READER = KeySpec("open-webui", (Scope.INFERENCE,))  # a gateway key: it may read, never change
CHANGES = "POST", "PUT", "DELETE"


def routes(uid: str, updated_at: str, model_path: str) -> list[tuple[str, str, Any]]:
    """Every route of the API (the test checks the list against its OpenAPI document), with a body that works."""
    return [
        ("GET", "/api/models", None),
        ("POST", "/api/models", {"name": "added", "model_path": model_path, "ctx_size": 256}),
        ("GET", f"/api/models/{uid}", None),
        ("PUT", f"/api/models/{uid}", {"updated_at": updated_at, "ctx_size": 512}),
        ("GET", f"/api/models/{uid}/history", None),
        ("POST", f"/api/models/{uid}/history/1/restore", None),
        ("POST", f"/api/models/{uid}/start?anyway=true", None),
        ("POST", f"/api/models/{uid}/restart", None),
        ("POST", f"/api/models/{uid}/stop", None),
        ("POST", f"/api/models/{uid}/duplicate", None),
        ("POST", "/api/models/bulk", {"action": "stop", "uids": [uid]}),
        ("GET", "/api/export", None),
        ("POST", "/api/import", {"format": "modeldeck-configurations", "version": 1, "configurations": [
            {"name": "imported", "model_path": model_path}]}),
        ("GET", "/api/backup", None),
        ("GET", "/api/docs", None),
        ("GET", "/api/openapi.json", None),
        ("DELETE", f"/api/models/{uid}", None),
    ]


async def status_of(deck: Managed, uid: str) -> str:
    return str((await deck.call("GET", f"/api/models/{uid}")).body["status"])


async def test_every_route_refuses_strangers_and_readers_and_works_with_a_manage_key(managed: ManagedFactory) -> None:
    deck = await managed(models={"tiny": {}}, keys=[READER])
    [tiny] = (await deck.call("GET", "/api/models")).body
    uid, model_path = tiny["uid"], tiny["model_path"]
    table = routes(uid, tiny["updated_at"], model_path)
    documented = (await deck.call("GET", "/api/openapi.json")).body["paths"]
    listed = {(method.upper(), path) for path, methods in documented.items() for method in methods}
    tried = {(method, path.split("?")[0].replace(uid, "{uid}").replace("/1/", "/{number}/"))
             for method, path, _ in table}
    assert listed <= tried, f"routes without a test: {listed - tried}"
    before = deck.rows()

    for method, path, body in table:
        stranger = await deck.call(method, path, key=None, json=body)
        assert stranger.status == 401 and stranger.headers.get("WWW-Authenticate") == "Bearer", (method, path)
        assert "sign in first" in stranger.json_detail()
        reader = await deck.call(method, path, key="open-webui", json=body)
        if method in CHANGES or path == "/api/backup":
            assert reader.status == 403, (method, path, reader)
            assert "no manage scope" in reader.json_detail()
        else:
            assert reader.status == 200, (method, path, reader)
    assert deck.rows() == before, "nothing changed"

    expected = {"POST /api/models": 201, f"PUT /api/models/{uid}": 200, f"POST /api/models/{uid}/start": 202,
                f"POST /api/models/{uid}/restart": 202, f"POST /api/models/{uid}/stop": 202,
                f"POST /api/models/{uid}/duplicate": 201, f"DELETE /api/models/{uid}": 204}
    for method, path, body in table:
        answer = await deck.call(method, path, json=body)
        assert answer.status == expected.get(f"{method} {path.split('?')[0]}", 200), (method, path, answer)
        if path.endswith("/start?anyway=true"):
            await eventually(lambda: _is(deck, uid, "running"), within=30, message="tiny running")
        if path.endswith("/stop"):
            await eventually(lambda: _is(deck, uid, "stopped"), within=15, message="tiny stopped")
    assert sorted(deck.model_names()) == ["added", "imported", "tiny copy"]  # tiny itself was deleted last
    actions = [row["action"] for row in deck.rows("SELECT action FROM audit_log WHERE actor = 'key:script'")]
    assert {"model.create", "model.update", "model.starting", "model.stopping", "model.import", "model.delete",
            "database.backup"} <= set(actions)


async def _is(deck: Managed, uid: str, status: str) -> bool:
    return await status_of(deck, uid) == status


async def test_a_key_opens_no_page_and_wrong_keys_are_counted(managed: ManagedFactory) -> None:
    deck = await managed()
    page = await deck.call("GET", "/", headers={"Authorization": f"Bearer {deck.keys['script']}"}, key=None)
    assert page.status == 303 and page.headers["Location"].startswith("/login")
    for _ in range(5):
        wrong = await deck.call("GET", "/api/models", key=None, headers={"Authorization": "Bearer mdk-guess"})
        assert wrong.status == 401 and "wrong, revoked or expired" in wrong.json_detail()
    limited = await deck.call("GET", "/api/models", key=None, headers={"Authorization": "Bearer mdk-guess"})
    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0


async def test_a_key_limited_to_some_models_sees_and_changes_only_those(managed: ManagedFactory) -> None:
    deck = await managed(models={"mine": {}, "other": {}},
                         keys=[KeySpec("team", (Scope.MANAGE,), models=("mine",))])
    listed = (await deck.call("GET", "/api/models", key="team")).body
    assert [model["name"] for model in listed] == ["mine"]
    other = next(row["uid"] for row in deck.rows() if row["name"] == "other")
    assert (await deck.call("DELETE", f"/api/models/{other}", key="team")).status == 404
    refused = await deck.call("POST", "/api/models", key="team", json={"name": "x", "model_path": "/x.gguf"})
    assert refused.status == 403 and "limited to some models" in refused.json_detail()
    assert (await deck.call("GET", "/api/backup", key="team")).status == 403
    assert deck.model_names() == ["mine", "other"]
