"""Importing configurations: what a file would do to the deck (the preview), which the deck then applies.

Each model the file describes gets an outcome: `new`; `change` (it replaces the model of the same name, or
of the same uid in ModelDeck's own export, and N fields differ, listed old and new); `unchanged`; `skip` or
`copy` (a model of that name exists and that was the choice); or `refused`, with the reason: a file outside
the model folders, a flag the allowlist refuses, an unknown key, a name listed twice... A model passes the
same checks as the form and the API (store.form_validation), flags against the runner's own catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from exchange import Candidate, ImportFile, UnreadableFile, read_import
from protocol import ModelConfig
from protocol.config import LAUNCH_FIELDS, Changes, differences, field_label, new_uid
from protocol.flags import FlagCatalog
from protocol.names import unique_name
from store.errors import Invalid, NotReady
from store.form_validation import validate_config

if TYPE_CHECKING:
    from store.deck import ModelDeck
    from store.model_state import ModelState


class Outcome(StrEnum):
    NEW = "new"
    CHANGE = "change"
    UNCHANGED = "unchanged"
    SKIP = "skip"
    COPY = "copy"
    REFUSED = "refused"


WRITTEN = frozenset({Outcome.NEW, Outcome.CHANGE, Outcome.COPY})


class OnConflict(StrEnum):
    """What to do with a model whose name exists already."""

    SKIP = "skip"
    REPLACE = "replace"
    COPY = "copy"  # imported under a new name ("X copy"), without its aliases


@dataclass(frozen=True)
class PlannedModel:
    source: str  # where the file describes it
    name: str
    outcome: Outcome
    reason: str = ""  # why it is refused, skipped or copied
    notes: tuple[str, ...] = ()  # what was left out or read differently
    config: ModelConfig | None = None  # what is written (new, change, copy)
    before: ModelConfig | None = None  # what it replaces (change, unchanged)
    changes: Changes = field(default_factory=dict)


@dataclass(frozen=True)
class ImportPlan:
    format: str
    notes: tuple[str, ...]
    models: tuple[PlannedModel, ...]
    on_conflict: OnConflict
    applied: bool = False

    @property
    def written(self) -> list[PlannedModel]:
        return [model for model in self.models if model.outcome in WRITTEN]

    def counts(self) -> dict[str, int]:
        return {outcome.value: sum(1 for m in self.models if m.outcome is outcome) for outcome in Outcome}

    def done(self) -> ImportPlan:
        return replace(self, applied=True)


def read_file(data: bytes, content_type: str | None, flags: FlagCatalog | None) -> ImportFile:
    """The models a file describes; Invalid when the file cannot be read, NotReady until the runner has said
    which flags its llama-server allows (an import is checked exactly as the runner will check it)."""
    if flags is None:
        raise NotReady("the runner has not said yet which flags its llama-server allows (it is starting or "
                       "reconnecting): try the import again in a moment")
    try:
        return read_import(data, content_type, flags)
    except UnreadableFile as exc:
        raise Invalid(str(exc), {"file": str(exc)}) from None


def _problems(errors: dict[str, str]) -> str:
    return "; ".join(f"{field_label(name)}: {message}" for name, message in errors.items())


class _Planner:
    """Plans each candidate in the file's order; a later one sees the names the earlier ones take."""

    def __init__(self, deck: ModelDeck, on_conflict: OnConflict) -> None:
        self.deck = deck
        self.on_conflict = on_conflict
        self.by_name = {state.name.casefold(): state for state in deck.models.values()}
        self.answering = {name.casefold(): state.uid for state in deck.models.values()
                          for name in state.config.names()}
        self.names = [state.name for state in deck.models.values()]
        self.in_file: set[str] = set()  # names and uids the file has planned so far
        self.ports: dict[int, str] = {}  # the fixed ports the file has planned so far, and whose they are

    def existing(self, candidate: Candidate) -> ModelState | None:
        uid = candidate.values.get("uid")
        by_uid = self.deck.models.get(uid) if isinstance(uid, str) else None
        return by_uid or self.by_name.get(candidate.name.casefold())

    async def plan(self, candidate: Candidate) -> PlannedModel:
        candidate.tidy_aliases()
        name = candidate.name or candidate.source
        if candidate.refused or name.casefold() in self.in_file:
            return _refused(candidate, candidate.refused or "the file lists this name twice")
        existing = self.existing(candidate)
        if existing is not None and self.on_conflict is OnConflict.SKIP:
            self.in_file.add(name.casefold())
            return PlannedModel(candidate.source, name, Outcome.SKIP, f"a model named {existing.name} exists",
                                tuple(candidate.notes))
        values, outcome = self._values(candidate, existing)
        config, problem = await self._checked(values)
        if config is None:
            return _refused(candidate, problem)
        self.in_file |= {config.name.casefold(), config.uid}
        self.names.append(config.name)
        self.answering |= {other.casefold(): config.uid for other in config.names()}
        if config.port is not None:
            self.ports[config.port] = config.name
        if existing is None or outcome is not Outcome.CHANGE:
            return PlannedModel(candidate.source, config.name, outcome, "", tuple(candidate.notes), config)
        return _replacing(candidate, existing, config)

    def _values(self, candidate: Candidate, existing: ModelState | None) -> tuple[dict[str, Any], Outcome]:
        """The values to check, with the identity the outcome gives them (a replacement keeps the model's)."""
        values = dict(candidate.values)
        if existing is not None and self.on_conflict is OnConflict.REPLACE:
            values.update(uid=existing.uid, created_at=existing.config.created_at)
            return values, Outcome.CHANGE
        if existing is not None:
            copy_name = unique_name(f"{candidate.name} copy", [*self.names, *self.in_file])
            values.update(uid=new_uid(), name=copy_name, port=None, autostart=False, aliases=[])
            candidate.notes.append(f"imported as {copy_name}: a model named {existing.name} exists (a copy gets "
                                   "no aliases, an automatic port and no autostart)")
            return values, Outcome.COPY
        if not isinstance(values.get("uid"), str) or values["uid"] in self.in_file:
            values["uid"] = new_uid()
        return values, Outcome.NEW

    async def _checked(self, values: dict[str, Any]) -> tuple[ModelConfig | None, str]:
        """The configuration, its family read from the file when the file does not say; or why it is refused."""
        if not values.get("family") and isinstance(values.get("model_path"), str):
            info = await self.deck.catalog.info(values["model_path"].strip())
            values["family"] = info.architecture if info else ""
        uid = values.get("uid")
        config, errors = validate_config(values, allowed_dirs=self.deck.catalog.allowed_dirs, name_taken=False,
                                         flags=self.deck.flags, port_problem=lambda port: self._port_problem(
                                             port, uid if isinstance(uid, str) else None))
        if config is None:
            return None, _problems(errors)
        for other in config.names():
            if self.answering.get(other.casefold(), config.uid) != config.uid:
                return None, f"another model already answers to {other!r}"
        return config, ""

    def _port_problem(self, port: int, uid: str | None) -> str | None:
        if port in self.ports:
            return f"Port {port} is already set for {self.ports[port]}, earlier in this file"
        return self.deck.port_problem(port, uid)


