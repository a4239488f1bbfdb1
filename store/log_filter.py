"""Which log lines a person asked to see: by model, level and text; the same rule for the screen
and the downloaded file."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from protocol.messages import LogLevel, LogLine

# A line's level in plain words, as the log view and the downloaded file show it. "output": a line the
# server printed without a level (its early start-up lines, anything a library prints by itself).
LEVEL_WORDS: dict[LogLevel, str] = {"E": "error", "W": "warning", "I": "info", "D": "debug", "?": "output"}
LEVELS: dict[LogLevel, str] = {"E": "errors", "W": "warnings", "I": "info", "D": "debug",  # the filter's choices
                               "?": "output without a level"}


@dataclass(frozen=True)
class LogFilter:
    uid: str | None = None  # None: every model
    level: LogLevel | None = None  # None: every level
    text: str = ""  # case-insensitive substring

    def matches(self, uid: str, line: LogLine) -> bool:
        return ((self.uid is None or uid == self.uid)
                and (self.level is None or line.level == self.level)
                and (not self.text or self.text.casefold() in line.text.casefold()))

    def select(self, uid: str, lines: Iterable[LogLine]) -> list[tuple[str, LogLine]]:
        return [(uid, line) for line in lines if self.matches(uid, line)]


def kept_lines(logs: Mapping[str, Iterable[LogLine]], wanted: LogFilter,
               last: int | None = None) -> list[tuple[str, LogLine]]:
    """The matching lines the store keeps, every model merged in time order; with `last`, the newest only."""
    per_model = [wanted.select(uid, lines) for uid, lines in logs.items() if wanted.uid in (None, uid)]
    merged = list(heapq.merge(*per_model, key=lambda item: item[1].at))
    return merged if last is None else merged[-last:]


def line_text(model_name: str, line: LogLine) -> str:
    return f"{line.at:%Y-%m-%d %H:%M:%S} {model_name} {LEVEL_WORDS.get(line.level, 'output'):<7} {line.text}"
