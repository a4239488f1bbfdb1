"""Log lines from the database: back into the store at start, so the logs page still shows what the
models printed before a restart, and whole for a download."""

from __future__ import annotations

from collections import Counter, deque
from typing import cast

from tortoise.queryset import QuerySet

from db.log_record import LogRecord
from protocol.messages import LogLevel, LogLine
from store.deck import LOG_LINES_KEPT, ModelDeck
from store.log_filter import LogFilter, kept_lines


async def restore_logs(deck: ModelDeck) -> None:
    for uid in deck.models:
        rows = await LogRecord.filter(uid=uid).order_by("-id").limit(LOG_LINES_KEPT).values_list(
            "at", "level", "text")
        lines = [LogLine(at=at, level=cast(LogLevel, level), text=text) for at, level, text in reversed(rows)]
        deck.logs[uid] = deque(lines, maxlen=LOG_LINES_KEPT)


async def every_line(deck: ModelDeck, wanted: LogFilter) -> list[tuple[str, LogLine]]:
    """Every kept line that matches, all models merged in time order: the database's (up to the
    --log-lines-per-model bound) before the store's newest lines, which may not be written yet."""
    logs: dict[str, list[LogLine]] = {}
    for uid, in_memory in deck.logs.items():
        if wanted.uid in (None, uid):
            newest = list(in_memory)
            older = await _older_than(uid, newest) if newest else await _rows(LogRecord.filter(uid=uid))
            logs[uid] = [*older, *newest]
    return kept_lines(logs, wanted)


async def _older_than(uid: str, newest: list[LogLine]) -> list[LogLine]:
    """Stored lines from before the store's window. Lines stamped in the same instant as its first one
    are told apart by count: the store holds the last of them, the database all of them."""
    edge = newest[0].at
    before = await _rows(LogRecord.filter(uid=uid, at__lt=edge))
    at_edge = await _rows(LogRecord.filter(uid=uid, at=edge))
    missing = Counter(line.text for line in at_edge) - Counter(line.text for line in newest if line.at == edge)
    dropped = []
    for line in at_edge:  # the earliest ones are those that left the store
        if missing[line.text] > 0:
            missing[line.text] -= 1
            dropped.append(line)
    return [*before, *dropped]


async def _rows(query: QuerySet[LogRecord]) -> list[LogLine]:
    rows = await query.order_by("id").values_list("at", "level", "text")
    return [LogLine(at=at, level=cast(LogLevel, level), text=text) for at, level, text in rows]
