"""Every hostile input in every text field of the Add form: refused with a message, or stored literally."""

from __future__ import annotations

import json
import shlex
from functools import partial
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from protocol.role import Role
from store.form_validation import parse_env
from tests.app.conftest import DeckHome
from tests.security.conftest import make_account, sign_in
from tests.security.hostile import hostile_inputs
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import until

TEXT_FIELDS = ["name", "family", "model_path", "extra_args", "env", "notes"]


def _literal(field: str, value: str) -> object:
    """What the row must hold if the value was accepted: the text itself (trimmed), never a reinterpretation."""
    if field == "extra_args":
        return [arg.strip() for arg in shlex.split(value)]
    if field == "env":
        return {key.strip(): val.strip() for key, val in parse_env(value).items()}
    return value.strip()


def _answered_after(user: User, count: int) -> bool:
    return len(user.notify.messages) > count


@pytest.mark.parametrize("field", TEXT_FIELDS)
async def test_hostile_input_in_each_field(user: User, lan_home: DeckHome, tmp_path: Path, field: str) -> None:
    canary = tmp_path / "canary"
    outside = write_tiny_llama(tmp_path / "outside" / "real.gguf")
    (lan_home.models_dir / "escape.gguf").symlink_to(outside)  # a symlink leading out of the model folder
    inputs = [*hostile_inputs(str(canary)), str(lan_home.models_dir / "escape.gguf")]
    await make_account("ada", Role.ADMIN)
    await sign_in(user, "ada")
    for number, value in enumerate(inputs):
        name = f"m{number}"
        user.find(marker="add-model").click()
        for other, text in {"name": name, "model_path": str(lan_home.model_file), field: value}.items():
            user.find(marker=f"field-{other}").clear().type(text)
        answered = len(user.notify.messages)
        user.find(marker="form-save").click()
        await until(partial(_answered_after, user, answered), message=f"an answer to {value[:40]!r}")
        answer = user.notify.messages[-1]
        if answer.startswith("Saved"):
            row = next(r for r in lan_home.rows() if r["name"] == (value.strip() if field == "name" else name))
            stored = json.loads(row[field]) if field in {"extra_args", "env"} else row[field]
            assert stored == _literal(field, value), (field, value[:80])
        else:
            element = next(iter(user.find(marker=f"field-{field}").elements))
            assert isinstance(element, ui.input)
            assert element.error, (field, value[:80], answer)  # the field says what is wrong
    assert not canary.exists()
    assert all(row["model_path"] == str(lan_home.model_file) for row in lan_home.rows())
