"""On-demand starts: a request for a model that is not running starts it, the way the card's Start does.

The start goes through the deck's own action (every browser sees `starting`, the audit log names the
key that asked). Requests that arrive while a model starts join that start: the deck shows `starting`
before its first await, and the one start per model runs in a task of its own that requests arriving before
it join. Those tasks take turns, first come first served: each makes room (gateway/room.py), then starts its
model. Waiting is on the deck's `reached` and `changed`, never on a poll.
"""

from __future__ import annotations

import asyncio

from gateway.room import Room
from protocol import ModelStatus
from store import ModelDeck, ModelState, StoreError
from store.actor import Actor

ENDED = (ModelStatus.STOPPING, ModelStatus.STOPPED, ModelStatus.ERROR)


class StartFailed(Exception):
    """The model did not come up; the message is the reason its card shows."""


class OnDemandStarts:
    def __init__(self, deck: ModelDeck) -> None:
        self.deck = deck
        self.room = Room(deck)
        self._commands: dict[str, asyncio.Task[None]] = {}  # uid -> its start: making room, then the command
        self._turns = asyncio.Lock()  # FIFO: one start at a time makes room and sends its command

    async def running(self, state: ModelState, actor: Actor) -> None:
        """Return once the model runs, starting it if it is stopped (or in error); raise StartFailed if it ends
        up stopped or in error instead. A model that is stopping is started again once it has stopped."""
        asked = False  # started by us, or joined a start in progress
        try:
            while (status := state.status) is not ModelStatus.RUNNING:
                if status.can_start:
                    if asked:
                        raise StartFailed(state.problem or f"{state.name} stopped before it was ready")
                    asked = True
                    await asyncio.shield(self._start(state, actor))
                    continue
                asked = asked or status is ModelStatus.STARTING
                await self.deck.reached(state.uid, *(other for other in ModelStatus if other is not status))
        except StoreError as exc:  # refused by the deck or the runner, or deleted meanwhile
            raise StartFailed(str(exc)) from exc

    def _start(self, state: ModelState, actor: Actor) -> asyncio.Task[None]:
        """The one start of this model, in a task of its own: requests that came before it turned the status to
        `starting` join it, and a client that gives up cannot cut it off between deck and runner."""
        command = self._commands.get(state.uid)
        if command is None:
            command = asyncio.ensure_future(self._make_room_and_start(state, actor))
            self._commands[state.uid] = command
            command.add_done_callback(lambda done: self._sent(state.uid, done))
        return command

    async def _make_room_and_start(self, state: ModelState, actor: Actor) -> None:
        """In turn, first come first served: room first, then the start, `anyway` (no fit question: nobody is
        there to answer one, and the room made is all there is)."""
        async with self._turns:
            await self.room.make_for(state, actor)
            if state.status.can_start:  # not started by someone else while room was made
                await asyncio.shield(self.deck.start(state.uid, actor=actor, anyway=True))

    def abandon(self, state: ModelState) -> None:
        """Nobody waits for this model any more: a start still waiting for its turn or for room is dropped (one
        whose command went out goes on)."""
        command = self._commands.pop(state.uid, None)
        if command is not None:
            command.cancel()

    def _sent(self, uid: str, command: asyncio.Task[None]) -> None:
        if self._commands.get(uid) is command:
            del self._commands[uid]
        if not command.cancelled():
            command.exception()  # a refusal nobody waits for any more is no error to log: the card shows it

    async def ended(self, state: ModelState, within: float) -> bool:
        """Wait (at most `within` seconds) for a model to leave `running`; True once it has."""
        try:
            async with asyncio.timeout(within):
                await self.deck.reached(state.uid, *ENDED)
        except (TimeoutError, StoreError):
            return False
        return True
