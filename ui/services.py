"""What every page is given: the store, the model catalog, the sign-in gate and the server's settings.

main.py builds one `Services` and hands it to each page module's `register(services)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from auth.gate import Gate
from settings import Settings
from store import ModelDeck
from store.actor import Actor
from store.catalog import ModelCatalog


@dataclass(frozen=True)
class Services:
    deck: ModelDeck
    catalog: ModelCatalog
    gate: Gate
    settings: Settings

    def actor(self) -> Actor:
        """Who this browser's session belongs to; asked again at each action, so a session that ended
        meanwhile cannot act (StoreError: "your session has ended: sign in again")."""
        return self.gate.actor()
