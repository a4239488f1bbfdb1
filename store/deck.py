"""ModelDeck: the single in-memory truth for the UI, written through to SQLite on every change.

The store changes only through these actions (called by the UI) and through the live-sync task
applying runner events. A failed database write leaves the store as it was and raises StoreError,
whose message the page shows.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from nicegui import Event, binding

from db.model_record import ModelRecord
from db.writes import DatabaseWriteError, writing
from protocol import ModelConfig, ModelStatus
from protocol.config import new_uid
from protocol.messages import CommandReply, LogLine
from store import audit
from store.actor import SYSTEM, Actor
from store.errors import StoreError
from store.llama_server import LlamaServer
from store.model_state import ModelState
from store.monitor import Monitor
from store.runner_control import NoRunner, RunnerControl

log = logging.getLogger(__name__)

LOG_LINES_KEPT = 2000  # per model, in memory; older lines are in the runner and the log history


@binding.bindable_dataclass
class RunnerLink:
    """How the dashboard's connection to its runner stands, for the header's indicator, and what that runner
    says of its llama-server (for the build's progress on every page)."""

    state: str = "not connected"  # "connected", "reconnecting" or "not connected"
    server: LlamaServer = field(default_factory=lambda: LlamaServer(NoRunner))


@binding.bindable_dataclass
class DatabaseHealth:
    """Why background writes are failing right now (None: they are not), for a banner on every page."""

    problem: str | None = None


@dataclass(frozen=True)
class StatusChange:
    status: ModelStatus
    exit_code: int | None = None
    reason: str | None = None
    last_lines: tuple[str, ...] = ()


def _problem_line(change: StatusChange) -> str | None:
    if change.status is ModelStatus.STARTING or (change.exit_code is None and not change.reason):
        return None  # a starting model's reason says what it waits for: no problem
    code = "" if change.exit_code is None else f"exit code {change.exit_code}"
    return " · ".join(part for part in (code, change.reason) if part)


def _require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise StoreError(f"viewers cannot {what}")


class ModelDeck:
    def __init__(self) -> None:
        self.models: dict[str, ModelState] = {}
        self.runner: RunnerControl = NoRunner()  # until linked_runner joins a runner
        self.link = RunnerLink(server=LlamaServer(lambda: self.runner))
        self.database = DatabaseHealth()
        self.monitor = Monitor()  # host figures and totals, for the dashboard
        self.logs: dict[str, deque[LogLine]] = {}
        self.log_lines: Event[str, list[LogLine]] = Event()
        self.added: Event[ModelState] = Event()
        self.removed: Event[str] = Event()
        self.failed: Event[ModelState] = Event()  # a model went to error: a toast in every open browser
        # Every status the deck shows, at once (synchronously): the gateway's on-demand starts wait on it.
        self.status_applied: Event[ModelState] = Event()

    # ---- reading ---------------------------------------------------------------------------

    async def load(self) -> None:
        """Fill the store from the database (at start)."""
        self.models = {}
        for record in await ModelRecord.all().order_by("name"):
            state = ModelState(config=record.to_config())
            self._apply_status(state, StatusChange(record.status, record.exit_code, record.reason,
                                                   tuple(record.last_lines)))
            self.models[record.uid] = state

    def in_order(self) -> list[ModelState]:
        return sorted(self.models.values(), key=lambda state: state.name.casefold())

    def get(self, uid: str) -> ModelState:
        try:
            return self.models[uid]
        except KeyError:
            raise StoreError("that model no longer exists") from None

    def name_taken(self, name: str, uid: str | None = None) -> bool:
        """Another model (not `uid`) already answers to this name, as its name or one of its aliases."""
        folded = name.casefold()
        return any(other.casefold() == folded for s in self.models.values() if s.uid != uid
                   for other in s.config.names())

    def _name_clash(self, config: ModelConfig) -> str | None:
        return next((name for name in config.names() if self.name_taken(name, config.uid)), None)

    # ---- configuration actions -------------------------------------------------------------

    async def save(self, config: ModelConfig, *, actor: Actor) -> ModelState:
        """Create a model, or update the one with this uid (a rename keeps its identity)."""
        _require_admin(actor, "edit models")
        if (clash := self._name_clash(config)) is not None:
            raise StoreError(f"a model named {clash!r} already exists (as a name or an alias)")
        state = self.models.get(config.uid)
        values = ModelRecord.config_values(config)
        try:
            async with writing():
                if state is None:
                    record = await ModelRecord.create(**values)
                else:
                    record = await ModelRecord.get(uid=config.uid)
                    await record.update_from_dict(values).save()
                await audit.record(actor, "model.create" if state is None else "model.update", config.name,
                                   f"uid {config.uid}")
        except DatabaseWriteError as exc:
            raise StoreError(f"{config.name} was not saved: {exc}") from exc
        saved = record.to_config()
        if state is None:
            state = ModelState(config=saved)
            self.models[saved.uid] = state
            self.added.emit(state)
        else:
            state.config = saved
        return state

    async def duplicate(self, uid: str, *, actor: Actor) -> ModelState:
        """A stopped copy named "X copy" (or "X copy 2", ...), with its own port chosen at start."""
        _require_admin(actor, "duplicate models")
        source = self.get(uid).config
        name = f"{source.name} copy"
        number = 2
        while self.name_taken(name):
            name = f"{source.name} copy {number}"
            number += 1
        copy = source.model_copy(update={"uid": new_uid(), "name": name, "port": None, "autostart": False,
                                         "created_at": None, "updated_at": None})
        return await self.save(copy, actor=actor)

    async def delete(self, uid: str, *, actor: Actor) -> None:
        _require_admin(actor, "delete models")
        state = self.get(uid)
        if state.status.can_stop or state.status is ModelStatus.STOPPING:
            raise StoreError(f"stop {state.name} before deleting it")
        try:
            async with writing():
                await ModelRecord.filter(uid=uid).delete()
                await audit.record(actor, "model.delete", state.name, f"uid {uid}")
        except DatabaseWriteError as exc:
            raise StoreError(f"{state.name} was not deleted: {exc}") from exc
        del self.models[uid]
        self.removed.emit(uid)
        reply = await self.runner.forget(uid)  # else it stays in the runner's snapshot as stopped
        if not reply.accepted:
            log.info("the runner kept %s: %s", state.name, reply.reason)

    # ---- status ------------------------------------------------------------------------------

    async def set_status(self, uid: str, change: StatusChange, *, by: Actor | None = None) -> None:
        """Show a status at once and persist it (with an audit line when someone asked); roll back on failure."""
        state = self.get(uid)
        before = self._status_of(state)
        self._apply_status(state, change)
        try:
            async with writing():
                await ModelRecord.filter(uid=uid).update(
                    status=change.status, exit_code=change.exit_code, reason=change.reason,
                    last_lines=list(change.last_lines))
                if by is not None:
                    await audit.record(by, f"model.{change.status.value}", state.name, f"uid {uid}")
        except DatabaseWriteError as exc:
            self._apply_status(state, before)
            raise StoreError(f"the status of {state.name} was not saved: {exc}") from exc

    async def start(self, uid: str, *, actor: Actor) -> None:
        """Ask the runner to start a model; the card shows `starting` at once."""
        _require_admin(actor, "start models")
        state = self.get(uid)
        if not state.status.can_start:
            raise StoreError(f"{state.name} is already {state.status}")
        await self._command(state, StatusChange(ModelStatus.STARTING), lambda: self.runner.start(state.config), actor)

    async def stop(self, uid: str, *, actor: Actor) -> None:
        _require_admin(actor, "stop models")
        state = self.get(uid)
        if not state.status.can_stop:
            raise StoreError(f"{state.name} is not running")
        await self._command(state, StatusChange(ModelStatus.STOPPING), lambda: self.runner.stop(uid), actor)

    async def autostart(self) -> None:
        """Start every model marked autostart that is not already running."""
        for state in self.in_order():
            if state.config.autostart and state.status.can_start:
                try:
                    await self.start(state.uid, actor=SYSTEM)
                except StoreError as exc:
                    log.warning("autostart: %s", exc)

    async def _command(self, state: ModelState, pending: StatusChange,
                       send: Callable[[], Awaitable[CommandReply]], actor: Actor) -> None:
        before = self._status_of(state)
        await self.set_status(state.uid, pending, by=actor)  # shown before any await: a second click is refused
        reply = await send()
        if not reply.accepted:
            await self.set_status(state.uid, before)
            raise StoreError(f"{state.name}: {reply.reason or 'the runner refused'}")

    @staticmethod
    def _status_of(state: ModelState) -> StatusChange:
        return StatusChange(state.status, state.exit_code, state.reason, tuple(state.last_lines))

    def _apply_status(self, state: ModelState, change: StatusChange) -> None:
        state.status = change.status
        state.exit_code = change.exit_code
        state.reason = change.reason
        state.last_lines = list(change.last_lines)
        state.problem = _problem_line(change)
        if change.status is not ModelStatus.RUNNING:
            state.figures = None
        self.status_applied.emit(state)

    # ---- applying what the runner reports (called by the live-sync task) --------------------

    def show_status(self, uid: str, change: StatusChange) -> None:
        """Show a status the runner reported; the live-sync task persists it in its next batch."""
        state = self.models.get(uid)
        if state is not None:
            was = state.status
            self._apply_status(state, change)
            if change.status is ModelStatus.ERROR and was is not ModelStatus.ERROR:
                self.failed.emit(state)

    def logs_arrived(self, uid: str, lines: list[LogLine]) -> None:
        self.logs.setdefault(uid, deque(maxlen=LOG_LINES_KEPT)).extend(lines)
        self.log_lines.emit(uid, lines)

    def report_db_problem(self, problem: str | None) -> None:
        self.database.problem = problem  # a bindable field: an unchanged value reaches no browser

