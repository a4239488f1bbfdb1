"""The models page as people use it: add, edit, duplicate, delete, in two browsers, on a real SQLite file."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, fill_form, grid_of, see_no_card, tap, uid_of
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import until


async def test_an_empty_deck_counts_the_models_in_the_folders_and_leads_to_discover(
        quick_rescan: None, user: User, deck_home: DeckHome) -> None:
    write_tiny_llama(deck_home.models_dir / "second.gguf", seed=1)
    await user.open("/")
    await user.should_see(marker="empty-state")
    await user.should_see("The model folders hold 2 GGUF models", retries=50)
    [link] = user.find(marker="to-discover").elements
    assert isinstance(link, ui.link) and link.props["href"] == "/discover" and link.text == "Open Discover"
    for model in deck_home.models_dir.iterdir():
        model.unlink()
    await user.should_see("Put a .gguf file in", retries=50)  # the folders emptied: where a file goes
    await user.should_see(str(deck_home.models_dir))
    await user.should_see("press Add model")


async def test_a_model_added_in_one_browser_appears_in_another(user: User, second_user: User,
                                                                 deck_home: DeckHome) -> None:
    await user.open("/")
    await second_user.open("/")
    await add_model(user, deck_home, "qwen-small", ctx_size=2048)
    await second_user.should_see("qwen-small")
    row = deck_home.row("qwen-small")
    assert row["ctx_size"] == 2048
    assert row["model_path"] == str(deck_home.model_file)
    assert row["status"] == "stopped"
    await second_user.should_not_see(marker="empty-state")


async def test_edit_renames_and_keeps_identity(user: User, second_user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await second_user.open("/")
    await add_model(user, deck_home, "alpha")
    uid = uid_of(deck_home, "alpha")
    tap(user, uid, "edit")
    await fill_form(user, name="beta", ctx_size=1024)
    user.find(marker="form-save").click()
    await until(lambda: deck_home.row("beta") if any(r["name"] == "beta" for r in deck_home.rows()) else None)
    await second_user.should_see("beta")
    await second_user.should_not_see("alpha")
    rows = deck_home.rows()
    assert [(r["uid"], r["name"], r["ctx_size"]) for r in rows] == [(uid, "beta", 1024)]


async def test_duplicate_makes_a_unique_stopped_copy(user: User, second_user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await second_user.open("/")
    await add_model(user, deck_home, "gamma", port=9123)
    uid = uid_of(deck_home, "gamma")
    tap(user, uid, "duplicate")
    await second_user.should_see("gamma copy")
    await until(lambda: len(deck_home.rows()) == 2)
    tap(user, uid, "duplicate")
    await second_user.should_see("gamma copy (2)")
    await until(lambda: len(deck_home.rows()) == 3)
    names = [r["name"] for r in deck_home.rows()]
    assert names == ["gamma", "gamma copy", "gamma copy (2)"]
    copy = deck_home.row("gamma copy")
    assert copy["uid"] != uid
    assert copy["port"] is None  # two copies must not fight over one port


async def test_delete_asks_first_then_removes_everywhere(user: User, second_user: User,
                                                          deck_home: DeckHome) -> None:
    await user.open("/")
    await second_user.open("/")
    await add_model(user, deck_home, "doomed")
    await add_model(user, deck_home, "kept")
    uid = uid_of(deck_home, "doomed")
    tap(user, uid, "delete")
    await user.should_see("Delete doomed?")
    user.find(marker="confirm-cancel").click()
    assert [r["name"] for r in deck_home.rows()] == ["doomed", "kept"]
    tap(user, uid, "delete")
    user.find(marker="confirm-ok").click()
    await see_no_card(second_user, uid)
    await until(lambda: len(deck_home.rows()) == 1)
    assert [r["name"] for r in deck_home.rows()] == ["kept"]


async def test_cards_stay_in_name_order_as_models_come_and_go(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    for name in ("bravo", "alpha", "charlie"):
        await add_model(user, deck_home, name)
    await user.should_see("charlie")

    def cards_in_page_order() -> list[str]:
        names = {uid_of(deck_home, row["name"]): row["name"] for row in deck_home.rows()}
        return [names[uid] for uid in grid_of(user).cards]  # the order the browser renders them in

    assert cards_in_page_order() == ["alpha", "bravo", "charlie"]
    bravo = uid_of(deck_home, "bravo")
    tap(user, bravo, "delete")
    user.find(marker="confirm-ok").click()
    await until(lambda: len(deck_home.rows()) == 2)
    await see_no_card(user, bravo)
    assert cards_in_page_order() == ["alpha", "charlie"]


async def test_search_and_the_status_filter_narrow_the_cards_live_and_select_mode_follows(
        user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    names = ("alpha", "bravo", "charlie", "delta", "echo")
    for name in names:
        await add_model(user, deck_home, name)
    await user.should_not_see(marker="search")  # a few models need no search
    await add_model(user, deck_home, "foxtrot", ctx_size=256)
    uids = {name: uid_of(deck_home, name) for name in (*names, "foxtrot")}
    grid = grid_of(user)

    def shown() -> list[str]:
        """The cards on screen: the search's rule, which the browser applies to the same texts."""
        return [uid for uid, card in grid.cards.items() if grid.search.shows(card.state)]

    user.find(marker="search").type("ALPH")  # any case, any part of the name, family or file
    await until(lambda: shown() == [uids["alpha"]], message="only alpha")
    user.find(marker="select-mode").click()
    user.find(marker="select-shown").click()
    await user.should_see("1 selected")  # "All shown" is what the search left on screen
    user.find(marker="select-done").click()
    user.find(marker="search").clear()
    await until(lambda: shown() == list(uids.values()), message="every card back")

    [status] = user.find(kind=ui.select, marker="status-filter").elements
    status.value = "running"
    await until(lambda: shown() == [] and grid.status == "running", message="none running")
    await user.should_see("No model matches.")
    tap(user, uids["foxtrot"], "start")  # a model that starts joins the filter by itself
    await until(lambda: shown() == [uids["foxtrot"]], within=15, message="foxtrot running")
    tap(user, uids["foxtrot"], "stop")
    await until(lambda: shown() == [], within=10, message="foxtrot left Running")
