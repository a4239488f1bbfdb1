"""The observable store: one bindable state object per model, and the actions that change them."""

from store.deck import ModelDeck, StoreError
from store.model_state import ModelState

__all__ = ["ModelDeck", "ModelState", "StoreError"]
