"""Every invalid field gets its own message, and nothing is saved."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, fill_form, open_flag_list


def field_error(user: User, field: str) -> str | None:
    element = next(iter(user.find(marker=f"field-{field}").elements))
    assert isinstance(element, ui.input | ui.textarea | ui.select)
    return element.error


async def submit(user: User, deck_home: DeckHome, **values: object) -> None:
    user.find(marker="add-model").click()
    if {"extra_args", "env"} & set(values):  # checked against the runner's flags: wait until it has sent them
        await open_flag_list(user)
        user.find(marker="flag-help-close").click()
    await fill_form(user, **{"name": "valid-name", "model_path": str(deck_home.model_file), **values})
    user.notify.messages.clear()
    user.find(marker="form-save").click()
    await user.should_see("Please correct the marked fields")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "a name is required"),
    ("model_path", "", "choose a model file"),
    ("model_path", "/nonexistent/model.gguf", "no such file"),
    ("ctx_size", -1, "Context size must be between 0 and 1048576"),
    ("port", 80, "Port must be between 1024 and 65535"),
    ("parallel", 0, "Parallel slots must be between 1 and 256"),
    ("batch_size", 1.5, "Batch size must be a whole number"),
    ("unload_when_idle_s", 0, "Unload when idle must be between 1 and 604800"),
    ("extra_args", "--host 0.0.0.0", "--host is not allowed: ModelDeck sets it itself"),
    ("extra_args", "--port=9000", "--port is not allowed: ModelDeck sets it itself"),
    ("extra_args", "-m other.gguf", "-m (--model) is not allowed: ModelDeck sets it itself"),
    ("extra_args", "--api-key secret", "--api-key is not allowed"),
    ("extra_args", '--mcp-servers-json {"mcpServers":{}}', "--mcp-servers-json is not allowed: it runs programs"),
    ("extra_args", "-hf ggml-org/gemma-3-270m-GGUF", "-hf (--hf-repo) is not allowed: it downloads"),
    ("extra_args", "--slot-save-path /tmp", "--slot-save-path is not allowed: it writes files"),
    ("extra_args", "--rpc 10.0.0.2:50052", "--rpc is not allowed: it opens network connections"),
    ("extra_args", "--no-such-flag", "llama-server 0.6.0-dev has no --no-such-flag"),
    ("extra_args", "--lora /etc/passwd", "/etc/passwd (for --lora) is outside the allowed model folders"),
    ("extra_args", "--lora adapter.gguf", "--lora needs the full path of a file in the model folders"),
    ("extra_args", "-c 8192", "use the form's Context size field"),
    ("extra_args", "--temp 'unclosed", "cannot split"),
    ("env", "NOT A PAIR", "is not KEY=value"),
    ("env", "LD_PRELOAD=/tmp/x.so", "LD_PRELOAD cannot be set for a model"),
    ("env", "LLAMA_ARG_MCP_SERVERS_JSON={}", "LLAMA_ARG_MCP_SERVERS_JSON cannot be set for a model"),
    ("env", "LLAMA_API_KEY=mine", "LLAMA_API_KEY cannot be set for a model"),
    ("aliases", "gpt-4o, bad alias!", "'alias!' is not a valid alias"),
    ("aliases", "gpt-4o GPT-4o", "the alias 'GPT-4o' is listed twice"),
    ("aliases", "valid-name", "an alias repeats the model's own name"),
    ("aliases", "-dash-first", "is not a valid alias"),
    ("aliases", " ".join(f"a{i}" for i in range(17)), "at most 16 aliases"),
])
async def test_invalid_field_gets_its_message(user: User, deck_home: DeckHome,
                                              field: str, value: object, message: str) -> None:
    await user.open("/")
    await submit(user, deck_home, **{field: value})
    assert message in (field_error(user, field) or "")
    assert deck_home.rows() == []


async def test_model_file_must_be_gguf_inside_an_allowed_folder(user: User, deck_home: DeckHome,
                                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "model.gguf"
    outside.write_bytes(deck_home.model_file.read_bytes())
    fake = deck_home.models_dir / "fake.gguf"
    fake.write_text("not a model")
    escape = deck_home.models_dir / "escape.gguf"
    escape.symlink_to(outside)
    await user.open("/")
    for path, message in [(outside, "outside the allowed model folders"), (escape, "outside the allowed"),
                          (fake, "not a GGUF file")]:
        await submit(user, deck_home, model_path=str(path))
        assert message in (field_error(user, "model_path") or "")
    assert deck_home.rows() == []


async def test_names_are_unique_ignoring_case(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await add_model(user, deck_home, "Llama")
    await submit(user, deck_home, name="llama")
    assert "already exists" in (field_error(user, "name") or "")
    assert [r["name"] for r in deck_home.rows()] == ["Llama"]


async def test_aliases_are_saved_and_unique_across_every_name(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await add_model(user, deck_home, "llama", aliases="gpt-4o, local/llama")
    assert deck_home.row("llama")["aliases"] == '["gpt-4o","local/llama"]'
    for values in ({"aliases": "LOCAL/LLAMA"}, {"aliases": "Llama"}):
        await submit(user, deck_home, **values)
        assert "another model already answers to" in (field_error(user, "aliases") or ""), values
        user.find(marker="form-cancel").click()
    await submit(user, deck_home, name="GPT-4o")  # a name another model has as an alias
    assert "already exists" in (field_error(user, "name") or "")
    assert [row["name"] for row in deck_home.rows()] == ["llama"]
