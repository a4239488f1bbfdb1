"""Admins do everything; a viewer (the tablet on the wall) sees everything and changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from auth.accounts import AccountError, Accounts
from db.database import open_database
from protocol import ModelConfig
from protocol.role import Role
from store import ModelDeck, StoreError, audit
from store.actor import Actor
from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, card_of, see_card, uid_of
from tests.security.conftest import PASSWORD, make_account, on_page, sign_in

ADMIN = Actor("ada", Role.ADMIN)
VIEWER = Actor("wall", Role.VIEWER)


async def test_a_viewer_sees_the_models_but_no_controls(user: User, second_user: User, lan_home: DeckHome) -> None:
    await make_account("ada", Role.ADMIN)
    await make_account("wall", Role.VIEWER)
    await sign_in(user, "ada")
    await add_model(user, lan_home, "qwen")
    uid = uid_of(lan_home, "qwen")
    await sign_in(second_user, "wall")
    await see_card(second_user, uid)
    offered = card_of(second_user, uid).offers()  # the card's button and its menu: Info, but no changes
    assert "info" in offered
    assert not {"start", "stop", "edit", "duplicate", "delete"} & set(offered), offered
    await second_user.should_not_see(marker="add-model")
    await second_user.should_not_see("Users")
    for page in ("/users", "/audit"):
        await second_user.open(page)
        await second_user.should_see(marker="admins-only")


async def test_the_store_refuses_viewers_and_audits_admins(tmp_path: Path, lan_home: DeckHome) -> None:
    db_path = tmp_path / "store.sqlite3"
    async with open_database(db_path):
        deck = ModelDeck()
        config = ModelConfig(name="qwen", model_path=str(lan_home.model_file))
        with pytest.raises(StoreError, match="viewers cannot edit models"):
            await deck.save(config, actor=VIEWER)
        state = await deck.save(config, actor=ADMIN)
        refusals: dict[str, Callable[..., Awaitable[object]]] = {
            "start": deck.start, "stop": deck.stop, "duplicate": deck.duplicate, "delete": deck.delete}
        for verb, action in refusals.items():
            with pytest.raises(StoreError, match=f"viewers cannot {verb} models"):
                await action(state.uid, actor=VIEWER)
        await deck.duplicate(state.uid, actor=ADMIN)
        with pytest.raises(StoreError, match="viewers cannot read the audit log"):
            await audit.recent(VIEWER)
        assert [m.name for m in deck.in_order()] == ["qwen", "qwen copy"]
    with closing(sqlite3.connect(db_path)) as db:
        rows = db.execute("SELECT actor, action, target FROM audit_log ORDER BY id").fetchall()
    assert rows == [("ada", "model.create", "qwen"), ("ada", "model.create", "qwen copy")]


async def test_viewers_cannot_manage_accounts(tmp_path: Path) -> None:
    async with open_database(tmp_path / "accounts.sqlite3"):
        accounts = Accounts()
        await accounts.load()
        await accounts.create("ada", PASSWORD, Role.ADMIN, by=None)  # the first one, with the setup token
        with pytest.raises(AccountError, match="the first account exists already"):
            await accounts.create("eve", PASSWORD, Role.ADMIN, by=None)
        with pytest.raises(AccountError, match="viewers cannot manage accounts"):
            await accounts.create("eve", PASSWORD, Role.ADMIN, by=VIEWER)
        await accounts.create("wall", PASSWORD, Role.VIEWER, by=ADMIN)
        with pytest.raises(AccountError, match="viewers cannot manage accounts"):
            await accounts.delete("ada", by=VIEWER)
        with pytest.raises(AccountError, match="last admin"):
            await accounts.delete("ada", by=Actor("root", Role.ADMIN))
        with pytest.raises(AccountError, match="your own account"):
            await accounts.delete("ada", by=ADMIN)
        assert [a.name for a in accounts.all()] == ["ada", "wall"]


async def test_an_admin_adds_a_viewer_who_can_then_sign_in(user: User, second_user: User) -> None:
    await make_account("ada", Role.ADMIN)
    await sign_in(user, "ada")
    await user.open("/users")
    user.find(marker="new-user-name").type("Wall-Tablet")
    user.find(marker="new-user-password").type("short")
    user.find(marker="create-user").click()
    await user.should_see("at least 8 characters", retries=20)
    user.find(marker="new-user-password").type(" but longer now")
    user.find(marker="create-user").click()
    await user.should_see(marker="user-wall-tablet", retries=100)
    await sign_in(second_user, "wall-tablet", "short but longer now")
    await second_user.should_not_see(marker="add-model")
    await user.open("/audit")
    table = next(iter(user.find(marker="audit-table").elements))
    assert isinstance(table, ui.table)
    seen = {(row["actor"], row["action"], row["target"]) for row in table.rows}
    assert {("ada", "account.create", "wall-tablet"), ("wall-tablet", "sign-in", "")} <= seen


async def test_a_deleted_account_is_signed_out_at_once(user: User, second_user: User) -> None:
    await make_account("ada", Role.ADMIN)
    await make_account("wall", Role.VIEWER)
    await sign_in(user, "ada")
    await sign_in(second_user, "wall")
    await user.open("/users")
    user.find(marker="delete-user-wall").click()
    user.find(marker="confirm-ok").click()
    await user.should_not_see(marker="user-wall", retries=20)
    assert (await second_user.http_client.get("/")).status_code == 303
    await on_page(user, "/users")
