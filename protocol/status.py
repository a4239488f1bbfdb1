"""The one status vocabulary: stopped -> starting -> running -> stopping -> stopped, plus error."""

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
