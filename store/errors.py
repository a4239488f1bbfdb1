"""The one error store actions raise."""

from __future__ import annotations


class StoreError(Exception):
    """An action did not happen; the message is for the person who asked."""
