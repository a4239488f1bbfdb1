"""Log lines from the database back into the store at start, so the logs page still shows what the
models printed before a restart."""

from __future__ import annotations

from collections import deque
from typing import Literal, cast

from db.log_record import LogRecord
from protocol.messages import LogLine
from store.deck import LOG_LINES_KEPT, ModelDeck

Level = Literal["I", "W", "E", "D", "?"]


async def restore_logs(deck: ModelDeck) -> None:
    for uid in deck.models:
        rows = await LogRecord.filter(uid=uid).order_by("-id").limit(LOG_LINES_KEPT).values_list(
            "at", "level", "text")
        lines = [LogLine(at=at, level=cast(Level, level), text=text) for at, level, text in reversed(rows)]
        deck.logs[uid] = deque(lines, maxlen=LOG_LINES_KEPT)
