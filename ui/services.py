"""What every page is given: the store, the model catalog, the sign-in gate, the server's settings and the
gateway's activity log.

main.py builds one `Services` and hands it to each page module's `register(services)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auth.gate import Gate
from settings import Settings
from store import ModelDeck
from store.activity import Activity
from store.actor import Actor
from store.catalog import ModelCatalog


@dataclass(frozen=True)
class Services:
    deck: ModelDeck
    catalog: ModelCatalog
    gate: Gate
    settings: Settings
    activity: Activity = field(default_factory=Activity)  # the gateway's requests, for the Activity page

    def actor(self) -> Actor:
        """Who this browser's session belongs to; asked again at each action, so a session that ended
        meanwhile cannot act (StoreError: "your session has ended: sign in again")."""
        return self.gate.actor()
