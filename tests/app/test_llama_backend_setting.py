"""MODELDECK_LLAMA_BACKEND reaches the app's own runner: the About panel says which backend a build here is
for, that the setting chose it, and what this machine lacks for it."""

from __future__ import annotations

import pytest
from nicegui import ui

from tests.simulation import started_app
from tests.waiting import until


async def test_the_backend_setting_reaches_the_runner_and_the_about_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDECK_LLAMA_BACKEND", "metal")  # what no Linux machine has
    async with started_app() as user:
        await user.open("/dashboard")
        [backend] = user.find(marker="server-backend").elements
        assert isinstance(backend, ui.label)
        await until(lambda: backend.text.startswith("metal: "), within=20, message="the runner's word on builds")
        assert backend.text == ("metal: set by --llama-backend / MODELDECK_LLAMA_BACKEND, but this machine has no "
                                "macOS (Metal is macOS only): a build for it will fail or not run here")
