"""The management API from a signed-in browser: a viewer reads and never changes, an admin changes, nobody
without a session gets in, and a page on another site cannot use the cookie to change anything."""

from __future__ import annotations

from nicegui.testing import User

from db.user_record import Role
from tests.app.conftest import DeckHome
from tests.security.conftest import make_account, sign_in


async def test_no_session_gets_401_in_json(user: User) -> None:
    await make_account("ada", Role.ADMIN)
    for method, path in (("GET", "/api/models"), ("GET", "/api/docs"), ("POST", "/api/import"),
                         ("GET", "/api/backup")):
        answer = await user.http_client.request(method, path)
        assert answer.status_code == 401, path
        assert "sign in first" in answer.json()["detail"]


async def test_a_viewer_reads_but_never_changes(user: User, lan_home: DeckHome) -> None:
    await make_account("ada", Role.ADMIN)
    await make_account("tablet", Role.VIEWER)
    await sign_in(user, "tablet")
    assert (await user.http_client.get("/api/models")).json() == []
    assert "ModelDeck management API" in (await user.http_client.get("/api/docs")).text
    body = {"name": "x", "model_path": str(lan_home.model_file)}
    for method, path, what in (("POST", "/api/models", "add models"), ("POST", "/api/import", "import models"),
                               ("GET", "/api/backup", "download the database")):
        answer = await user.http_client.request(method, path, json=body)
        assert answer.status_code == 403, path
        assert answer.json()["detail"] == f"viewers may read, not {what}"
    assert lan_home.rows() == []


async def test_an_admin_changes_but_not_from_another_sites_page(user: User, lan_home: DeckHome) -> None:
    await make_account("ada", Role.ADMIN)
    await sign_in(user, "ada")
    body = {"name": "qwen", "model_path": str(lan_home.model_file)}
    forged = await user.http_client.post("/api/models", json=body, headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and "another site's page" in forged.json()["detail"]
    assert lan_home.rows() == []
    made = await user.http_client.post("/api/models", json=body, headers={"Origin": "http://test"})
    assert made.status_code == 201 and made.json()["name"] == "qwen"
    assert [row["name"] for row in lan_home.rows()] == ["qwen"]
    await user.open("/")
    await user.should_see("qwen")  # the page shows what the API did
