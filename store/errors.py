"""The errors store actions raise: one base for the page to show, kinds for the API to answer with."""

from __future__ import annotations


class StoreError(Exception):
    """An action did not happen; the message is for the person who asked."""


class NotFound(StoreError):
    """No such model (or version of one)."""


class NotAllowed(StoreError):
    """Whoever asked may not do this (a viewer, a key without the manage scope)."""


class Conflict(StoreError):
    """The state of things stands in the way: a name taken, a model running, a change made since it was read."""


class Invalid(StoreError):
    """The values are not a valid configuration; `fields` says what is wrong with each."""

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields


class NotSaved(StoreError):
    """The database refused the change (a full disk, a read-only file...); nothing was changed."""


class NotReady(StoreError):
    """Not possible yet: what it needs is still on its way (the runner's list of flags, say); try again soon."""


class RestartNeeded(Conflict):
    """The change would alter how a running model was started: stop it first, or restart it with the change."""
