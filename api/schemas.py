"""What the management API answers with and takes, as pydantic models (they make its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from protocol import ModelConfig, ModelStatus
from protocol.versions import VersionAction
from store import ModelState
from store.deck import BulkResult
from store.versions import Version


class ModelView(ModelConfig):
    """A configuration (every field, `updated_at` being its version for a PUT) and how its model is doing now."""

    status: ModelStatus
    problem: str | None = None  # exit code and reason of the last error
    blocked: str | None = None  # why it cannot start with the runner's llama-server
    pid: int | None = None
    listening_port: int | None = None  # the port its server listens on now (automatic ports too)

    @classmethod
    def of(cls, state: ModelState) -> ModelView:
        return cls.model_construct(**dict(state.config), status=state.status, problem=state.problem,
                                   blocked=state.blocked, pid=state.pid, listening_port=state.port)


class StatusView(BaseModel):
    uid: str
    name: str
    status: ModelStatus

    @classmethod
    def of(cls, state: ModelState) -> StatusView:
        return cls(uid=state.uid, name=state.name, status=state.status)


class FieldChange(BaseModel):
    old: Any
    new: Any


class VersionView(BaseModel):
    number: int
    at: datetime
    actor: str
    action: VersionAction
    summary: str
    restored_from: int | None
    changes: dict[str, FieldChange]
    settings: dict[str, Any]  # the configuration after this change: what restoring it brings back

    @classmethod
    def of(cls, version: Version) -> VersionView:
        return cls(number=version.number, at=version.at, actor=version.actor, action=version.action,
                   summary=version.summary(), restored_from=version.restored_from, settings=version.settings,
                   changes={name: FieldChange(old=old, new=new) for name, (old, new) in version.changes.items()})


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["start", "stop", "delete"]
    uids: list[str] = Field(min_length=1, max_length=5000)
    anyway: bool = False  # start: also those that may not fit in the memory free now


class BulkResultView(BaseModel):
    uid: str
    name: str
    done: bool
    message: str

    @classmethod
    def of(cls, result: BulkResult) -> BulkResultView:
        return cls(uid=result.uid, name=result.name, done=result.done, message=result.message)


class BulkAnswer(BaseModel):
    results: list[BulkResultView]


class PlannedModelView(BaseModel):
    source: str
    name: str
    outcome: str
    reason: str
    notes: list[str]
    uid: str | None
    changes: dict[str, FieldChange]


class ImportAnswer(BaseModel):
    """The preview (`applied: false`) or what was done, model by model."""

    format: str
    applied: bool
    on_conflict: str
    counts: dict[str, int]
    notes: list[str]
    models: list[PlannedModelView]
