"""A model that crashes is announced by a toast on every open page, not only on the models page."""

from __future__ import annotations

import os
import signal

from nicegui.testing import User

from tests.app.conftest import DeckHome
from tests.app.helpers import start_model, stop_model
from tests.processes import llama_servers
from tests.waiting import until


async def test_a_crash_is_toasted_on_the_models_page_and_on_another_page(user: User, second_user: User,
                                                                         deck_home: DeckHome) -> None:
    await user.open("/")
    await second_user.open("/audit")
    await user.should_see("runner connected")
    await start_model(user, deck_home, "victim")
    [server] = llama_servers()
    os.kill(server.pid, signal.SIGKILL)

    def toasts() -> list[str]:
        # The simulation sends every ui.notify to one User's list, whichever page called it: count them all.
        return [m for m in user.notify.messages + second_user.notify.messages
                if m.startswith("victim stopped with an error: exit code -9")]

    await until(lambda: len(toasts()) == 2, within=10, message="one crash toast on each open page")


async def test_a_clean_stop_is_not_toasted_as_a_crash(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await user.should_see("runner connected")
    await start_model(user, deck_home, "calm")
    await stop_model(user, deck_home, "calm")
    assert not any("error" in message for message in user.notify.messages)
