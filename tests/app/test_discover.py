"""Discovery as a person meets it: files found in the model folders, one tap to add, what a model is,
and a warning before starting one that will not fit."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, fill_form, see_card, tap, uid_of
from tests.discovery.gguf_files import write_gguf
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import until


async def test_discover_lists_new_files_and_adds_one_prefilled(user: User, deck_home: DeckHome) -> None:
    write_tiny_llama(deck_home.models_dir / "second.gguf", name="Second Tiny", n_ctx=512, seed=1)
    (deck_home.models_dir / "fake.gguf").write_text("this is no model")
    await user.open("/discover")
    await user.should_see(marker="found-tiny.gguf", retries=50)
    await user.should_see(marker="found-second.gguf")
    await user.should_see("1 files refused")
    await user.should_see("not a GGUF file")
    user.find(marker="add-second.gguf").click()
    name = next(iter(user.find(marker="field-name").elements))
    assert isinstance(name, ui.input) and name.value == "Second Tiny"
    ctx = next(iter(user.find(marker="field-ctx_size").elements))
    assert isinstance(ctx, ui.input) and ctx.value == "512"  # the trained context
    family = next(iter(user.find(marker="field-family").elements))
    assert isinstance(family, ui.input) and family.value == "llama"
    user.find(marker="form-save").click()
    await until(lambda: any(r["name"] == "Second Tiny" for r in deck_home.rows()), message="saved")
    await user.should_not_see(marker="found-second.gguf")
    assert deck_home.row("Second Tiny")["model_path"] == str(deck_home.models_dir / "second.gguf")


async def test_the_card_tells_what_the_model_is_and_that_it_fits(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await add_model(user, deck_home, "described", ctx_size=256)
    uid = uid_of(deck_home, "described")
    await see_card(user, uid, "needs", within=3)  # the fit estimate
    assert deck_home.row("described")["family"] == "llama"  # left empty in the form: taken from the file
    await user.should_see(f"tiny.gguf · {deck_home.model_file.stat().st_size / 1024:.1f} KiB")
    await user.should_see("RAM")
    tap(user, uid, "info")
    await user.should_see("Architecture")
    await user.should_see("llama")
    await user.should_see("Layers")
    await user.should_see("Fits: ")


async def test_the_form_shows_the_fit_as_it_is_filled(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    user.find(marker="add-model").click()
    await fill_form(user, model_path=str(deck_home.model_file), ctx_size=256)
    await user.should_see("Fits: ", retries=30)


async def test_starting_a_model_that_will_not_fit_asks_first(user: User, deck_home: DeckHome) -> None:
    huge = write_gguf(deck_home.models_dir / "huge.gguf", "llama", {
        "llama.block_count": 400, "llama.context_length": 131072, "llama.embedding_length": 16384,
        "llama.attention.head_count": 128, "llama.attention.head_count_kv": 128, "general.name": "Huge",
    }, {})
    await user.open("/")
    user.find(marker="add-model").click()
    await fill_form(user, name="huge", model_path=str(huge), ctx_size=131072)
    user.find(marker="form-save").click()
    await until(lambda: any(r["name"] == "huge" for r in deck_home.rows()))
    uid = uid_of(deck_home, "huge")
    await user.should_see("may not fit", retries=30)
    tap(user, uid, "start")
    await user.should_see("Start it anyway?")
    user.find(marker="confirm-cancel").click()
    assert deck_home.row("huge")["status"] == "stopped"


async def test_discover_shows_new_and_removed_files_by_itself(quick_rescan: None, user: User,
                                                              deck_home: DeckHome) -> None:
    await user.open("/discover")
    await user.should_see(marker="found-tiny.gguf", retries=50)
    write_tiny_llama(deck_home.models_dir / "fresh.gguf", name="Fresh Tiny", seed=2)  # copied in while it is open
    await user.should_see(marker="found-fresh.gguf", retries=50)
    await user.should_see("Fresh Tiny")
    (deck_home.models_dir / "fresh.gguf").unlink()
    await user.should_not_see(marker="found-fresh.gguf", retries=50)
