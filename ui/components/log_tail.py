"""The last lines of a log, appended in chunks: one element per batch of lines instead of one per
line (ui.log's push), because building an element per line costs far more than the text (a 500-line
redraw would hold the event loop for a fifth of a second). ui.log's browser side still follows the
newest line while the reader stays at the bottom."""

from __future__ import annotations

from collections import deque

from nicegui import ui


class LogTail(ui.log):
    def __init__(self, keep: int) -> None:
        super().__init__()  # no max_lines of its own: only push() would apply it
        self.classes("text-xs").props('tabindex=0 role=log aria-label="Log lines"')  # scrolled by keyboard too
        self.keep = keep  # lines on screen at most
        self._chunks: deque[tuple[ui.label, list[str]]] = deque()
        self._count = 0

    @property
    def lines(self) -> list[str]:
        """What the screen shows, oldest first."""
        return [line for _, chunk in self._chunks for line in chunk]

    def replace(self, lines: list[str]) -> None:
        self.clear()
        self._chunks.clear()
        self._count = 0
        self.append(lines)

    def append(self, lines: list[str]) -> None:
        lines = lines[-self.keep:]
        if not lines:
            return
        with self:
            label = ui.label("\n".join(lines)).classes("whitespace-pre-wrap break-all")
        self._chunks.append((label, lines))
        self._count += len(lines)
        self._trim()

    def _trim(self) -> None:
        excess = self._count - self.keep
        while excess > 0:
            label, chunk = self._chunks[0]
            if len(chunk) <= excess:
                self._chunks.popleft()
                self.remove(label)
                dropped = len(chunk)
            else:
                kept = chunk[excess:]
                self._chunks[0] = (label, kept)
                label.text = "\n".join(kept)
                dropped = excess
            self._count -= dropped
            excess -= dropped