def _replacing(candidate: Candidate, existing: ModelState, config: ModelConfig) -> PlannedModel:
    """A model the file replaces: what changes, unless it runs and that would change how it started."""
    notes = tuple(candidate.notes)
    changes = differences(existing.config, config)
    if not changes:
        return PlannedModel(candidate.source, config.name, Outcome.UNCHANGED, "", notes, None, existing.config)
    launch = sorted(changes.keys() & LAUNCH_FIELDS)
    if existing.status.is_active and launch:
        return _refused(candidate, f"{existing.name} is {existing.status}, and this changes how it starts "
                                   f"({', '.join(launch)}): stop it first")
    return PlannedModel(candidate.source, config.name, Outcome.CHANGE, "", notes, config, existing.config, changes)


def _refused(candidate: Candidate, reason: str) -> PlannedModel:
    return PlannedModel(candidate.source, candidate.name or candidate.source, Outcome.REFUSED, reason,
                        tuple(candidate.notes))


async def plan_import(deck: ModelDeck, file: ImportFile, on_conflict: OnConflict) -> ImportPlan:
    planner = _Planner(deck, on_conflict)
    planned = [await planner.plan(candidate) for candidate in file.candidates]
    return ImportPlan(file.format, tuple(file.notes), tuple(planned), on_conflict)


def plan_summary(plan: ImportPlan) -> dict[str, Any]:
    """The preview as JSON (the API's answer), newest wording in one place."""
    return {
        "format": plan.format, "applied": plan.applied, "on_conflict": plan.on_conflict.value,
        "counts": plan.counts(), "notes": list(plan.notes),
        "models": [{"source": m.source, "name": m.name, "outcome": m.outcome.value, "reason": m.reason,
                    "notes": list(m.notes), "uid": _uid_of(m),
                    "changes": {name: {"old": old, "new": new} for name, (old, new) in m.changes.items()}}
                   for m in plan.models],
    }


def _uid_of(model: PlannedModel) -> str | None:
    config = model.config or model.before
    return config.uid if config is not None else None
