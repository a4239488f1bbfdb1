"""The form never guesses (#17, item 2): what a person types stays as typed, Save says in plain words on the
field what is wrong (nothing is stored until it is fixed), ports that cannot work are refused at Save, the model
file is picked from the files the catalog knows, and the context follows the file's trained context."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from nicegui import ui
from nicegui.testing import User

from protocol.config import field_label
from settings import DEFAULT
from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, fill_form
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import until

Field = ui.input | ui.textarea | ui.select


def field(user: User, name: str) -> Field:
    element = next(iter(user.find(marker=f"field-{name}").elements))
    assert isinstance(element, Field)
    return element


async def save_refused(user: User, toast: str) -> None:
    user.notify.messages.clear()
    user.find(marker="form-save").click()
    await user.should_see(toast)


@pytest.fixture
def listening() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(("name", "typed", "message"), [
    ("port", "80", "Port must be between 1024 and 65535"),  # was silently made 1024
    ("ctx_size", "-5", "Context size must be between 0 and 1048576"),  # was made 0
    ("batch_size", "0", "Batch size must be between 1 and 65536"),  # was made 1
    ("ctx_size", "1.5", "Context size must be a whole number"),  # was made 2
    ("ctx_size", "2000000", "Context size must be between 0 and 1048576"),  # was pydantic's words
    ("parallel", "two", "Parallel slots must be a whole number"),
])
async def test_a_number_stays_as_typed_and_save_says_why_on_the_field(
        user: User, deck_home: DeckHome, name: str, typed: str, message: str) -> None:
    await user.open("/")
    user.find(marker="add-model").click()
    await fill_form(user, name="exact", model_path=str(deck_home.model_file), **{name: typed})
    for _ in range(2):  # a second Save stores nothing either
        await save_refused(user, f"Please correct the marked fields: {field_label(name)}")
        assert field(user, name).value == typed
        assert field(user, name).error == message
        assert "Input should" not in message
    assert deck_home.rows() == []
    field(user, name).value = "" if name == "port" else "1"  # fixed: Save goes through
    user.find(marker="form-save").click()
    await until(lambda: [row["name"] for row in deck_home.rows()] == ["exact"], message="saved once fixed")


async def test_ports_that_cannot_work_are_refused_at_save(user: User, deck_home: DeckHome, listening: int) -> None:
    await user.open("/")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        fixed = probe.getsockname()[1]  # free now: the first model takes it
    await add_model(user, deck_home, "first", port=fixed)
    user.find(marker="add-model").click()
    await fill_form(user, name="second", model_path=str(deck_home.model_file))
    for port, message in [
            (DEFAULT.port, f"Port {DEFAULT.port} is ModelDeck's own port: choose another, or leave it empty for an "
                           "automatic one"),
            (fixed, f"Port {fixed} is already set for first"),
            (listening, f"Port {listening} is in use by another program on this machine")]:
        await fill_form(user, port=port)
        await save_refused(user, "Please correct the marked fields: port")
        assert field(user, "port").error == message
    assert [row["name"] for row in deck_home.rows()] == ["first"]
    await fill_form(user, port="")  # automatic: chosen at each start
    user.find(marker="form-save").click()
    await until(lambda: len(deck_home.rows()) == 2, message="second saved with an automatic port")
    assert deck_home.row("second")["port"] is None


async def test_the_model_file_is_picked_from_the_files_the_catalog_knows(user: User, deck_home: DeckHome) -> None:
    write_tiny_llama(deck_home.models_dir / "other-model.gguf", name="other", seed=1)
    await user.open("/")
    user.find(marker="add-model").click()
    await fill_form(user, name="picked")
    user.find(marker="field-model_path").type("other")  # search as you type
    await user.should_see(marker="file-choice-other-model.gguf", retries=300)  # the scan: up to 30 s when busy
    await user.should_not_see(marker="file-choice-tiny.gguf")
    user.find(marker="file-choice-other-model.gguf").click()
    assert field(user, "model_path").value == str(deck_home.models_dir / "other-model.gguf")
    user.find(marker="form-save").click()
    await until(lambda: [row["name"] for row in deck_home.rows()] == ["picked"], message="saved")
    assert deck_home.row("picked")["model_path"] == str(deck_home.models_dir / "other-model.gguf")


async def test_a_bare_file_name_means_the_one_file_of_that_name(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    user.find(marker="add-model").click()
    await user.should_see(marker="file-choice-tiny.gguf", retries=300)  # the catalog has scanned
    await fill_form(user, name="bare", model_path="tiny.gguf")
    assert field(user, "model_path").props.get("hint") == f"Means the file {deck_home.model_file}"  # said, not hidden
    user.find(marker="form-save").click()
    await until(lambda: [row["name"] for row in deck_home.rows()] == ["bare"], message="saved")
    assert deck_home.row("bare")["model_path"] == str(deck_home.model_file)


async def test_the_context_follows_the_files_trained_context_and_warns_past_it(
        user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    user.find(marker="add-model").click()
    await user.should_see(marker="file-choice-tiny.gguf", retries=300)
    await fill_form(user, name="trained", model_path=str(deck_home.model_file))
    assert field(user, "ctx_size").value == "256"  # tiny.gguf was trained on 256 (the form said 4096)
    await user.should_see("Fits: ", retries=100)  # the form's estimate has settled on what it shows now
    assert field(user, "ctx_size").props.get("hint") is None  # no warning left from the 4096 it replaced
    await fill_form(user, ctx_size="4096")
    await until(lambda: "longer than the 256 tokens this file was trained on" in str(
        field(user, "ctx_size").props.get("hint")), message="the warning under Context size")
    user.find(marker="form-save").click()  # a warning, not a refusal
    await until(lambda: [row["name"] for row in deck_home.rows()] == ["trained"], message="saved")
    assert deck_home.row("trained")["ctx_size"] == 4096


async def test_a_context_typed_before_the_file_stays_even_the_number_the_form_showed(
        user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    user.find(marker="add-model").click()
    await user.should_see(marker="file-choice-tiny.gguf", retries=300)
    await fill_form(user, name="typed", ctx_size="4096")  # the number the form showed, typed anew
    await fill_form(user, model_path=str(deck_home.model_file))
    assert field(user, "ctx_size").value == "4096"  # not the file's trained 256
    user.find(marker="form-save").click()
    await until(lambda: [row["name"] for row in deck_home.rows()] == ["typed"], message="saved")
    assert deck_home.row("typed")["ctx_size"] == 4096
