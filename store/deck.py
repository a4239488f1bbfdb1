"""ModelDeck: the one owner of model state.

Every change to a ModelState happens here: in the actions the pages (and the gateway) call, and in
`apply`, which takes what the runner reports. A status changes only in `_transition`, checked against
the table of legal transitions (protocol.status); an illegal one is logged and ignored. What must
survive a restart is handed to the journal, which writes it behind in batches; an action's audit line
is written at once, in its own transaction. A failed write raises StoreError, whose message the page
shows, and leaves the store as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from nicegui import Event, binding
from pydantic import ValidationError

from db.model_record import ModelRecord
from db.writes import DatabaseWriteError, writing
from discovery import FitEstimate, FolderListing, FoundModel, ScanResult
from exchange import ImportFile
from protocol import ModelConfig, ModelStatus
from protocol.config import LAUNCH_FIELDS, differences, new_uid
from protocol.flags import FlagCatalog
from protocol.launch_check import LaunchRefused, launch_problem
from protocol.link import LinkState
from protocol.messages import (
    CommandReply,
    HostSample,
    LogLine,
    MetricsSample,
    PolicyCommand,
    ProcessState,
    SnapshotEvent,
)
from protocol.messages import Event as RunnerEvent
from protocol.names import unique_name
from protocol.units import format_duration
from protocol.versions import VersionAction
from store import audit, versions
from store.actor import SYSTEM, Actor
from store.catalog import ModelCatalog
from store.errors import Conflict, NotAllowed, NotFound, NotReady, NotSaved, RestartNeeded, StoreError
from store.importing import ImportPlan, OnConflict, plan_import
from store.journal import Journal
from store.llama_server import LlamaServer
from store.model_state import ModelState, StatusChange
from store.monitor import Monitor
from store.ports import HostPorts
from store.request_rates import RECOUNT_EVERY_S, RequestRates
from store.runner_control import NoRunner, RunnerControl

log = logging.getLogger(__name__)

LOG_LINES_KEPT = 2000  # per model, in memory; older lines are in the runner and the log history
RESTART_STOP_WAIT_S = 15.0  # a stop ends in SIGKILL at 10 s


@binding.bindable_dataclass
class RunnerLink:
    """How the dashboard's connection to its runner stands, for the header's indicator, and what that runner
    says of its llama-server (for the build's progress on every page)."""

    state: LinkState = LinkState.NOT_CONNECTED
    server: LlamaServer = field(default_factory=lambda: LlamaServer(NoRunner))
    lost_at: datetime | None = None  # when the link last went down (None: never up yet, or up now)

    @property
    def problem(self) -> str | None:
        """Why nothing the runner does can be known (or asked of it) now; None while connected."""
        if self.state is LinkState.CONNECTED:
            return None
        if self.lost_at is None:
            return "ModelDeck is not connected to the runner yet"
        return f"the runner is unreachable since {self.lost_at.astimezone():%H:%M:%S}"


class MayNotFit(Conflict):
    """The model will likely not fit in the memory free now; start it with `anyway=True` to go on."""

    def __init__(self, name: str, fit: FitEstimate) -> None:
        super().__init__(f"{name} may not fit: {fit.summary}")
        self.fit = fit


def _same_outcome(one: StatusChange, other: StatusChange) -> bool:
    return (one.status, one.exit_code, one.reason) == (other.status, other.exit_code, other.reason)


def _require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise NotAllowed(f"viewers cannot {what}")


@dataclass(frozen=True)
class BulkResult:
    """What one model of a bulk action came to: done, or why not (the others went ahead regardless)."""

    uid: str
    name: str
    done: bool
    message: str


class ModelDeck:
    def __init__(self, catalog: ModelCatalog | None = None, journal: Journal | None = None, *,
                 max_running: int | None = None, own_port: int | None = None,
                 host_ports: HostPorts | None = None) -> None:
        self.models: dict[str, ModelState] = {}
        self.max_running = max_running  # the most models ModelDeck runs at once of its own accord (None: no limit)
        self.own_port = own_port  # the web UI's port: no model may take it
        self.host_ports = host_ports  # the ports of the machine the models run on, when that is this one
        self.catalog = catalog or ModelCatalog(())  # no folders: no file is described, every start goes ahead
        self.flags: FlagCatalog | None = None  # the runner's llama-server flags, once it has said
        self.journal = journal or Journal()
        self.database = self.journal.health  # every write's outcome, once the lifespan reports them to it
        self.runner: RunnerControl = NoRunner()  # until linked_runner joins a runner
        self.link = RunnerLink(server=LlamaServer(lambda: self.runner))
        self.monitor = Monitor()  # host figures and totals, for the dashboard
        self.logs: dict[str, deque[LogLine]] = {}
        self.log_lines: Event[str, list[LogLine]] = Event()
        self.added: Event[ModelState] = Event()
        self.removed: Event[str] = Event()
        self.failed: Event[ModelState] = Event()  # a model went to error: a toast in every open browser
        # A refused command puts back what was, unless the runner has spoken of the model since (its word wins).
        self._guessed: dict[str, StatusChange] = {}
        self._waiters: dict[str, list[tuple[frozenset[ModelStatus], asyncio.Future[ModelState]]]] = {}
        self._figures_due: dict[str, MetricsSample] = {}
        # Configuration changes one at a time: a check (name free, not changed since read) holds until its write.
        self._config_writes = asyncio.Lock()
        self._stop_reasons: dict[str, str] = {}  # uid -> why ModelDeck stopped it, for its `stopped`
        self._idle_timers: dict[str, asyncio.TimerHandle] = {}
        self._unloading: set[asyncio.Task[None]] = set()
        self._on_change: list[asyncio.Future[None]] = []
        self.rates = RequestRates()
        self._recount: asyncio.TimerHandle | None = None

    # ---- reading ---------------------------------------------------------------------------

    async def load(self) -> None:
        """Fill the store from the database (at start)."""
        self.models = {}
        for record in await ModelRecord.all().order_by("name"):
            shown = StatusChange(record.status, record.exit_code, record.reason, tuple(record.last_lines))
            state = ModelState(
                config=record.to_config(), status=shown.status, exit_code=shown.exit_code, reason=shown.reason,
                last_lines=list(shown.last_lines), problem=shown.problem, unknown=self._unknown(shown.status))
            self._check_launch(state)
            self.models[record.uid] = state

    def in_order(self) -> list[ModelState]:
        return sorted(self.models.values(), key=lambda state: state.name.casefold())

    def get(self, uid: str) -> ModelState:
        try:
            return self.models[uid]
        except KeyError:
            raise NotFound("that model no longer exists") from None

    def launch_problem(self, config: ModelConfig) -> LaunchRefused | None:
        """Why this configuration cannot start with the runner's llama-server; None if it can, or if the
        runner has not said which flags it allows yet (then it answers at start)."""
        return None if self.flags is None else launch_problem(config, self.flags, self.catalog.allowed_dirs)

    def use_flags(self, catalog: FlagCatalog) -> None:
        """The runner said which flags its llama-server has and allows: every card says whether it can start."""
        self.flags = catalog
        for state in self.models.values():
            self._check_launch(state)

    def _check_launch(self, state: ModelState) -> None:
        problem = self.launch_problem(state.config)
        state.blocked = None if problem is None else str(problem)

    def name_taken(self, name: str, uid: str | None = None) -> bool:
        """Another model (not `uid`) already answers to this name, as its name or one of its aliases."""
        folded = name.casefold()
        return any(other.casefold() == folded for s in self.models.values() if s.uid != uid
                   for other in s.config.names())

    def _name_clash(self, config: ModelConfig) -> str | None:
        return next((name for name in config.names() if self.name_taken(name, config.uid)), None)

    def port_problem(self, port: int, uid: str | None = None) -> str | None:
        """Why the model `uid` (None: a new one) could not listen on this fixed port; None when it can, or when it
        is the port the model has already (checked when it was saved). Asked at save (the form, the API, imports,
        and `save` itself): a port that cannot work is said then, not found out at start."""
        saved = self.models.get(uid) if uid is not None else None
        if saved is not None and saved.config.port == port:
            return None
        if port == self.own_port:
            return f"Port {port} is ModelDeck's own port: choose another, or leave it empty for an automatic one"
        for state in self.models.values():
            if state.uid != uid and state.config.port == port:
                return f"Port {port} is already set for {state.name}"
        for state in self.models.values():
            if state.status.is_active and state.port == port:  # its own server holds it: that is no conflict
                return None if state.uid == uid else f"Port {port} is in use by {state.name}, which runs on it now"
        if self.host_ports is not None and self.host_ports.in_use(port):
            return f"Port {port} is in use by another program on this machine"
        return None

    async def settled(self) -> None:
        """Wait until no model is starting, running or stopping: the runner's last word on each has arrived
        (at shutdown, after the embedded runner stopped them). Wrap it in asyncio.timeout to bound the wait."""
        for state in [state for state in self.models.values() if state.status.is_active]:
            with contextlib.suppress(StoreError):  # deleted meanwhile: nothing left to wait for
                await self.reached(state.uid, ModelStatus.STOPPED, ModelStatus.ERROR)

    async def reached(self, uid: str, *statuses: ModelStatus) -> ModelState:
        """Wait until the model's status is one of `statuses` (at once if it is already); StoreError when the
        model is deleted meanwhile. Wrap it in asyncio.timeout to bound the wait."""
        state = self.get(uid)
        if state.status in statuses:
            return state
        future: asyncio.Future[ModelState] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(uid, [])
        waiters.append((frozenset(statuses), future))
        try:
            return await future
        finally:
            waiters[:] = [(wanted, waiting) for wanted, waiting in waiters if waiting is not future]

    async def changed(self) -> None:
        """Wait for the next change that may make room: any model's status, or its last request ending (or
        leaving the queue). Check what you wait for first, then call this without an await between."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._on_change.append(future)
        try:
            await future
        finally:
            if future in self._on_change:
                self._on_change.remove(future)

    def _wake_on_change(self) -> None:
        waiting, self._on_change = self._on_change, []
        for future in waiting:
            if not future.done():
                future.set_result(None)

    # ---- configuration actions -------------------------------------------------------------

    async def save(self, config: ModelConfig, *, actor: Actor, expected: datetime | None = None) -> ModelState:
        """Create a model, or update the one with this uid (a rename keeps its identity). `expected`: the
        `updated_at` the caller read; the save is refused (Conflict) if the model has changed since."""
        _require_admin(actor, "edit models")
        async with self._config_writes:
            state = await self._save(config, actor, expected=expected)
        await self._policy_now(state)
        return state

    async def _policy_now(self, state: ModelState) -> None:
        """A running model takes a changed restart policy at once (its runner holds the one it was started with);
        a runner that cannot (one before protocol 7) leaves it among the changes for the next start."""
        launched, saved = state.launched, state.config
        if launched is None or not state.status.is_active or (
                (launched.restart_policy, launched.restart_limit) == (saved.restart_policy, saved.restart_limit)):
            return
        # Shown as taken before the runner's answer, so the card never says "at the next start" for that round
        # trip; put back if the runner refuses (and was not restarted meanwhile).
        taken = state.launched = launched.model_copy(update={"restart_policy": saved.restart_policy,
                                                             "restart_limit": saved.restart_limit})
        reply = await self.runner.policy(PolicyCommand(uid=state.uid, restart_policy=saved.restart_policy,
                                                       restart_limit=saved.restart_limit))
        if not reply.accepted:
            log.info("%s keeps its restart policy until its next start: %s", state.name, reply.reason)
            if state.launched is taken:
                state.launched = launched

    async def _save(self, config: ModelConfig, actor: Actor, *, expected: datetime | None = None,
                    action: VersionAction | None = None, restored_from: int | None = None) -> ModelState:
        """The save itself (holding _config_writes): the row, its audit line and its version in one transaction."""
        if (clash := self._name_clash(config)) is not None:
            raise Conflict(f"a model named {clash!r} already exists (as a name or an alias)")
        state = self.models.get(config.uid)
        if config.port is not None and (problem := self.port_problem(config.port, config.uid)) is not None:
            raise Conflict(problem)
        if expected is not None and state is None:
            raise NotFound("that model no longer exists")
        if expected is not None and state is not None and state.config.updated_at != expected:
            raise Conflict(f"{state.name} was changed by someone else since you read it: read it again, then make "
                           "your change")
        before = state.config if state is not None else None
        changes = {} if before is None else differences(before, config)
        action = action or (VersionAction.CREATE if before is None else
                            VersionAction.RENAME if "name" in changes else VersionAction.EDIT)
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
                if before is None or changes:
                    await versions.record(actor, [(versions.NewVersion(config, action, changes, restored_from),
                                                   before)])
        except DatabaseWriteError as exc:
            raise NotSaved(f"{config.name} was not saved: {exc}") from exc
        saved = record.to_config()
        if state is None:
            state = ModelState(config=saved)
            self._check_launch(state)
            self.models[saved.uid] = state
            self.added.emit(state)
        else:
            idle_before, state.config = state.config.unload_when_idle_s, saved
            self._check_launch(state)
            if saved.unload_when_idle_s != idle_before:
                self._arm_idle(state)  # the new idle time counts from now
        return state

    async def duplicate(self, uid: str, *, actor: Actor) -> ModelState:
        """A stopped copy named "X copy" (or "X copy (2)", ...), with its own port chosen at start."""
        _require_admin(actor, "duplicate models")
        async with self._config_writes:
            source = self.get(uid).config
            name = unique_name(f"{source.name} copy", [state.name for state in self.models.values()])
            copy = source.model_copy(update={"uid": new_uid(), "name": name, "port": None, "autostart": False,
                                             "aliases": [], "created_at": None, "updated_at": None})
            return await self._save(copy, actor, action=VersionAction.DUPLICATE)

    async def delete(self, uid: str, *, actor: Actor, stop: bool = False) -> None:
        """Delete a model's configuration; refused (Conflict) while it runs, unless `stop`: then it is stopped
        first, and deleted once it has."""
        _require_admin(actor, "delete models")
        if stop:
            await self._stopped(uid, actor)
        async with self._config_writes:
            state = self.get(uid)
            if state.status.is_active:
                raise Conflict(f"stop {state.name} before deleting it")
            try:
                async with writing():
                    await ModelRecord.filter(uid=uid).delete()
                    await versions.forget(uid)
                    await audit.record(actor, "model.delete", state.name, f"uid {uid}")
            except DatabaseWriteError as exc:
                raise NotSaved(f"{state.name} was not deleted: {exc}") from exc
            del self.models[uid]
            self._disarm_idle(state)
            self.rates.forget(uid)
        for _, waiting in self._waiters.pop(uid, []):
            waiting.set_exception(StoreError(f"{state.name} was deleted"))
        self.removed.emit(uid)
        reply = await self.runner.forget(uid)  # else it stays in the runner's snapshot as stopped
        if not reply.accepted:
            log.info("the runner kept %s: %s", state.name, reply.reason)

    # ---- history, imports and many models at once ---------------------------------------------

    async def history(self, uid: str) -> list[versions.Version]:
        """Every version of a model's configuration, newest first."""
        self.get(uid)
        return await versions.history(uid)

    async def restore(self, uid: str, number: int, *, actor: Actor, restart: bool = False) -> ModelState:
        """Give a model the settings of one of its versions, as a new version. Refused (Conflict) while it runs
        if that changes how it starts, unless `restart`: then it is restarted with them."""
        _require_admin(actor, "restore versions")
        async with self._config_writes:
            state = self.get(uid)
            old = await versions.version(uid, number)
            try:
                config = ModelConfig.model_validate({**old.settings, "uid": uid,
                                                     "created_at": state.config.created_at})
            except ValidationError as exc:
                raise Conflict(f"version {number} cannot be restored: {exc.errors()[0]['msg']}") from None
            changes = differences(state.config, config)
            if not changes:
                raise Conflict(f"{state.name} already has the settings of version {number}")
            launch = sorted(changes.keys() & LAUNCH_FIELDS)
            running = bool(launch) and state.status.is_active
            if running and not restart:
                raise RestartNeeded(f"{state.name} is {state.status}, and version {number} changes how it starts "
                                    f"({', '.join(launch)}): stop it first, or restart it with that version")
            await self._save(config, actor, action=VersionAction.RESTORE, restored_from=number)
        if running:
            await self.restart(uid, actor=actor)
        return state

    async def import_file(self, file: ImportFile, on_conflict: OnConflict, *, actor: Actor,
                          apply: bool) -> ImportPlan:
        """What importing the file would do (the preview), and with `apply` do it: every model the plan writes,
        their audit lines and versions, in one transaction (all or nothing), then every browser shows them."""
        _require_admin(actor, "import models")
        async with self._config_writes:
            plan = await plan_import(self, file, on_conflict)
            written = plan.written
            if not apply or not written:
                return plan
            log.info("importing %d configurations", len(written))
            try:
                async with writing():
                    saved = await self._write_import(plan, actor)
            except DatabaseWriteError as exc:
                raise NotSaved(f"nothing was imported: {exc}") from exc
            for config in saved:
                state = self.models.get(config.uid)
                if state is None:
                    state = self.models[config.uid] = ModelState(config=config)
                    self._check_launch(state)
                    self.added.emit(state)
                else:
                    state.config = config
                    self._check_launch(state)
        await self.describe(*(config.uid for config in saved))
        return plan.done()

    @staticmethod
    async def _write_import(plan: ImportPlan, actor: Actor) -> list[ModelConfig]:
        written = plan.written
        created = [ModelRecord(**ModelRecord.config_values(m.config), **({"created_at": m.config.created_at}
                                                                         if m.config.created_at else {}))
                   for m in written if m.before is None and m.config is not None]  # an export's created_at is kept
        await ModelRecord.bulk_create(created)
        replaced = []
        for model in written:
            if model.before is not None and model.config is not None:
                record = await ModelRecord.get(uid=model.config.uid)
                await record.update_from_dict(ModelRecord.config_values(model.config)).save()
                replaced.append(record)
        await versions.record(actor, [(versions.NewVersion(m.config, VersionAction.IMPORT, m.changes), m.before)
                                      for m in written if m.config is not None])
        await audit.record_many(actor, "model.import", [(m.name, f"{m.outcome}; uid {m.config.uid}")
                                                        for m in written if m.config is not None])
        return [record.to_config() for record in (*created, *replaced)]

    async def restart(self, uid: str, *, actor: Actor) -> None:
        """Stop the model (if it runs), wait until it has stopped, start it with its configuration as it is now."""
        _require_admin(actor, "restart models")
        await self._stopped(uid, actor)
        await self.start(uid, actor=actor, anyway=True)

    async def _stopped(self, uid: str, actor: Actor) -> None:
        """Stop the model if it runs, and wait until it has stopped (Conflict when that takes too long)."""
        state = self.get(uid)
        if not state.status.is_active:
            return
        if state.status.can_stop:
            await self.stop(uid, actor=actor)
        try:
            async with asyncio.timeout(RESTART_STOP_WAIT_S):
                await self.reached(uid, ModelStatus.STOPPED, ModelStatus.ERROR)
        except TimeoutError:
            raise Conflict(f"{state.name} did not stop within {RESTART_STOP_WAIT_S:.0f} s") from None

    async def start_many(self, uids: Iterable[str], *, actor: Actor, anyway: bool = False) -> list[BulkResult]:
        return await self._each(uids, lambda uid: self.start(uid, actor=actor, anyway=anyway), "starting")

    async def stop_many(self, uids: Iterable[str], *, actor: Actor) -> list[BulkResult]:
        return await self._each(uids, lambda uid: self.stop(uid, actor=actor), "stopping")

    async def delete_many(self, uids: Iterable[str], *, actor: Actor) -> list[BulkResult]:
        return await self._each(uids, lambda uid: self.delete(uid, actor=actor), "deleted")

    async def _each(self, uids: Iterable[str], action: Callable[[str], Awaitable[None]],
                    done: str) -> list[BulkResult]:
        """The action for each model in turn; a refusal is that model's result and the others go ahead."""
        results = []
        for uid in dict.fromkeys(uids):
            state = self.models.get(uid)
            name = state.name if state is not None else uid
            try:
                await action(uid)
            except StoreError as exc:
                results.append(BulkResult(uid, name, False, str(exc)))
            else:
                results.append(BulkResult(uid, name, True, done))
        return results

    # ---- what the model files say ------------------------------------------------------------

    async def scan(self, listing: FolderListing | None = None) -> ScanResult:
        """Scan the model folders (`listing`: a look just taken), then describe every configured model from
        what they hold."""
        result = await self.catalog.scan(listing)
        await self.describe(*self.models)
        return result

    async def keep_scanning(self, every_s: float) -> None:
        """Scan now, then look at the folders every `every_s` and scan again when they changed, so Discover and
        the cards know a file copied in by itself. Runs until cancelled; a failing look is logged and retried."""
        changed: FolderListing | None = None
        scan_due = True
        while True:
            try:
                if scan_due:
                    await self.scan(changed)
                await asyncio.sleep(every_s)  # a pacing timer, not synchronisation
                changed = await self.catalog.look()
                scan_due = changed is not None
            except Exception:  # a folder that vanished, a database hiccup: the next look tries again
                log.exception("looking at the model folders failed")
                changed, scan_due = None, True
                await asyncio.sleep(every_s)

    async def describe(self, *uids: str) -> None:
        """Each model's metadata and its fit in the memory free now (after a save, a scan, before a start)."""
        states = [self.models[uid] for uid in uids if uid in self.models]
        if not states:
            return
        for state, (info, fit) in zip(states, await self.catalog.descriptions([s.config for s in states]),
                                      strict=True):
            state.info, state.fit = info, fit

    async def with_family(self, config: ModelConfig) -> ModelConfig:
        """The configuration, its family read from the model file when none is given."""
        if config.family:
            return config
        info = await self.catalog.info(config.model_path)
        return config.model_copy(update={"family": info.architecture if info else ""})

    def unconfigured(self) -> list[FoundModel]:
        """Models found in the folders that no configuration uses yet."""
        return self.catalog.unconfigured(state.config.model_path for state in self.models.values())

    def suggestion(self, found: FoundModel) -> ModelConfig:
        """A first configuration for a found file, named apart from every model here."""
        return self.catalog.suggestion(found, [state.name for state in self.models.values()])

    # ---- start and stop ----------------------------------------------------------------------

    async def start(self, uid: str, *, actor: Actor, anyway: bool = False) -> None:
        """Ask the runner to start a model; the card shows `starting` at once.

        Unless `anyway`, it first estimates whether the model fits in the memory free now and raises
        MayNotFit (with the estimate) when it may not: the page asks the person, the gateway may make room.
        """
        _require_admin(actor, "start models")
        state = self._startable(uid)
        self._require_link(state, "started")
        if not anyway:
            await self.describe(uid)
            state = self._startable(uid)  # another browser may have started it meanwhile
            if state.fit is not None and not state.fit.fits:
                raise MayNotFit(state.name, state.fit)
        launched = state.launched = state.config  # what the card shows until the next start
        state.port = None  # the last run's: the runner says which one this run listens on
        await self._command(state, ModelStatus.STARTING, lambda: self.runner.start(launched), actor)

    async def fits(self, uid: str) -> bool:
        """Whether the model may fit in the memory free now, by the estimate (True when there is none)."""
        await self.describe(uid)
        fit = self.get(uid).fit
        return fit is None or fit.fits

    async def stop(self, uid: str, *, actor: Actor, why: str | None = None) -> None:
        """Ask the runner to stop a model. `why`, when ModelDeck stops it of its own accord (idle, evicted), is
        said in the audit line and the model's log, and is the reason its card shows once it has stopped."""
        _require_admin(actor, "stop models")
        state = self.get(uid)
        if not state.status.can_stop:
            raise Conflict(f"{state.name} is not running")
        self._require_link(state, "stopped")
        if why is not None:
            self._stop_reasons[uid] = why
            self._logs_arrived(uid, [LogLine(at=datetime.now(UTC), level="I", text=f"ModelDeck: stopping it: {why}")])
        await self._command(state, ModelStatus.STOPPING, lambda: self.runner.stop(uid), actor, why)

    def active(self) -> list[ModelState]:
        """The models that hold a server or are getting or losing one: what counts toward `max_running`."""
        return [state for state in self.models.values() if state.status.is_active]

    async def autostart(self) -> None:
        """Start every model marked autostart that is not already running (configured so: no fit question), as
        many as `max_running` allows: they count toward it like any other."""
        for state in self.in_order():
            if state.config.autostart and state.status.can_start:
                if self.max_running is not None and len(self.active()) >= self.max_running:
                    log.warning("autostart: %s not started: at most %d models run at once", state.name,
                                self.max_running)
                    continue
                try:
                    await self.start(state.uid, actor=SYSTEM, anyway=True)
                except StoreError as exc:
                    log.warning("autostart: %s", exc)

    def _require_link(self, state: ModelState, done: str) -> None:
        """Refuse before anything changes: a command nobody can receive would only guess a status."""
        if (problem := self.link.problem) is not None:
            raise NotReady(f"{state.name} cannot be {done} now: {problem}")

    def _startable(self, uid: str) -> ModelState:
        state = self.get(uid)
        if not state.status.can_start:
            raise Conflict(f"{state.name} is already {state.status}")
        if state.blocked:  # the runner would refuse it: say why before any fit question
            raise Conflict(f"{state.name} cannot start: {state.blocked}")
        return state

    async def _command(self, state: ModelState, pending: ModelStatus,
                       send: Callable[[], Awaitable[CommandReply]], actor: Actor, why: str | None = None) -> None:
        """Show `pending` before any await (a second click is refused), write the audit line, send the command;
        the journal keeps `pending` once the audit line is written. A refusal puts back what was."""
        before = StatusChange.shown_by(state)
        guess = StatusChange(pending)
        self._transition(state, guess, persist=False)
        self._guessed[state.uid] = before
        try:
            async with writing():
                await audit.record(actor, f"model.{pending.value}", state.name,
                                   f"uid {state.uid}" + (f" · {why}" if why else ""))
        except DatabaseWriteError as exc:
            self._put_back(state, persist=False)
            done = "started" if pending is ModelStatus.STARTING else "stopped"
            raise NotSaved(f"{state.name} was not {done}: {exc}") from exc
        if state.uid in self._guessed:  # the runner has not spoken of it meanwhile
            self.journal.status(state.uid, guess)
        reply = await send()
        if not reply.accepted:
            self._put_back(state)
            raise StoreError(f"{state.name}: {reply.reason or 'the runner refused'}")
        self._guessed.pop(state.uid, None)  # accepted: what follows is the runner's to say

    def _put_back(self, state: ModelState, *, persist: bool = True) -> None:
        self._stop_reasons.pop(state.uid, None)
        before = self._guessed.pop(state.uid, None)
        if before is not None:
            self._transition(state, before, persist=persist)

    # ---- the one place a status changes ----------------------------------------------------

    def _transition(self, state: ModelState, change: StatusChange, *, resync: bool = False,
                    persist: bool = True) -> bool:
        """Show `change` if it may follow the model's status (`resync`: a snapshot, the runner's whole truth,
        follows anything); hand the journal what changed in the row, and a crash row for a new crash."""
        before = StatusChange.shown_by(state)
        if not (resync or before.status.may_become(change.status)):
            log.warning("%s: ignored %s -> %s, not a transition a model makes", state.name, before.status,
                        change.status)
            return False
        if change == before:
            return True
        if change.is_crash and not _same_outcome(change, before):  # a snapshot repeats the crash shown
            self.journal.crash(state.uid, datetime.now(UTC), change)
        state.status = change.status
        state.exit_code = change.exit_code
        state.reason = change.reason
        state.last_lines = list(change.last_lines)
        state.restart = change.restart
        state.problem = change.problem
        if persist:
            self.journal.status(state.uid, change)
        if change.status is not before.status:
            if change.status is ModelStatus.RUNNING:
                state.last_used = datetime.now(UTC)
                self._arm_idle(state)
            else:
                state.figures = None
                self._disarm_idle(state)
            self.monitor.recount(self.models.values())
            if change.status is ModelStatus.ERROR:
                self.failed.emit(state)
            self._wake_waiters(state)
            self._wake_on_change()
        return True

    def _wake_waiters(self, state: ModelState) -> None:
        for wanted, waiting in self._waiters.get(state.uid, []):
            if state.status in wanted and not waiting.done():
                waiting.set_result(state)

    # ---- the link to the runner -------------------------------------------------------------

    def link_changed(self, link: LinkState) -> None:
        """The feed's word on the connection. While it is down, every card says that its status is only the
        last known one, and since when; a reconnect's snapshot then brings the truth."""
        if link is self.link.state:
            return  # the feed repeats itself at every try
        was_connected = self.link.state is LinkState.CONNECTED
        self.link.state = link
        if link is LinkState.CONNECTED:
            self.link.lost_at = None
        elif was_connected:
            self.link.lost_at = datetime.now(UTC)
        for state in self.models.values():
            state.unknown = self._unknown(state.status)

    def _unknown(self, status: ModelStatus) -> str | None:
        problem = self.link.problem
        return None if problem is None else f"state unknown: {problem}; last known: {status}"

    # ---- the gateway's traffic ---------------------------------------------------------------

    def request_queued(self, uid: str) -> None:
        """A request waits for the model to start (or for room to start it)."""
        state = self.get(uid)
        state.waiting += 1

    def request_unqueued(self, uid: str) -> None:
        """A waiting request left without being admitted (its client went, or the start failed)."""
        state = self.models.get(uid)
        if state is not None:
            state.waiting -= 1
            if not state.waiting:
                self._wake_on_change()  # nobody waits for it any more: it may be evicted

    def request_admitted(self, uid: str, *, queued: bool) -> None:
        """A request is forwarded to the model's server: in flight until `request_ended`. While one is, the model
        is never evicted nor unloaded."""
        state = self.get(uid)
        if queued:
            state.waiting -= 1
        state.in_flight += 1  # while it is, the model is no candidate: its last use is when its last request ended
        self._disarm_idle(state)

    def request_ended(self, uid: str) -> None:
        state = self.models.get(uid)
        if state is None:
            return
        loop = asyncio.get_running_loop()
        self.rates.ended(uid, loop.time())
        if self._recount is None:
            self._recount = loop.call_later(RECOUNT_EVERY_S, self._recount_rates)
        state.in_flight -= 1
        state.last_used = datetime.now(UTC)
        if not state.in_flight:
            self._arm_idle(state)
            self._wake_on_change()

    def _recount_rates(self) -> None:
        loop = asyncio.get_running_loop()
        for uid, count in self.rates.recount(loop.time()).items():
            state = self.models.get(uid)
            if state is not None and state.requests_per_minute != count:
                state.requests_per_minute = count
        self._recount = loop.call_later(RECOUNT_EVERY_S, self._recount_rates) if self.rates else None

    def _arm_idle(self, state: ModelState) -> None:
        """Count down to unloading a running model with nothing in flight, if its configuration says so."""
        self._disarm_idle(state)
        idle_s = state.config.unload_when_idle_s
        if idle_s is None or state.status is not ModelStatus.RUNNING or state.in_flight:
            return
        state.unload_at = datetime.now(UTC) + timedelta(seconds=idle_s)
        self._idle_timers[state.uid] = asyncio.get_running_loop().call_later(idle_s, self._idle_over, state.uid)

    def _disarm_idle(self, state: ModelState) -> None:
        timer = self._idle_timers.pop(state.uid, None)
        if timer is not None:
            timer.cancel()
        if state.unload_at is not None:
            state.unload_at = None

    def _idle_over(self, uid: str) -> None:
        self._idle_timers.pop(uid, None)
        state = self.models.get(uid)
        if state is None or state.status is not ModelStatus.RUNNING or state.in_flight or state.waiting:
            return
        idle_s = state.config.unload_when_idle_s
        task = asyncio.create_task(self._unload(uid, f"idle: no request for {format_duration(idle_s)}"),
                                   name=f"unload {state.name}")
        self._unloading.add(task)
        task.add_done_callback(self._unloading.discard)

    async def _unload(self, uid: str, why: str) -> None:
        try:
            await self.stop(uid, actor=SYSTEM, why=why)
        except StoreError as exc:  # deleted meanwhile, or the runner refused: the card says so
            log.warning("idle unload: %s", exc)

    # ---- what the runner reports (the live feed calls `apply` for each event, in order) ---------

    def apply(self, event: RunnerEvent) -> None:
        # Metrics come first and by their tag: this runs for every event of a busy feed.
        if event.type == "metrics":
            self._figures_arrived(event.uid, event.sample)
        elif event.type == "log":
            self._logs_arrived(event.uid, event.lines)
        elif event.type == "host":
            self._host_arrived(event.sample)
        elif event.type == "status":
            self._process_reported(event.process)
        elif event.type == "server":
            self.link.server.arrived(event.info)
        else:
            self._snapshot(event)

    def _snapshot(self, snapshot: SnapshotEvent) -> None:
        self.link.server.arrived(snapshot.server)
        if snapshot.host is not None:
            self._host_arrived(snapshot.host)
        known = set()
        for process in snapshot.processes:
            known.add(process.uid)
            self._process_reported(process, resync=True)
        for state in self.models.values():
            if state.uid in known:
                continue
            # After a runner restart it no longer knows this model: it is not running, whatever we last saw,
            # and no restart of it is pending.
            if state.status.is_active:
                self._guessed.pop(state.uid, None)
                self._transition(state, StatusChange(ModelStatus.STOPPED))
            elif state.restart is not None:  # the row never held it: nothing to write
                self._transition(state, replace(StatusChange.shown_by(state), restart=None), persist=False)

    def _process_reported(self, process: ProcessState, *, resync: bool = False) -> None:
        state = self.models.get(process.uid)
        if state is None:
            return  # a model another dashboard configured, or one deleted here meanwhile
        self._guessed.pop(process.uid, None)
        change = StatusChange(process.status, process.exit_code, process.reason, tuple(process.last_lines),
                              process.restart)
        if process.status is not ModelStatus.STOPPING and (why := self._stop_reasons.pop(process.uid, None)):
            if change.status is ModelStatus.STOPPED and change.reason is None:
                change = replace(change, reason=why)  # the runner stopped it as asked; ModelDeck says why it asked
        if not self._transition(state, change, resync=resync):
            return
        state.port, state.pid, state.placement = process.port, process.pid, process.placement
        state.server_key = process.api_key
        if resync and process.metrics is not None:  # a status event repeats the sample its metrics event brought
            self._figures_arrived(process.uid, process.metrics)

    def _figures_arrived(self, uid: str, sample: MetricsSample) -> None:
        if uid not in self.models:
            return
        if not self._figures_due:
            asyncio.get_running_loop().call_soon(self._show_figures)
        self._figures_due[uid] = sample
        self.journal.sample(uid, sample)

    def _show_figures(self) -> None:
        """The latest sample of each model, once per turn of the event loop.

        A frame usually carries one sample and is shown on the very next turn; in a burst, the
        browsers get the newest figures once instead of every intermediate one (every sample is
        still written to the history).
        """
        due, self._figures_due = self._figures_due, {}
        for uid, sample in due.items():
            state = self.models.get(uid)
            if state is not None and state.status is ModelStatus.RUNNING:
                before, state.figures = state.figures, sample
                self.monitor.model_arrived(uid, before, sample)

    def _host_arrived(self, sample: HostSample) -> None:
        self.monitor.host_arrived(sample)
        self.journal.host_sample(sample)

    def _logs_arrived(self, uid: str, lines: list[LogLine]) -> None:
        self.logs.setdefault(uid, deque(maxlen=LOG_LINES_KEPT)).extend(lines)
        self.log_lines.emit(uid, lines)
        if uid in self.models:
            self.journal.log_lines(uid, lines)
