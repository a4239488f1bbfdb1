"""Room for a model about to start on demand: the running-models limit and the fit estimate.

When a start would pass `deck.max_running`, or the model may not fit in the memory free beside what runs,
the least recently used model with no request in flight and none waiting is stopped first, then the check
runs again. A model with requests in flight is never stopped; while every candidate is busy, the start
waits for the next change (a last request ending, a model stopping) and never polls.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from protocol import ModelStatus
from store import ModelDeck, ModelState
from store.actor import Actor

STOPPED = (ModelStatus.STOPPED, ModelStatus.ERROR)
FAR_PAST = datetime.min.replace(tzinfo=UTC)


class Room:
    def __init__(self, deck: ModelDeck) -> None:
        self.deck = deck

    async def make_for(self, state: ModelState, actor: Actor) -> None:
        """Return once `state` may start (or has been started by someone else meanwhile), stopping the least
        recently used idle models first; `actor` is named in their audit lines."""
        deck = self.deck
        while state.status.can_start:
            others = [other for other in deck.active() if other is not state]
            if not others:
                return  # nothing to make room from: it starts as it is (the card says whether it may not fit)
            limit = deck.max_running
            if limit is not None and len(others) >= limit:
                why = f"evicted: room for {state.name} (at most {limit} running at once)"
            elif await deck.fits(state.uid):
                return
            elif not state.status.can_start or not any(other.status.is_active for other in others):
                continue  # while it estimated, someone started it, or the others stopped: look again
            else:
                why = f"evicted: room for {state.name} (it may not fit beside it)"
            victim = least_recently_used(others)
            if victim is None:
                await deck.changed()  # every candidate busy or on its way: wait for one, first come first served
                continue
            # Goes ahead whoever leaves. A refusal (the runner out of reach, say) fails this start with its reason.
            await asyncio.shield(deck.stop(victim.uid, actor=actor, why=why))
            await deck.reached(victim.uid, *STOPPED)


def least_recently_used(models: list[ModelState]) -> ModelState | None:
    """The running model that was used longest ago with no request in flight or waiting; None if all are busy."""
    idle = [state for state in models if state.status is ModelStatus.RUNNING and not state.in_flight
            and not state.waiting]
    return min(idle, key=lambda state: state.last_used or FAR_PAST, default=None)
