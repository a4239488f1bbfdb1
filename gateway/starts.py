"""On-demand starts: a request for a model that is not running starts it, the way the card's Start does.

The start goes through the deck's own action (every browser sees `starting`, the audit log names the
key that asked). Requests that arrive while a model starts join that start: the deck turns the status
to `starting` before its first await, so only the first request finds it startable. Waiting is on
the deck's `status_applied` event, never on a poll.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from protocol import ModelStatus
from store import ModelDeck, ModelState, StoreError
from store.actor import Actor


class StartFailed(Exception):
    """The model did not come up; the message is the reason its card shows."""


class OnDemandStarts:
    def __init__(self, deck: ModelDeck) -> None:
        self.deck = deck
        self._changes: defaultdict[str, list[asyncio.Future[None]]] = defaultdict(list)
        self._commands: dict[str, asyncio.Task[None]] = {}  # uid -> the start command being sent
        deck.status_applied.subscribe(self._status_applied)

    def _status_applied(self, state: ModelState) -> None:
        for future in self._changes.pop(state.uid, ()):
            if not future.done():
                future.set_result(None)

    async def changed(self, uid: str) -> None:
        """Return at the next status the deck applies to this model."""
        future = asyncio.get_running_loop().create_future()
        self._changes[uid].append(future)
        await future

    async def running(self, state: ModelState, actor: Actor) -> None:
        """Return once the model runs, starting it if it is stopped (or in error); raise StartFailed if it ends
        up stopped or in error instead. A model that is stopping is started again once it has stopped."""
        asked = False  # started by us, or joined a start in progress
        while (status := state.status) is not ModelStatus.RUNNING:
            if status.can_start:
                if asked:
                    raise StartFailed(state.problem or f"{state.name} stopped before it was ready")
                asked = True
                try:
                    await asyncio.shield(self._start(state, actor))
                except StoreError as exc:
                    raise StartFailed(str(exc)) from exc
                continue
            asked = asked or status is ModelStatus.STARTING
            await self.changed(state.uid)

    def _start(self, state: ModelState, actor: Actor) -> asyncio.Task[None]:
        """The one start command for this model, in a task of its own: requests that came before it turned the
        status to `starting` join it, and a client that gives up cannot cut it off between deck and runner."""
        command = self._commands.get(state.uid)
        if command is None:
            command = self._commands[state.uid] = asyncio.ensure_future(self.deck.start(state.uid, actor=actor))
            command.add_done_callback(lambda done: self._sent(state.uid, done))
        return command

    def _sent(self, uid: str, command: asyncio.Task[None]) -> None:
        del self._commands[uid]
        if not command.cancelled():
            command.exception()  # a refusal nobody waits for any more is no error to log: the card shows it

    async def ended(self, state: ModelState, within: float) -> bool:
        """Wait (at most `within` seconds) for a model to leave `running`; True once it has."""
        try:
            async with asyncio.timeout(within):
                while state.status is ModelStatus.RUNNING:
                    await self.changed(state.uid)
        except TimeoutError:
            return False
        return True
