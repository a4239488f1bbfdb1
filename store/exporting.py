"""Exporting configurations: ModelDeck's versioned JSON document (exchange.document), without secrets."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

from exchange import export_document
from store.model_state import ModelState


def export_json(states: Iterable[ModelState]) -> tuple[str, bytes]:
    """(file name, document) for these models' configurations, in the deck's order as given."""
    now = datetime.now(UTC)
    document = export_document((state.config for state in states), now)
    return f"modeldeck-configurations-{now:%Y%m%d-%H%M%S}.json", json.dumps(document, indent=2).encode()
