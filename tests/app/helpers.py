"""Story-level steps a person takes on the models page, for the user-fixture tests."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime

from nicegui import ElementFilter, ui
from nicegui.testing import User

from tests.app.conftest import DeckHome
from tests.waiting import until
from ui.components.model_card import ModelCard
from ui.components.model_grid import ModelGrid


async def fill_form(user: User, **values: object) -> None:
    for field, value in values.items():
        element = next(iter(user.find(marker=f"field-{field}").elements))
        if isinstance(element, ui.input | ui.textarea):
            user.find(marker=f"field-{field}").clear().type(str(value))
        else:
            assert isinstance(element, ui.select | ui.switch)
            element.value = value


async def add_model(user: User, home: DeckHome, name: str, **values: object) -> None:
    user.find(marker="add-model").click()
    await fill_form(user, name=name, model_path=str(home.model_file), **values)
    user.find(marker="form-save").click()
    await until(lambda: any(row["name"] == name for row in home.rows()), message=f"{name} saved")
    await see_card(user, uid_of(home, name))  # the row is written before the card is built


async def start_model(user: User, home: DeckHome, name: str) -> str:
    """Add a tiny model, start it, wait until the database says it runs; its uid."""
    await add_model(user, home, name, ctx_size=256)
    uid = uid_of(home, name)
    tap(user, uid, "start")
    await until(lambda: home.row(name)["status"] == "running", within=15, message=f"{name} running")
    return uid


async def stop_model(user: User, home: DeckHome, name: str) -> None:
    """Press Stop; wait until the database says it stopped."""
    tap(user, uid_of(home, name), "stop")
    await until(lambda: home.row(name)["status"] == "stopped", within=10, message=f"{name} stopped")


def uid_of(home: DeckHome, name: str) -> str:
    return str(home.row(name)["uid"])


def grid_of(user: User) -> ModelGrid:
    return next(iter(user.find(kind=ModelGrid).elements))


def card_of(user: User, uid: str) -> ModelCard:
    """The card of this model on the page (the grid holds it as data: cards are no elements of their own)."""
    return grid_of(user).cards[uid]


def has_card(user: User, uid: str) -> bool:
    """Whether the page shows a card of this model (a page without models has no grid)."""
    assert user.client is not None
    with user.client:
        return any(uid in grid.cards for grid in ElementFilter(kind=ModelGrid))


def card_text(user: User, uid: str) -> str:
    """Every text the card shows (its lines, its button's word)."""
    return " ".join(card_of(user, uid).texts())


async def see_card(user: User, uid: str, content: str = "", within: float = 0.3) -> None:
    """Wait until the page shows this model's card, saying `content` if given (within `within` seconds, as
    `user.should_see` retries)."""
    await until(lambda: has_card(user, uid) and content in card_text(user, uid), within=within,
                message=f"the card of {uid} saying {content!r}")


async def see_no_card(user: User, uid: str, content: str | None = None, within: float = 0.3) -> None:
    """Wait until the page shows no card of this model, or (with `content`) a card that does not say it."""
    await until(lambda: not has_card(user, uid) or (content is not None and content not in card_text(user, uid)),
                within=within,
        message=f"no card of {uid}" if content is None else f"the card of {uid} without {content!r}")


def card_line(user: User, uid: str, kind: str) -> str:
    """One line of a card's face (`traffic`, `unload`, `waiting`, `problem`...), the text the browser shows;
    empty while the card leaves that line out."""
    return str(card_of(user, uid).face[kind])


def tap(user: User, uid: str, action: str) -> None:
    """Tap the card's button (`start`, `stop`) or one of its menu's items, as the card offers it now: the card
    is rendered in the browser from the grid's data, so the tap is the event its button or item sends."""
    offered = card_of(user, uid).offers()
    assert action in offered, f"the card offers {offered}, not {action}"
    user.find(kind=ModelGrid).trigger("action", [uid, action])


async def open_flag_list(user: User, which: str = "flags") -> None:
    """Press the open form's Flags (or Variables) button until the list shows: the runner sends its flags
    just after it connects, so a test that opens the form at once may be quicker than that."""
    marker = "flag---temp" if which == "flags" else "variable-CUDA_VISIBLE_DEVICES"
    deadline = time.monotonic() + 15
    while True:
        user.find(marker=f"show-{which}").click()
        try:
            await user.should_see(marker=marker, retries=2)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def count(home: DeckHome, table: str, since: datetime, up_to: datetime | None = None) -> int:
    """Rows of `table` about what happened after `since` (and before `up_to`)."""
    with closing(sqlite3.connect(home.db_path)) as db:
        return int(db.execute(f"SELECT count(*) FROM {table} WHERE at > ? AND at < ?",
                              (str(since), str(up_to or datetime.max.replace(tzinfo=UTC)))).fetchone()[0])
