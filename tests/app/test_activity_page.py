"""The Activity page lists gateway requests as they happen, filters them, and downloads them as CSV."""

from __future__ import annotations

import csv
import io
from typing import cast

import httpx
from nicegui import core, ui
from nicegui.testing import User

from tests.app.conftest import DeckHome
from tests.waiting import until


def table_rows(user: User) -> list[dict[str, object]]:
    table = cast(ui.table, next(iter(user.find(marker="activity-table").elements)))
    return list(table.rows)


async def test_requests_appear_live_filter_by_status_and_download(user: User, deck_home: DeckHome) -> None:
    await user.open("/activity")
    assert table_rows(user) == []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test") as app_client:
        assert (await app_client.get("/v1/models")).status_code == 200
        assert (await app_client.post("/v1/chat/completions", json={"model": "nobody"})).status_code == 404
    await until(lambda: len(table_rows(user)) == 2, message="both requests on the page")
    newest, oldest = table_rows(user)
    assert (newest["route"], newest["status"], newest["model"]) == ("/v1/chat/completions", 404, "nobody")
    assert "no model is called 'nobody'" in str(newest["error"])
    assert (oldest["route"], oldest["status"], oldest["key"]) == ("/v1/models", 200, "local")

    cast(ui.select, next(iter(user.find(marker="activity-status").elements))).value = "4xx"
    await until(lambda: [row["status"] for row in table_rows(user)] == [404], message="only the refused one")
    user.find(marker="activity-download").click()
    downloaded = list(csv.DictReader(io.StringIO((await user.download.next(timeout=5)).text)))
    assert [(row["route"], row["status"]) for row in downloaded] == [("/v1/chat/completions", "404")]
