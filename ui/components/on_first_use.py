"""A dialog built the first time its page needs it, not with the page.

Most loads of a page only look: a dialog built with the page is sent, mounted and kept on the server for every
browser all the same (the model form alone is a quarter of the models page's build, docs/architecture.md, "The
models page"). Built on first use, it goes where it would have gone at load (the slot the page was filling),
so it looks and behaves the same; after that the page keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from nicegui import context, ui

D = TypeVar("D", bound=ui.dialog)


class OnFirstUse(Generic[D]):
    def __init__(self, build: Callable[[], D]) -> None:
        self._build = build
        self._slot = context.slot  # the page's place for it, as the page is being built
        self._dialog: D | None = None

    def __call__(self) -> D:
        """The dialog, built now if this is its first use."""
        if self._dialog is None:
            with self._slot:
                self._dialog = self._build()
        return self._dialog
