"""Which model a request is for: the configuration whose name or alias it names (ignoring case).

Names are looked up in an index that is rebuilt whenever it turns out stale (a hit whose model no
longer answers to that name, or a miss): a request costs one dict lookup however many models exist.
"""

from __future__ import annotations

from store import ModelDeck, ModelState

# The OpenAI-style routes the gateway forwards (all POST, the model named in the JSON body), as llama-server
# serves them; /v1/messages is its Anthropic-style route.
MODEL_ROUTES = frozenset({"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/rerank", "/v1/messages"})
MODELS_LIST = "/v1/models"
UPSTREAM_PREFIX = "/upstream/"


class ModelDirectory:
    def __init__(self, deck: ModelDeck) -> None:
        self.deck = deck
        self._index: dict[str, str] = {}  # folded name or alias -> uid

    def find(self, name: str) -> ModelState | None:
        folded = name.casefold()
        state = self._lookup(folded)
        if state is None:
            self._rebuild()
            state = self._lookup(folded)
        return state

    def _lookup(self, folded: str) -> ModelState | None:
        state = self.deck.models.get(self._index.get(folded, ""))
        if state is not None and any(name.casefold() == folded for name in state.config.names()):
            return state
        return None

    def _rebuild(self) -> None:
        self._index = {name.casefold(): state.uid for state in self.deck.models.values()
                       for name in state.config.names()}

    def names(self) -> list[str]:
        """Every model's name, for an error that says which exist."""
        return [state.name for state in self.deck.in_order()]


def split_upstream(path: str) -> tuple[str, str] | None:
    """"/upstream/tiny/props" -> ("tiny", "props"); None when no model is named."""
    model, _, rest = path[len(UPSTREAM_PREFIX):].partition("/")
    return (model, rest) if model else None
