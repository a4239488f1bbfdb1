"""Toasts on every page: a model that crashes or fails to start is announced in every open browser.

The page frame subscribes each page to the store's failure event, so the subscription dies with the
browser tab (a NiceGUI Event subscribed inside a page).
"""

from __future__ import annotations

from nicegui import Event, ui

from store.model_state import ModelState

CRASH_TOAST_S = 15  # long enough to read on a phone lying on the desk; the close button ends it sooner
FORM_WARNING_S = 3  # a note beside the form's own marked fields, not something to dismiss


def show_failure(state: ModelState) -> None:
    detail = f": {state.problem}" if state.problem else ""
    ui.notify(f"{state.name} stopped with an error{detail}", type="negative", multi_line=True,
              timeout=CRASH_TOAST_S * 1000, close_button="OK", position="bottom")


def form_warning(message: str) -> None:
    """Why a form was not saved, in brief: near the bottom (above the form's buttons on a phone, see ui/pwa.py),
    never over the fields, letting taps through to whatever is under it, and gone in a few seconds."""
    ui.notify(message, type="warning", position="bottom", timeout=FORM_WARNING_S * 1000, classes="form-warning")


def failure_toasts(failed: Event[ModelState]) -> None:
    """Inside a page: show a toast here whenever any model goes to `error` (`failed`: the store's event)."""

    def show_here(state: ModelState) -> None:
        # A function of this page's own: NiceGUI unsubscribes by identity when a client goes, so one shared
        # function would be unsubscribed for every page as soon as any one tab closed.
        show_failure(state)

    failed.subscribe(show_here)
