"""The one status vocabulary: stopped -> starting -> running -> stopping -> stopped, plus error,
and which status may follow which."""

from __future__ import annotations

from enum import StrEnum


class ModelStatus(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    ERROR = "error"

    @property
    def can_start(self) -> bool:
        return self in {ModelStatus.STOPPED, ModelStatus.ERROR}

    @property
    def can_stop(self) -> bool:
        return self in {ModelStatus.STARTING, ModelStatus.RUNNING}

    @property
    def is_active(self) -> bool:
        """A process exists or is being made or ended: what a runner that restarted cannot still have."""
        return self in {ModelStatus.STARTING, ModelStatus.RUNNING, ModelStatus.STOPPING}

    def may_become(self, following: ModelStatus) -> bool:
        """Whether `following` may come next; staying is always allowed (a second `starting` carries the
        pid and port, a snapshot repeats what is known)."""
        return following is self or following in _NEXT[self]


# What runner/process.py emits (a crash or a refused file is `error` from any live status; a restart after a
# crash is error -> starting; a clean exit of its own, or a stop while starting, ends in `stopped`), plus the
# dashboard's own: its optimistic starting / stopping, and putting back what was when a command is refused.
_NEXT: dict[ModelStatus, frozenset[ModelStatus]] = {
    ModelStatus.STOPPED: frozenset({ModelStatus.STARTING}),
    ModelStatus.STARTING: frozenset({ModelStatus.RUNNING, ModelStatus.STOPPING, ModelStatus.STOPPED,
                                     ModelStatus.ERROR}),
    ModelStatus.RUNNING: frozenset({ModelStatus.STOPPING, ModelStatus.STOPPED, ModelStatus.ERROR}),
    ModelStatus.STOPPING: frozenset({ModelStatus.STOPPED, ModelStatus.ERROR,
                                     ModelStatus.RUNNING, ModelStatus.STARTING}),  # these two: a stop refused
    ModelStatus.ERROR: frozenset({ModelStatus.STARTING, ModelStatus.STOPPED}),
}
