"""Runner protocol messages (version 2): HTTP commands and their replies, WebSocket events.

Both sides validate with these models; an invalid message is logged and dropped. Every event
carries a sequence number per runner connection so a gap is noticed and repaired by a snapshot.
See docs/protocol.md for examples.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from protocol.config import ModelConfig
from protocol.status import ModelStatus

PROTOCOL_VERSION = 2  # 2: ProcessState.api_key, the proxy route to a model's server
MAX_FRAME_BYTES = 4 * 1024 * 1024  # a larger WebSocket frame is refused by both sides
LAST_LINES = 50


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- commands (HTTP POST bodies) and replies ---------------------------------------------------

class StartCommand(_Message):
    config: ModelConfig


class ModelCommand(_Message):
    """stop, restart and forget name the model by its uid."""

    uid: str = Field(pattern=r"^[0-9a-f]{32}$")


class CommandReply(_Message):
    accepted: bool
    reason: str | None = None


# ---- state carried by events -------------------------------------------------------------------

class MetricsSample(_Message):
    """Live figures of one llama-server; None where the server did not say."""

    at: datetime
    tokens_per_second: float | None = None
    prompt_tokens_per_second: float | None = None
    requests_processing: int | None = None
    requests_deferred: int | None = None
    busy_slots: int | None = None
    total_slots: int | None = None
    tokens_predicted_total: int | None = None
    prompt_tokens_total: int | None = None
    kv_cache_usage: float | None = None
    rss_bytes: int | None = None
    cpu_percent: float | None = None
    vram_bytes: int | None = None


class ProcessState(_Message):
    """What the runner knows of one supervised model."""

    uid: str
    name: str
    status: ModelStatus
    pid: int | None = None
    port: int | None = None
    started_at: datetime | None = None
    exit_code: int | None = None
    reason: str | None = None
    last_lines: list[str] = Field(default_factory=list)
    restarts: int = 0
    metrics: MetricsSample | None = None
    # The server's own key for this spawn: only the runner and the dashboard's gateway hold it.
    api_key: str | None = None


class GpuSample(_Message):
    index: int
    name: str
    utilization_percent: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    temperature_c: float | None = None
    power_watts: float | None = None


class HostSample(_Message):
    at: datetime
    cpu_percent: float
    ram_used_bytes: int
    ram_total_bytes: int
    disk_used_bytes: int | None = None
    disk_total_bytes: int | None = None
    gpus: list[GpuSample] = Field(default_factory=list)


class LogLine(_Message):
    at: datetime
    level: Literal["I", "W", "E", "D", "?"] = "?"
    text: str


class LogsReply(_Message):
    """GET /v1/logs/{uid}: the last lines the runner keeps for one model, oldest first."""

    uid: str
    lines: list[LogLine]


# ---- events (WebSocket frames, JSON) -----------------------------------------------------------

class _Event(_Message):
    seq: int = Field(ge=0)


class SnapshotEvent(_Event):
    type: Literal["snapshot"] = "snapshot"
    protocol: int = PROTOCOL_VERSION
    runner_id: str
    processes: list[ProcessState]
    host: HostSample | None = None


class StatusEvent(_Event):
    type: Literal["status"] = "status"
    process: ProcessState


class MetricsEvent(_Event):
    type: Literal["metrics"] = "metrics"
    uid: str
    sample: MetricsSample


class LogEvent(_Event):
    """Lines are batched per model so a chatty server costs few frames."""

    type: Literal["log"] = "log"
    uid: str
    lines: list[LogLine]


class HostEvent(_Event):
    type: Literal["host"] = "host"
    sample: HostSample


Event = Annotated[SnapshotEvent | StatusEvent | MetricsEvent | LogEvent | HostEvent, Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(frame: str | bytes) -> Event:
    """Validate one WebSocket frame; raises pydantic.ValidationError on anything malformed."""
    return EVENT_ADAPTER.validate_json(frame)
